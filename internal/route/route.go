// Package route declares HTTP routes as tables: each row is a method, a
// path pattern, its handler and its OpenAPI operations, and rows are
// grouped by the API token scope they need. The admin API and the REST
// face mount their routes from these tables, and /openapi.json is built
// from the same rows, so a route cannot be served undocumented nor
// documented unserved. It is a package of its own because the admin API
// and the REST face each declare their table while the document covers
// both, and neither of them should import the other.
package route

import (
	"fmt"
	"net/http"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
)

// Handler serves a route; an error it returns is answered by the group's
// Fail.
type Handler func(w http.ResponseWriter, r *http.Request) error

// Route is one row of a table: what a request must match, who serves it,
// and how the OpenAPI document describes it.
type Route struct {
	// Method and Path make the ServeMux pattern ("GET /admin/api-tokens").
	Method string
	Path   string
	Handle Handler
	// Ops are the route's operations in the document: usually one; a
	// route whose wildcard stands for a fixed set of resources (the
	// Proxy API's /proxy/{resource}) has one per resource, each with its
	// own Path.
	Ops []Operation
}

// Pattern is the route's ServeMux pattern.
func (rt Route) Pattern() string { return rt.Method + " " + rt.Path }

// Group is a table of routes that share their guard: the API token scope
// they need (or none, for public routes), the prefixes they are mounted
// under, and the tag that groups them in the document.
type Group struct {
	// Tag names the group in the document; TagDescription says what it
	// holds.
	Tag            string
	TagDescription string
	// Scope is the API token scope every route of the group needs;
	// a group that is not Public must have one (Register panics).
	Scope string
	// Public routes need no API token: each is mounted on its own
	// pattern, and the group has no Prefixes.
	Public bool
	// What names the group in the 404 of a path it does not serve
	// ("admin endpoint").
	What string
	// Prefixes are the mux patterns the group answers under: every path
	// below them gets the guard first, then the route or a JSON 404/405.
	Prefixes []string
	Routes   []Route
	// Schemas are the components the group's operations refer to with
	// Ref; each name is unique in the document.
	Schemas map[string]*jsonschema.Schema
}

// Guard wraps h so that it runs only for a request carrying an API token
// with scope.
type Guard func(scope string, h http.Handler) http.Handler

// Fail answers a request whose handler failed with err.
type Fail func(w http.ResponseWriter, r *http.Request, err error)

// Register mounts the group's routes on mux. A guarded group answers
// every path under its prefixes itself, after guard: a route, or the JSON
// 404 or 405 of httpx.NotRouted. Each served request is annotated with
// its route pattern for the request log and metrics. A guarded group
// without a Scope panics, as ServeMux does on a conflicting pattern: its
// guard would ask for no scope and admit any valid API token.
func (g *Group) Register(mux httpx.Router, guard Guard, fail Fail) {
	if !g.Public && g.Scope == "" {
		panic(fmt.Sprintf("route: the guarded group %q has no Scope: set the API token scope its routes need, or make it Public", g.Tag))
	}
	if fail == nil {
		fail = func(w http.ResponseWriter, r *http.Request, err error) {
			code, msg, _ := httpx.Classify(r.Context(), err)
			httpx.WriteError(w, code, msg)
		}
	}
	serve := func(rt Route) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			httpx.Annotate(r.Context(), "route", r.Pattern)
			if err := rt.Handle(w, r); err != nil {
				fail(w, r, err)
			}
		}
	}
	if g.Public {
		for _, rt := range g.Routes {
			mux.Handle(rt.Pattern(), serve(rt))
		}
		return
	}
	sub := http.NewServeMux()
	for _, rt := range g.Routes {
		sub.Handle(rt.Pattern(), serve(rt))
	}
	h := guard(g.Scope, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := sub.Handler(r); pattern == "" {
			httpx.NotRouted(sub, w, r, g.What)
			return
		}
		sub.ServeHTTP(w, r)
	}))
	for _, p := range g.Prefixes {
		mux.Handle(p, h)
	}
}
