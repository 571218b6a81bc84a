package tokens

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// LogRequests logs one slog line per request (SPEC §8): request id, method,
// route pattern, status, latency and whatever handlers added with Annotate.
// It logs the route pattern ("/mcp/{token}"), never the raw path, so a
// token in a path never reaches a log. The request id is also sent back as
// X-Request-Id.
func LogRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var b [8]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header().Set("X-Request-Id", id)
		note := &annotations{}
		rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		r = r.WithContext(context.WithValue(r.Context(), annotationsKey{}, note))
		next.ServeHTTP(rw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		attrs := []slog.Attr{
			slog.String("request_id", id),
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", rw.status),
			slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
		}
		note.mu.Lock()
		attrs = append(attrs, note.attrs...)
		note.mu.Unlock()
		level := slog.LevelInfo
		if rw.status >= 500 {
			level = slog.LevelError
		}
		logger.LogAttrs(r.Context(), level, "http request", attrs...)
	})
}

// Annotate adds an attribute to the current request's log line (for
// example the MCP server id behind a /mcp/{token} path). It never takes a
// token or secret. Outside LogRequests it does nothing.
func Annotate(ctx context.Context, key, value string) {
	if a, ok := ctx.Value(annotationsKey{}).(*annotations); ok {
		a.mu.Lock()
		a.attrs = append(a.attrs, slog.String(key, value))
		a.mu.Unlock()
	}
}

type annotationsKey struct{}

type annotations struct {
	mu    sync.Mutex
	attrs []slog.Attr
}

// statusWriter records the status code; it passes Flush through so SSE
// streams keep working.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
