package httpx

import (
	"net/http"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// NotRouted answers a request that no route of mux matches with the JSON
// error shape instead of ServeMux's plain text: 405 (with Allow) when the
// path exists for other methods, 404 otherwise. what names the surface in
// the 404 message ("admin endpoint").
func NotRouted(mux *http.ServeMux, w http.ResponseWriter, r *http.Request, what string) {
	h, _ := mux.Handler(r)
	rec := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusMethodNotAllowed:
		allow := rec.header.Get("Allow")
		w.Header().Set("Allow", allow)
		WriteError(w, tokens.CodeMethodNotAllowed, "method "+r.Method+" is not allowed here; allowed: "+allow)
	case http.StatusNotFound, 0:
		WriteError(w, tokens.CodeNotFound, "no "+what+" at "+r.Method+" "+r.URL.Path)
	default: // a redirect to the cleaned path
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
	}
}

// headerRecorder records what a handler would answer, discarding the body.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return len(b), nil
}
func (h *headerRecorder) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}
