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

// JSON-RPC error codes. A fault of the message itself has JSON-RPC's own
// code: -32700 for a body that is not JSON, -32600 for JSON that is not a
// valid request (a batch among them), -32601 for a method the server does
// not have, -32602 for params it cannot read, -32603 for a failure of the
// server's own. A request refused before it reaches a server, for what
// the HTTP request carries (its URL, credentials, headers, size), follows
// the TypeScript SDK's servers: -32001 for what is not there (an unknown
// URL or session), -32000 for every other refusal.
const (
	RPCParseError     = -32700
	RPCInvalidRequest = -32600
	RPCMethodNotFound = -32601
	RPCInvalidParams  = -32602
	RPCInternalError  = -32603
	RPCNotFound       = -32001
	RPCRefused        = -32000
)

// wireCode is how one error code of the vocabulary (tokens.Code*) goes on
// the wire: the HTTP status of an answer with it, and the JSON-RPC error
// code of an MCP request refused with it.
type wireCode struct {
	code   string
	status int
	rpc    int
}

// wireCodes is the one mapping of error codes to HTTP statuses and
// JSON-RPC error codes. Where codes share a status, the first is the one
// CodeOf gives that status.
var wireCodes = []wireCode{
	{tokens.CodeInvalidArgument, http.StatusBadRequest, RPCRefused},
	{tokens.CodeInvalidCursor, http.StatusBadRequest, RPCRefused},
	{tokens.CodeUnauthenticated, http.StatusUnauthorized, RPCRefused},
	{tokens.CodePermissionDenied, http.StatusForbidden, RPCRefused},
	{tokens.CodeModuleNotAllowed, http.StatusForbidden, RPCRefused},
	{tokens.CodeNotFound, http.StatusNotFound, RPCNotFound},
	{tokens.CodeMethodNotAllowed, http.StatusMethodNotAllowed, RPCRefused},
	{tokens.CodeRequestTimeout, http.StatusRequestTimeout, RPCRefused},
	{tokens.CodeConflict, http.StatusConflict, RPCRefused},
	{tokens.CodeReauthorizationRequired, http.StatusConflict, RPCRefused},
	{tokens.CodeScopeMissing, http.StatusConflict, RPCRefused},
	{tokens.CodeIdempotencyKeyReused, http.StatusConflict, RPCRefused},
	{tokens.CodeTooLarge, http.StatusRequestEntityTooLarge, RPCRefused},
	{tokens.CodeUnsupportedMediaType, http.StatusUnsupportedMediaType, RPCRefused},
	{tokens.CodeRateLimited, http.StatusTooManyRequests, RPCRefused},
	{tokens.CodeInternal, http.StatusInternalServerError, RPCRefused},
	{tokens.CodeUpstreamError, http.StatusBadGateway, RPCRefused},
	{tokens.CodeUpstreamUnavailable, http.StatusBadGateway, RPCRefused},
	{tokens.CodeUnavailable, http.StatusServiceUnavailable, RPCRefused},
	{tokens.CodeCanceled, StatusClientClosedRequest, RPCRefused},
}

// StatusClientClosedRequest is the status of a request its client
// cancelled before the answer (nginx's 499): the client never sees it;
// the request log and metrics do, as the client's outcome.
const StatusClientClosedRequest = 499

// byCode and byStatus index wireCodes.
var byCode, byStatus = indexWireCodes()

func indexWireCodes() (map[string]wireCode, map[int]string) {
	codes, statuses := map[string]wireCode{}, map[int]string{}
	for _, w := range wireCodes {
		codes[w.code] = w
		if _, ok := statuses[w.status]; !ok {
			statuses[w.status] = w.code
		}
	}
	return codes, statuses
}

// StatusOf returns the HTTP status of an error code (500 for an unknown
// one).
func StatusOf(code string) int {
	if w, ok := byCode[code]; ok {
		return w.status
	}
	return http.StatusInternalServerError
}

