package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/store"
)

// Errors returned by Service; test with errors.Is.
var (
	// ErrNotFound: the token is unknown, deleted or expired (one error for all).
	ErrNotFound = errors.New("not found")
	// ErrUnauthenticated: a missing or bad API token.
	ErrUnauthenticated = errors.New("unauthenticated")
)

// Error codes of SPEC §4's single error shape.
const (
	CodeInvalidArgument      = "invalid_argument"
	CodeUnauthenticated      = "unauthenticated"
	CodePermissionDenied     = "permission_denied"
	CodeNotFound             = "not_found"
	CodeConflict             = "conflict"
	CodeTooLarge             = "too_large"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeRateLimited          = "rate_limited"
	CodeUpstreamError        = "upstream_error"
	CodeInternal             = "internal"
)

var codeStatus = map[string]int{
	CodeInvalidArgument:      http.StatusBadRequest,
	CodeUnauthenticated:      http.StatusUnauthorized,
	CodePermissionDenied:     http.StatusForbidden,
	CodeNotFound:             http.StatusNotFound,
	CodeConflict:             http.StatusConflict,
	CodeTooLarge:             http.StatusRequestEntityTooLarge,
	CodeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	CodeRateLimited:          http.StatusTooManyRequests,
	CodeUpstreamError:        http.StatusBadGateway,
	CodeInternal:             http.StatusInternalServerError,
}

// StatusOf returns the HTTP status SPEC §4 gives an error code (500 for an
// unknown one).
func StatusOf(code string) int {
	if s, ok := codeStatus[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error is an error with one of the codes above and a message for the
// client. The message says what to change and never holds a token or
// secret; Err, when set, is the cause (for errors.Is and the log).
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }
func (e *Error) Unwrap() error { return e.Err }

func invalidf(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

func notFoundf(format string, args ...any) *Error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf(format, args...), Err: store.ErrNotFound}
}

// WriteError writes {"error":{"code","message"}} with the status that SPEC §4
// gives the code. The message must never hold a token or secret.
func WriteError(w http.ResponseWriter, code, message string) {
	writeErrorStatus(w, StatusOf(code), code, message)
}

func writeErrorStatus(w http.ResponseWriter, status int, code, message string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="bigin-mcp"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
}

// classify is the one place that maps an error to SPEC §4's code and
// message. Errors it does not know are internal: their text stays in the
// log and the client sees a generic message.
func classify(err error) (code, message string, known bool) {
	var e *Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &e):
		return e.Code, e.Message, true
	case errors.As(err, &mbe):
		return CodeTooLarge, "request body is over 1 MiB", true
	case errors.Is(err, ErrUnauthenticated):
		return CodeUnauthenticated, "send Authorization: Bearer <api token>", true
	case errors.Is(err, store.ErrNotFound), errors.Is(err, ErrNotFound):
		return CodeNotFound, "not found", true
	case errors.Is(err, store.ErrConflict):
		return CodeConflict, "the change conflicts with the current state", true
	case errors.Is(err, context.Canceled):
		return CodeInternal, "the request was cancelled", true
	}
	return CodeInternal, "internal error; the server log has the details", false
}

// writeErr answers a failed admin request with err's code and message,
// logging the errors it does not know (without secrets: no error built here
// holds one).
func (s *Service) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	code, msg, known := classify(err)
	if !known {
		s.logger.ErrorContext(r.Context(), "admin request failed", "method", r.Method, "route", r.Pattern, "request_id", RequestID(r.Context()), "err", err)
	}
	WriteError(w, code, msg)
}

// verifyError turns an error from proving an account's credentials with
// Zoho (stage "refresh" or "org") into one the client can act on: Zoho's
// refusal is the client's to fix (400 with Zoho's reason), a throttle is
// 429, an unreachable or failing Zoho is 502. Messages are built from
// Zoho's error code and description, never from a body or a credential.
func verifyError(err error, stage string) error {
	var ae *bigin.APIError
	switch {
	case errors.Is(err, bigin.ErrRefreshRefused):
		return &Error{Code: CodeInvalidArgument, Message: refusalMessage(err), Err: err}
	case errors.Is(err, bigin.ErrUnknownDatacenter):
		return &Error{Code: CodeInvalidArgument, Message: err.Error(), Err: err}
	case errors.Is(err, bigin.ErrUnknownAPIDomain):
		return &Error{Code: CodeInvalidArgument, Message: "Zoho answered with an api_domain that is not a configured datacenter's API base; add it with BIGIN_MCP_DATACENTERS", Err: err}
	case errors.As(err, &ae) && ae.RateLimited():
		msg := "Zoho is throttling requests for these credentials; try again later"
		if ae.RetryAfter > 0 {
			msg = fmt.Sprintf("Zoho is throttling requests for these credentials; try again in %s", ae.RetryAfter.Round(time.Second))
		}
		return &Error{Code: CodeRateLimited, Message: msg, Err: err}
	case errors.As(err, &ae) && (ae.Status >= 500 || ae.Code == bigin.CodeInvalidResponse):
		return &Error{Code: CodeUpstreamError, Message: fmt.Sprintf("Zoho failed while verifying the credentials (HTTP %d); try again later", ae.Status), Err: err}
	case errors.As(err, &ae):
		reason := ae.Code
		if ae.Message != "" {
			reason += ": " + ae.Message
		}
		if stage == "org" {
			return &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf("Zoho refused to read the organization with these credentials (HTTP %d %s); check the refresh token's scopes", ae.Status, reason), Err: err}
		}
		return &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf("Zoho refused the refresh (HTTP %d %s)", ae.Status, reason), Err: err}
	case errors.Is(err, context.Canceled):
		return err
	}
	return &Error{Code: CodeUpstreamError, Message: "could not reach Zoho to verify the credentials; try again later", Err: err}
}

// refusalMessage words a refused refresh as "Zoho refused the refresh token
// (invalid_code)": the bigin error's text from its sentinel on, which holds
// Zoho's OAuth error code and description only.
func refusalMessage(err error) string {
	msg := err.Error()
	sentinel := bigin.ErrRefreshRefused.Error()
	if i := strings.Index(msg, sentinel); i >= 0 {
		msg = msg[i:]
	}
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	if !strings.HasPrefix(msg, "Zoho") {
		msg = "Zoho refused the credentials: " + msg
	}
	return msg + "; check the refresh token, client_id and client_secret"
}

// decodeError explains why a request body could not be decoded into v.
func decodeError(err error) error {
	var mbe *http.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return &Error{Code: CodeTooLarge, Message: "request body is over 1 MiB", Err: err}
	case errors.As(err, &se):
		return invalidf("malformed JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return invalidf("the request body must be a JSON object, not %s", article(te.Value))
		}
		return invalidf("field %q must be %s, not %s", field, kindOf(te.Type), article(te.Value))
	case errors.Is(err, errEmptyBody):
		return invalidf("the request body is empty; send a JSON object")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return invalidf("unknown field %s in the request body", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return invalidf("malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

var errEmptyBody = errors.New("empty body")

func article(jsonKind string) string {
	switch jsonKind {
	case "array", "object":
		return "an " + jsonKind
	case "":
		return "that"
	}
	return "a " + jsonKind
}

func kindOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(kindOf(t.Elem()), "a "), "an ") + "s"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	}
	return "of another type"
}
