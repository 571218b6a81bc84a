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

	mu       sync.Mutex
	patterns []string
}

// NewRoutes returns an empty route table.
func NewRoutes() *Routes { return &Routes{mux: http.NewServeMux()} }

// Handle registers handler for pattern, as http.ServeMux.Handle does.
func (rt *Routes) Handle(pattern string, handler http.Handler) {
	rt.mux.Handle(pattern, handler)
	rt.Note(pattern)
}

// HandleFunc registers handler for pattern, as http.ServeMux.HandleFunc
// does.
func (rt *Routes) HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request)) {
	rt.mux.HandleFunc(pattern, handler)
	rt.Note(pattern)
}

// Note adds to the table a pattern that is served in front of the mux
// (by a handler that takes its paths before the mux sees them), so the
// table lists it too.
func (rt *Routes) Note(pattern string) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.patterns = append(rt.patterns, pattern)
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
