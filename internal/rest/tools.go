package rest

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// toolView is a tool as an LLM framework reads it.
type toolView struct {
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	Method       string          `json:"method"`
	Tags         []string        `json:"tags"`
	InputSchema  json.RawMessage `json:"input_schema"`
	OutputSchema json.RawMessage `json:"output_schema"`
}

// policy reads ?methods=, ?tags= and ?modules= (comma-separated or
// repeated) as an MCP URL's config, with the same rules, and returns the
// config and the tools it allows.
func (a *API) policy(q url.Values) (tokens.Config, []string, error) {
	words := func(key string) []string {
		var out []string
		for _, v := range q[key] {
			for _, w := range strings.Split(v, ",") {
				if w = strings.TrimSpace(w); w != "" {
					out = append(out, w)
				}
			}
		}
		return out
	}
	inv := a.cat.Inventory()
	c, err := inv.Normalize(tokens.Config{Methods: words("methods"), Tags: words("tags"), Modules: words("modules")})
	if err != nil {
		var te *tokens.Error
		if errors.As(err, &te) { // the config's field names are the query's here
			allow := "methods and tags allow"
			if len(q["modules"]) > 0 {
				allow = "methods, tags and modules allow"
			}
			msg := strings.NewReplacer("config.methods", "methods", "config.tags", "tags", "config.modules", "modules",
				"config allows", allow).Replace(te.Message)
			return tokens.Config{}, nil, &tokens.Error{Code: te.Code, Message: msg, Err: err}
		}
		return tokens.Config{}, nil, err
	}
	return c, inv.Allowed(c), nil
}

func (a *API) handleListTools(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r, "methods", "tags", "modules")
	if err != nil {
		return err
	}
	if _, err := a.account(r.Context(), r.PathValue("id"), "the path's account id"); err != nil {
		return err
	}
	cfg, allowed, err := a.policy(q)
	if err != nil {
		return err
	}
	views := make([]toolView, 0, len(allowed))
	for _, name := range allowed {
		e, _ := a.cat.Lookup(name)
		views = append(views, toolView{
			Name: e.Name, Description: e.Description, Method: e.Method, Tags: e.Tags,
			InputSchema: e.InputSchemaFor(e.ModulesUnder(cfg)), OutputSchema: e.OutputSchema,
		})
	}
	writeEnvelope(w, views)
	return nil
}

func (a *API) handleCallTool(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r, "methods", "tags", "modules")
	if err != nil {
		return err
	}
	account, err := a.account(r.Context(), r.PathValue("id"), "the path's account id")
	if err != nil {
		return err
	}
	cfg, allowed, err := a.policy(q)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	e, ok := a.cat.Lookup(name)
	if !ok || !slices.Contains(allowed, name) {
		return notFoundf("no tool named %q here; GET /integrated-account/%s/tools lists the tools (with the same methods, tags and modules)", clip(name), account.ID)
	}
	raw, err := readArgs(w, r)
	if err != nil {
		return err
	}
	httpx.Annotate(r.Context(), "tool", e.Name)
	who := caller(r.Context(), "tools")
	who.Modules = cfg.Modules
	res := a.exec.Call(r.Context(), e, account, raw, who)
	if f := res.Failure; f != nil && f.Error.Code == tokens.CodeInvalidArgument {
		// Nothing reached Zoho: the arguments failed the tool's schema.
		return invalidf("invalid arguments for %s: %s", e.Name, f.Error.Message)
	}
	res.Quota.SetHeaders(w.Header())
	if res.Failure != nil {
		a.writeFailure(w, res, e.Method != tokens.MethodList)
		return nil
	}
	writeBody(w, res.Body)
	return nil
}

// readArgs reads a tool call's arguments: a JSON object of at most 1 MiB
// (an empty body is no arguments).
func readArgs(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > httpx.MaxBodyBytes {
		return nil, &tokens.Error{Code: tokens.CodeTooLarge, Message: "request body is over 1 MiB"}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &tokens.Error{Code: tokens.CodeTooLarge, Message: "request body is over 1 MiB", Err: err}
		}
		return nil, err
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return nil, nil
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, &tokens.Error{Code: tokens.CodeUnsupportedMediaType, Message: "Content-Type must be application/json"}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, invalidf("malformed JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
		}
		return nil, invalidf("the request body must be a JSON object of the tool's arguments")
	}
	if obj == nil {
		return nil, nil // null
	}
	return raw, nil
}
