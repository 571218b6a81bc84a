package route_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/route"
)

func noop(http.ResponseWriter, *http.Request) error { return nil }

func op(id string, params ...route.Param) []route.Operation {
	return []route.Operation{{ID: id, Summary: id, Params: params,
		Responses: []route.Response{{Status: 200, Description: "ok", Schema: route.String()}}}}
}

func group(routes ...route.Route) route.Group {
	return route.Group{Tag: "T", Scope: "s", What: "t endpoint", Prefixes: []string{"/t/"}, Routes: routes}
}

// TestDocumentRefusesInconsistentTables: a route without an operation, or
// an operation the route does not serve, fails the document (and so the
// server's start) with what is wrong.
func TestDocumentRefusesInconsistentTables(t *testing.T) {
	id := route.PathParam("id", "")
	tests := []struct {
		name  string
		g     route.Group
		wants string
	}{
		{"route without an operation", group(route.Route{Method: "GET", Path: "/t/x", Handle: noop}), "GET /t/x has no OpenAPI operation"},
		{"route without a handler", group(route.Route{Method: "GET", Path: "/t/x", Ops: op("x")}), "GET /t/x has no handler"},
		{"operation on a path the route does not serve", group(route.Route{Method: "GET", Path: "/t/{res}", Handle: noop,
			Ops: []route.Operation{{Path: "/t/a/b", ID: "a", Summary: "a"}}}), "GET /t/a/b is not served by route GET /t/{res}"},
		{"path parameter not declared", group(route.Route{Method: "GET", Path: "/t/{id}", Handle: noop, Ops: op("x")}), "path parameters [id], declared []"},
		{"path parameter declared but absent", group(route.Route{Method: "GET", Path: "/t/x", Handle: noop, Ops: op("x", id)}), "path parameters [], declared [id]"},
		{"operation id twice", group(
			route.Route{Method: "GET", Path: "/t/x", Handle: noop, Ops: op("x")},
			route.Route{Method: "GET", Path: "/t/y", Handle: noop, Ops: op("x")}), "operation id x is used twice"},
		{"operation without a summary", group(route.Route{Method: "GET", Path: "/t/x", Handle: noop, Ops: []route.Operation{{ID: "x"}}}), "needs an ID and a Summary"},
		{"same method and path twice", group(
			route.Route{Method: "GET", Path: "/t/{res}", Handle: noop, Ops: []route.Operation{{Path: "/t/a", ID: "a", Summary: "a"}, {Path: "/t/a", ID: "b", Summary: "b"}}}),
			"GET /t/a is documented twice"},
		{"undeclared schema", group(route.Route{Method: "GET", Path: "/t/x", Handle: noop, Ops: []route.Operation{{ID: "x", Summary: "x",
			Responses: []route.Response{{Status: 200, Description: "ok", Schema: route.Ref("Nope")}}}}}), "schemas Nope is referred to but not declared"},
		{"undeclared error answer", group(route.Route{Method: "GET", Path: "/t/x", Handle: noop, Ops: []route.Operation{{ID: "x", Summary: "x", Errors: []int{418}}}}),
			"responses E418 is referred to but not declared"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := route.Document(route.Spec{Title: "t", Version: "1", Errors: []route.Response{{Status: 401, Description: "x"}, {Status: 403, Description: "x"}}, Groups: []route.Group{tt.g}})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wants)
		})
	}
}

