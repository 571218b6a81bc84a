package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// LogRequests wraps h so that every request is logged once it is answered,
// as one slog line with a request id, the method, route, redacted path,
// status, latency and client address (ClientIP: behind a trusted proxy,
// the client it names), plus whatever handlers attached with Annotate (such
// as the MCP server id or the tool name). The request id is taken from a
// well-formed X-Request-Id header or generated, and echoed in the response.
// The path is logged redacted (RedactPath): never a token in it. A valid W3C
// Traceparent header is logged too (WithTraceParent adds one found in a
// message). Each observer is called once the request is answered, with
// its route pattern, never its raw path (for metrics).
func LogRequests(logger *slog.Logger, h http.Handler, observers ...func(Done)) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !wellFormedRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		ann := &annotations{requestID: id}
		if tp := r.Header.Get(TraceParentHeader); ValidTraceParent(tp) {
			ann.traceparent = tp
			ann.attrs = append(ann.attrs, slog.String("traceparent", tp))
		}
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), annotationsKey{}, ann))
		h.ServeHTTP(sw, r)

		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		elapsed := time.Since(start)
		attrs := []slog.Attr{
			slog.String("request_id", id),
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.String("path", RedactPath(r.URL.Path)),
			slog.Int("status", status),
			slog.Float64("latency_ms", float64(elapsed.Microseconds())/1000),
		}
		if a := ClientIP(r); a.IsValid() {
			attrs = append(attrs, slog.String("client_addr", a.String()))
		}
		ann.mu.Lock()
		for _, a := range ann.attrs {
			if a.Key == "route" {
				attrs[2] = a
				continue
			}
			attrs = append(attrs, a)
		}
		ann.mu.Unlock()
		if len(observers) > 0 {
			d := Done{Route: routeTemplate(attrs[2].Value.String()), Method: r.Method, Status: status, Duration: elapsed}
			for _, o := range observers {
				o(d)
			}
		}
		level := slog.LevelInfo
		switch {
		case status == StatusClientClosedRequest: // the client went away: its outcome, not an error
			attrs = append(attrs, slog.String("outcome", tokens.CodeCanceled))
		case status >= 500:
			level = slog.LevelError
		}
		logger.LogAttrs(r.Context(), level, "http request", attrs...)
	})
}

// Done is an answered request, as LogRequests reports it to observers.
type Done struct {
	// Route is the path pattern that served the request ("/mcp/{token}",
	// "/admin/integrated-accounts/{id}"), without its method, or
	// "unmatched"; never the raw path.
	Route    string
	Method   string
	Status   int
	Duration time.Duration
}

// routeTemplate is a ServeMux pattern without its method ("GET /x" → "/x").
func routeTemplate(pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		return strings.TrimSpace(pattern[i+1:])
	}
	return pattern
}

// Annotate attaches key=value to the request's log line (LogRequests). A
// later value for the same key replaces the earlier one. It does nothing
// outside LogRequests. Never pass a token or secret. The log line is
// written to, never read: what a later step needs travels in the
// request's context (Identify).
func Annotate(ctx context.Context, key, value string) {
	ann, ok := ctx.Value(annotationsKey{}).(*annotations)
	if !ok {
		return
	}
	ann.mu.Lock()
	defer ann.mu.Unlock()
	a := slog.String(key, value)
	for i := range ann.attrs {
		if ann.attrs[i].Key == key {
			ann.attrs[i] = a
			return
		}
	}
	ann.attrs = append(ann.attrs, a)
}

// RequestID returns the id LogRequests gave the request, or "".
func RequestID(ctx context.Context) string {
	if ann, ok := ctx.Value(annotationsKey{}).(*annotations); ok {
		return ann.requestID
	}
	return ""
}

// secretRoutes are the route patterns whose path carries a secret: the
// segment of the {token} or {link} wildcard (the names every such route
// uses; a test holds the server's route table to this list). RedactPath matches a path
// against them segment by segment, ignoring case, empty and "." segments
// and what ".." takes back, so an unclean or mistyped path (/MCP/…,
// /mcp//…, //mcp/…) that a router would refuse or redirect is redacted
// like the clean one. The other wildcards match any segment.
var secretRoutes = [][]string{
	{"mcp", "{token}", "sse"},
	{".well-known", "{document}", "mcp", "{token}"},
	{"connect", "{link}"},
}

// Placeholders of redacted path segments: the secret itself, and a
// segment after it that is not its route's.
const (
	redactedSecret = tokens.MCPTokenPrefix + "…"
	redactedAfter  = "…"
)

// RedactPath returns p fit for a log. The segment that holds a route's
// secret (secretRoutes) is replaced by "bmcp_…", whatever it holds (a
// token without its bmcp_ prefix, or with a mangled one, is still a
// secret), and every later segment that is not its route's own literal
// by "…". Any other segment that holds "bmcp_", in any case and anywhere
// in it, is replaced by "bmcp_…" too. Tokens never hold a slash, so a
// token in a path always lies inside one segment.
func RedactPath(p string) string {
	segs := strings.Split(p, "/")
	var clean []string // the segments before the current one, as a router cleans them
	changed := false
	for i, s := range segs {
		switch s {
		case "", ".":
			continue
		case "..":
			if len(clean) > 0 {
				clean = clean[:len(clean)-1]
			}
			continue
		}
		if r := redactSegment(clean, s); r != "" {
			segs[i], changed = r, true
		}
		clean = append(clean, s)
	}
	if !changed {
		return p
	}
	return strings.Join(segs, "/")
}

// redactSegment returns what replaces segment s after the segments
// before, or "" when s may be logged.
func redactSegment(before []string, s string) string {
	for _, route := range secretRoutes {
		at := len(before)
		secret := slices.IndexFunc(route, isSecretWildcard)
		if at < secret || !routeMatches(route[:secret], before[:secret]) {
			continue
		}
		switch {
		case at == secret:
			return redactedSecret
		case at >= len(route) || isWildcard(route[at]) || !strings.EqualFold(route[at], s):
			return redactedAfter
		}
		return ""
	}
	if containsFold(s, tokens.MCPTokenPrefix) {
		return redactedSecret
	}
	return ""
}

// routeMatches reports whether segs match the route's segments: a
// literal ignoring case, a wildcard anything.
func routeMatches(route, segs []string) bool {
	for i, r := range route {
		if !isWildcard(r) && !strings.EqualFold(r, segs[i]) {
			return false
		}
	}
	return true
}

func isWildcard(seg string) bool { return strings.HasPrefix(seg, "{") }

func isSecretWildcard(seg string) bool { return seg == "{token}" || seg == "{link}" }

// containsFold reports whether substr (ASCII lower case) is in s, ignoring
// ASCII case.
func containsFold(s, substr string) bool {
	for i := 0; i+len(substr) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(substr)], substr) {
			return true
		}
	}
	return false
}

type annotationsKey struct{}

type annotations struct {
	requestID   string
	traceparent string // from the header, when valid
	mu          sync.Mutex
	attrs       []slog.Attr
}

func wellFormedRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		ok := c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !ok {
			return false
		}
	}
	return !strings.Contains(id, tokens.MCPTokenPrefix)
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusWriter records the status; it keeps streaming (Flush) working and
// lets http.ResponseController reach the underlying writer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
