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