// RPCCodeOf returns the JSON-RPC error code of an MCP request refused
// with an error code (RPCRefused for an unknown one).
func RPCCodeOf(code string) int {
	if w, ok := byCode[code]; ok {
		return w.rpc
	}
	return RPCRefused
}

// unavailableRetryAfter is the Retry-After (seconds) of an unavailable
// answer: a replica that cannot confirm its view, or a store that did not
// answer in time, is worth asking again at once, here or on another
// replica.
const unavailableRetryAfter = "1"

// RetryAfterOf returns the Retry-After an answer with code carries, or ""
// for none (rate limits set their own, from the limit).
func RetryAfterOf(code string) string {
	if code == tokens.CodeUnavailable {
		return unavailableRetryAfter
	}
	return ""
}

// CodeOf returns the error code of an HTTP status that another library
// answered with (the go-sdk's plain-text errors): the status's first code
// in the table, else invalid_argument for a 4xx and internal for the rest.
func CodeOf(status int) string {
	if code, ok := byStatus[status]; ok {
		return code
	}
	if status >= 400 && status < 500 {
		return tokens.CodeInvalidArgument
	}
	return tokens.CodeInternal
}

// WriteError writes {"error":{"code","message"}} with the status of code.
// The message must never hold a token or secret.
func WriteError(w http.ResponseWriter, code, message string) {
	WriteErrorStatus(w, StatusOf(code), code, message)
}

// WriteErrorStatus is WriteError with an explicit status. A 401 carries
// WWW-Authenticate, and an unavailable answer Retry-After (RetryAfterOf),
// unless the caller set one.
func WriteErrorStatus(w http.ResponseWriter, status int, code, message string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		h.Set("WWW-Authenticate", `Bearer realm="bigin-mcp"`)
	}
	if ra := RetryAfterOf(code); ra != "" && h.Get("Retry-After") == "" {
		h.Set("Retry-After", ra)
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
// the client; ctx is the request's. Errors it does not know are internal
// (known is false): their text belongs in the log, and the client sees a
// generic message. A context.Canceled is the client's doing (canceled)
// only when ctx is done; otherwise the server cancelled something itself,
// which is internal.
func Classify(ctx context.Context, err error) (code, message string, known bool) {
	var e *tokens.Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &e):
		return e.Code, e.Message, true
	case errors.As(err, &mbe):
		return tokens.CodeTooLarge, "request body is over 1 MiB", true
	case errors.Is(err, ErrBodyTimeout):
		return tokens.CodeRequestTimeout, bodyTimeoutMessage, true
	case errors.Is(err, tokens.ErrUnavailable):
		return tokens.CodeUnavailable, "the store is not answering; try again shortly", true
	case errors.Is(err, tokens.ErrUnauthenticated):
		return tokens.CodeUnauthenticated, "send Authorization: Bearer <api token>", true
	case errors.Is(err, tokens.ErrNotFound):
		return tokens.CodeNotFound, "not found", true
	case errors.Is(err, tokens.ErrConflict):
		return tokens.CodeConflict, "the change conflicts with the current state", true
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return tokens.CodeCanceled, "the request was cancelled by its client", true
	}
	return tokens.CodeInternal, "internal error; the server log has the details", false
}

// HTMLPage writes the HTML page t renders from data, with the headers of a
// page a person sees (connect and sign-in pages): never framed, cached,
// or leaking its URL (which may hold a link or a state) as a referrer; no
// script, inline style only. A page that must name its origin on a form
// post sets its own Referrer-Policy first, which is kept. A template that
// fails midway is logged as what, since the status has been sent.
func HTMLPage(w http.ResponseWriter, logger *slog.Logger, status int, t *template.Template, data any, what string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	if h.Get("Referrer-Policy") == "" { // a page may ask for another
		h.Set("Referrer-Policy", "no-referrer")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if err := t.Execute(w, data); err != nil {
		logger.Error("render "+what, "err", err)
	}
}
