package httpx

import (
	"net/http"
	"slices"
	"sync"
)

// Router is where a surface registers its routes: an *http.ServeMux, or a
// Routes that also remembers them.
type Router interface {
	Handle(pattern string, handler http.Handler)
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

// Routes is a ServeMux that remembers every pattern registered on it, so
// that the server's route table can be listed, and a rule that must hold
// for every route (failing closed, say) can be tested route by route
// rather than for the routes someone remembered.
type Routes struct {
	mux *http.ServeMux
	// front matches the noted patterns, served in front of mux; it
	// serves nothing.
	front *http.ServeMux

	mu       sync.Mutex
	patterns []string
}

// NewRoutes returns an empty route table.
func NewRoutes() *Routes { return &Routes{mux: http.NewServeMux(), front: http.NewServeMux()} }

// Handle registers handler for pattern, as http.ServeMux.Handle does.
func (rt *Routes) Handle(pattern string, handler http.Handler) {
	rt.mux.Handle(pattern, handler)
	rt.list(pattern)
}

// HandleFunc registers handler for pattern, as http.ServeMux.HandleFunc
// does.
func (rt *Routes) HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request)) {
	rt.mux.HandleFunc(pattern, handler)
	rt.list(pattern)
}

// Note adds to the table a pattern that is served in front of the mux
// (by a handler that takes its paths before the mux sees them), so the
// table lists it too, and Match finds it.
func (rt *Routes) Note(pattern string) {
	rt.front.Handle(pattern, http.NotFoundHandler())
	rt.list(pattern)
}

func (rt *Routes) list(pattern string) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.patterns = append(rt.patterns, pattern)
}

// Match returns the pattern of the table that a request falls under (a
// noted pattern first, as those are served in front of the mux), or ""
// when none does, without serving it: what a handler that answers before
// the routes (a guard) logs as the request's route.
func (rt *Routes) Match(r *http.Request) string {
	if _, p := rt.front.Handler(r); p != "" {
		return p
	}
	_, p := rt.mux.Handler(r)
	return p
}

// Patterns returns the registered patterns, in the order of registration.
func (rt *Routes) Patterns() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return slices.Clone(rt.patterns)
}

// Mux returns the ServeMux the routes are registered on, for what needs
// to ask it which pattern a request matches.
func (rt *Routes) Mux() *http.ServeMux { return rt.mux }

// ServeHTTP dispatches the request to the handler whose pattern matches.
func (rt *Routes) ServeHTTP(w http.ResponseWriter, r *http.Request) { rt.mux.ServeHTTP(w, r) }
