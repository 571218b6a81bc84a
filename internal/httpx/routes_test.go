package httpx_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
)

// TestRoutesListWhatTheyServe: a route table serves as a ServeMux does and
// lists every pattern registered on it, and those noted as served in
// front of it, in order.
func TestRoutesListWhatTheyServe(t *testing.T) {
	t.Parallel()
	rt := httpx.NewRoutes()
	var _ httpx.Router = rt
	var _ httpx.Router = http.NewServeMux()
	rt.HandleFunc("GET /a/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "a "+r.PathValue("id")) })
	rt.Handle("/b/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "b") }))
	rt.Note("/c")
	assert.Equal(t, []string{"GET /a/{id}", "/b/", "/c"}, rt.Patterns())

	for path, want := range map[string]string{"/a/7": "a 7", "/b/x/y": "b"} {
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		assert.Equal(t, want, w.Body.String(), path)
	}
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/c", nil))
	assert.Equal(t, http.StatusNotFound, w.Code, "a noted pattern is listed, not served")
}

// TestRoutesMatchWithoutServing: Match names the pattern a request falls
// under, noted patterns included, without serving it; "" for a path no
// pattern takes or a method the pattern does not allow.
func TestRoutesMatchWithoutServing(t *testing.T) {
	t.Parallel()
	served := 0
	rt := httpx.NewRoutes()
	rt.HandleFunc("GET /a/{id}", func(http.ResponseWriter, *http.Request) { served++ })
	rt.HandleFunc("/b/", func(http.ResponseWriter, *http.Request) { served++ })
	rt.Note("/c/{token}")
	tests := []struct{ method, path, want string }{
		{http.MethodGet, "/a/7", "GET /a/{id}"},
		{http.MethodPost, "/a/7", ""},
		{http.MethodPost, "/b/x/y", "/b/"},
		{http.MethodGet, "/c/bmcp_x", "/c/{token}"},
		{http.MethodGet, "/nowhere", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, rt.Match(httptest.NewRequest(tt.method, tt.path, nil)), "%s %s", tt.method, tt.path)
	}
	assert.Zero(t, served, "matching serves nothing")
}
