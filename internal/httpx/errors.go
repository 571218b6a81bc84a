package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

var codeStatus = map[string]int{
	tokens.CodeInvalidArgument:         http.StatusBadRequest,
	tokens.CodeUnauthenticated:         http.StatusUnauthorized,
	tokens.CodePermissionDenied:        http.StatusForbidden,
	tokens.CodeNotFound:                http.StatusNotFound,
	tokens.CodeMethodNotAllowed:        http.StatusMethodNotAllowed,
	tokens.CodeConflict:                http.StatusConflict,
	tokens.CodeTooLarge:                http.StatusRequestEntityTooLarge,
	tokens.CodeUnsupportedMediaType:    http.StatusUnsupportedMediaType,
	tokens.CodeRequestTimeout:          http.StatusRequestTimeout,
	tokens.CodeRateLimited:             http.StatusTooManyRequests,
	tokens.CodeUpstreamError:           http.StatusBadGateway,
	tokens.CodeReauthorizationRequired: http.StatusConflict,
	tokens.CodeUnavailable:             http.StatusServiceUnavailable,
	tokens.CodeInternal:                http.StatusInternalServerError,
}

// StatusOf returns the HTTP status of an error code (500 for an unknown
// one).
func StatusOf(code string) int {
	if s, ok := codeStatus[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// WriteError writes {"error":{"code","message"}} with the status of code.
// The message must never hold a token or secret.
func WriteError(w http.ResponseWriter, code, message string) {
	WriteErrorStatus(w, StatusOf(code), code, message)
}

// WriteErrorStatus is WriteError with an explicit status. A 401 carries
// WWW-Authenticate unless the caller set one.
func WriteErrorStatus(w http.ResponseWriter, status int, code, message string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		h.Set("WWW-Authenticate", `Bearer realm="bigin-mcp"`)
	}
	w.WriteHeader(status)
	_ = Encode(w, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

// WriteJSON answers with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = Encode(w, v)
}

// Encode writes v to w as one line of JSON without HTML escaping: answers
// are JSON, never HTML, so a message reads "<api token>" and not
// "\u003capi token\u003e".
func Encode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Classify is the one place that maps an error to a code and a message for
// the client. Errors it does not know are internal (known is false): their
// text belongs in the log, and the client sees a generic message.
func Classify(err error) (code, message string, known bool) {
	var e *tokens.Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &e):
		return e.Code, e.Message, true
	case errors.As(err, &mbe):
		return tokens.CodeTooLarge, "request body is over 1 MiB", true
	case errors.Is(err, ErrBodyTimeout):
		return tokens.CodeRequestTimeout, bodyTimeoutMessage, true
	case errors.Is(err, tokens.ErrUnauthenticated):
		return tokens.CodeUnauthenticated, "send Authorization: Bearer <api token>", true
	case errors.Is(err, tokens.ErrNotFound):
		return tokens.CodeNotFound, "not found", true
	case errors.Is(err, tokens.ErrConflict):
		return tokens.CodeConflict, "the change conflicts with the current state", true
	case errors.Is(err, context.Canceled):
		return tokens.CodeInternal, "the request was cancelled", true
	}
	return tokens.CodeInternal, "internal error; the server log has the details", false
}

// HTMLPage writes the HTML page t renders from data, with the headers of a
// page a person sees (connect and sign-in pages): never framed, cached,
// or leaking its URL (which may hold a link or a state) as a referrer; no
// script, inline style only. A template that fails midway is logged as
// what, since the status has been sent.
func HTMLPage(w http.ResponseWriter, logger *slog.Logger, status int, t *template.Template, data any, what string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if err := t.Execute(w, data); err != nil {
		logger.Error("render "+what, "err", err)
	}
}
