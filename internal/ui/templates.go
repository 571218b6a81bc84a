package ui

import (
	"html/template"
	"slices"
	"strings"
	"time"
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