// TestDocumentOfAGroup: each operation of each route is in the document
// under its path, with the group's tag, its scope, the guard's 401, 403
// and 429, and the group's schemas; public routes need no token.
func TestDocumentOfAGroup(t *testing.T) {
	type item struct {
		ID   string    `json:"id"`
		At   time.Time `json:"at"`
		Tags []string  `json:"tags"`
		Note *string   `json:"note,omitempty" jsonschema:"A note."`
	}
	g := route.Group{Tag: "T", Scope: "things", Prefixes: []string{"/t/"}, Routes: []route.Route{
		{Method: "GET", Path: "/t/{res}", Handle: noop, Ops: []route.Operation{
			{Path: "/t/a", ID: "getA", Summary: "A", Responses: []route.Response{{Status: 200, Description: "ok", Schema: route.Ref("Item")}}},
			{Path: "/t/b", ID: "getB", Summary: "B", Errors: []int{404}},
		}},
	}, Schemas: map[string]*route.Schema{"Item": route.For[item]()}}
	public := route.Group{Tag: "P", Public: true, Routes: []route.Route{{Method: "GET", Path: "/p", Handle: noop, Ops: op("p")}}}
	b, err := route.Document(route.Spec{Title: "t", Version: "1", ServerURL: "https://x.example",
		Errors: []route.Response{{Status: 401, Description: "x"}, {Status: 403, Description: "x"}, {Status: 404, Description: "x"}, {Status: 429, Description: "x"}},
		Groups: []route.Group{g, public}})
	require.NoError(t, err)
	var doc struct {
		Servers []struct{ URL string }
		Paths   map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Description string
			Tags        []string
			Security    *[]any
			Responses   map[string]json.RawMessage
		}
		Components struct{ Schemas map[string]json.RawMessage }
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	assert.Equal(t, "https://x.example", doc.Servers[0].URL)
	a := doc.Paths["/t/a"]["get"]
	assert.Equal(t, "getA", a.OperationID)
	assert.Equal(t, []string{"T"}, a.Tags)
	assert.Equal(t, "Scope: things.", a.Description)
	assert.Nil(t, a.Security, "the document's API token applies")
	assert.ElementsMatch(t, []string{"200", "401", "403", "429"}, keys(a.Responses))
	assert.ElementsMatch(t, []string{"401", "403", "404", "429"}, keys(doc.Paths["/t/b"]["get"].Responses))
	p := doc.Paths["/p"]["get"]
	require.NotNil(t, p.Security)
	assert.Empty(t, *p.Security, "a public route needs no token")
	assert.ElementsMatch(t, []string{"200"}, keys(p.Responses))
	assert.JSONEq(t, `{"type":"object","additionalProperties":false,"required":["id","at","tags"],"properties":{
		"id":{"type":"string"},"at":{"type":"string","format":"date-time"},"tags":{"type":"array","items":{"type":"string"}},
		"note":{"type":["null","string"],"description":"A note."}}}`, string(doc.Components.Schemas["Item"]))
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestRegister: a guarded group runs its guard for every path under its
// prefixes, serves its routes, answers a JSON 404/405 for the rest and
// hands a handler's error to Fail; a public group's routes need nothing.
func TestRegister(t *testing.T) {
	boom := errors.New("boom")
	g := route.Group{Scope: "things", What: "thing endpoint", Prefixes: []string{"/t/"}, Routes: []route.Route{
		{Method: "GET", Path: "/t/ok", Handle: func(w http.ResponseWriter, r *http.Request) error { _, _ = w.Write([]byte("ok")); return nil }},
		{Method: "GET", Path: "/t/fail", Handle: func(http.ResponseWriter, *http.Request) error { return boom }},
	}}
	public := route.Group{Public: true, Routes: []route.Route{{Method: "GET", Path: "/p", Handle: func(w http.ResponseWriter, r *http.Request) error {
		_, _ = w.Write([]byte("public"))
		return nil
	}}}}
	var guarded []string
	guard := func(scope string, h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			guarded = append(guarded, scope+" "+r.URL.Path)
			if r.Header.Get("Authorization") == "" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	var failed error
	mux := http.NewServeMux()
	g.Register(mux, guard, func(w http.ResponseWriter, r *http.Request, err error) {
		failed = err
		w.WriteHeader(http.StatusTeapot)
	})
	public.Register(mux, guard, nil)
	do := func(method, path string, auth bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer x")
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec
	}
	assert.Equal(t, "ok", do("GET", "/t/ok", true).Body.String())
	assert.Equal(t, http.StatusUnauthorized, do("GET", "/t/nope", false).Code, "the guard runs before routing")
	nf := do("GET", "/t/nope", true)
	assert.Equal(t, http.StatusNotFound, nf.Code)
	assert.Contains(t, nf.Body.String(), "no thing endpoint at GET /t/nope")
	na := do("POST", "/t/ok", true)
	assert.Equal(t, http.StatusMethodNotAllowed, na.Code)
	assert.Contains(t, na.Header().Get("Allow"), "GET")
	assert.Equal(t, http.StatusTeapot, do("GET", "/t/fail", true).Code)
	assert.ErrorIs(t, failed, boom)
	assert.Equal(t, "public", do("GET", "/p", false).Body.String())
	assert.Equal(t, []string{"things /t/ok", "things /t/nope", "things /t/nope", "things /t/ok", "things /t/fail"}, guarded,
		"every guarded request, and no public one, went through the guard with the group's scope")
	assert.False(t, strings.Contains(strings.Join(guarded, ","), "/p"))
}

// TestRegisterRefusesAGuardedGroupWithoutScope: a guarded group that
// names no scope would let any valid API token through its guard (""
// asks for none), so registering it fails at once, naming the group,
// rather than serve its routes open to every token.
func TestRegisterRefusesAGuardedGroupWithoutScope(t *testing.T) {
	g := route.Group{Tag: "Things", What: "thing endpoint", Prefixes: []string{"/t/"}, Routes: []route.Route{
		{Method: "GET", Path: "/t/ok", Handle: noop},
	}}
	guarded := false
	guard := func(scope string, h http.Handler) http.Handler { guarded = true; return h }
	assert.PanicsWithValue(t, `route: the guarded group "Things" has no Scope: set the API token scope its routes need, or make it Public`, func() {
		g.Register(http.NewServeMux(), guard, nil)
	})
	assert.False(t, guarded, "nothing was mounted")
}
