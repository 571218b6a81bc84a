package ui

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// pageNames are the templates under templates/, each parsed with the
// layout.
var pageNames = []string{"signin", "problem", "confirm", "accounts", "account", "minted", "url", "connectlinks", "audit", "apitokens"}

var funcs = template.FuncMap{
	"dateTime": dateTime,
	"dateTimePtr": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return dateTime(*t)
	},
	"has":  func(list []string, s string) bool { return slices.Contains(list, s) },
	"join": strings.Join,
	"rate": rateText,
	// breakable lets a long identifier (a tool name) wrap after its
	// underscores and dots rather than anywhere or nowhere.
	"breakable": func(s string) template.HTML {
		r := strings.NewReplacer("_", "_<wbr>", ".", ".<wbr>")
		return template.HTML(r.Replace(template.HTMLEscapeString(s)))
	},
	// tail is the end of an id, to tell ids apart where the whole one
	// does not fit (UUIDv7s share their leading, time-based digits).
	"tail": func(id string) string {
		if len(id) <= 8 {
			return id
		}
		return "…" + id[len(id)-8:]
	},
}

// rateText is a rate limit in words for a page ("none" for nil).
func rateText(l *tokens.RateLimit) string {
	if l == nil || l.IsZero() {
		return "none"
	}
	calls := "calls"
	if l.Requests == 1 {
		calls = "call"
	}
	return fmt.Sprintf("%d %s per %d s", l.Requests, calls, l.PerSeconds)
}

func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/policy.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}
