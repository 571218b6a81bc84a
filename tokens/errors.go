package tokens

import (
	"errors"
	"fmt"
)

// Errors returned by Service and by every Store; test with errors.Is.
var (
	// ErrNotFound: the record does not exist, or the token is unknown,
	// deleted or expired (one error for all).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the change would break an invariant, such as deleting
	// the last API token or reusing a token hash.
	ErrConflict = errors.New("conflict")
	// ErrUnauthenticated: a missing or bad API token.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrUnavailable: the server cannot confirm its view of a shared
	// store is current, so it refuses rather than serve stale grants.
	ErrUnavailable = errors.New("unavailable")
)

// errUnavailable is what a stale index answers with.
var errUnavailable = &Error{
	Code:    CodeUnavailable,
	Message: "this replica cannot confirm its view of the store is current; try again shortly",
	Err:     ErrUnavailable,
}

// Error codes: the one vocabulary of every surface. The HTTP answers
// carry them as {"error":{"code","message"}}, the MCP endpoints' refusals
// as the data of a JSON-RPC error, and failed tool calls as the code of
// their structured error (beside Zoho's own codes). One table in
// internal/httpx gives each its HTTP status and JSON-RPC error code; no
// other package declares a code or maps one.
const (
	CodeInvalidArgument      = "invalid_argument"
	CodeUnauthenticated      = "unauthenticated"
	CodePermissionDenied     = "permission_denied"
	CodeNotFound             = "not_found"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeConflict             = "conflict"
	CodeTooLarge             = "too_large"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeRequestTimeout       = "request_timeout"
	CodeRateLimited          = "rate_limited"
	CodeUpstreamError        = "upstream_error"
	// CodeReauthorizationRequired: Zoho refused the integrated account's
	// refresh token; an administrator must connect it again.
	CodeReauthorizationRequired = "reauthorization_required"
	// CodeUnavailable: this replica cannot confirm it is current with the
	// shared store; another replica, or this one shortly, can answer.
	CodeUnavailable = "unavailable"
	CodeInternal    = "internal"
	// CodeInvalidCursor: a tool call's next_cursor was not issued for the
	// same tool, account and arguments (a tool result's code).
	CodeInvalidCursor = "invalid_cursor"
	// CodeUpstreamUnavailable: Zoho could not be reached or did not answer
	// in time (a tool result's code).
	CodeUpstreamUnavailable = "upstream_unavailable"
	// CodeModuleNotAllowed: a tool call names a record module that the
	// URL's config.modules (or the REST face's ?modules=) leaves out;
	// nothing reached Zoho (a tool result's code).
	CodeModuleNotAllowed = "module_not_allowed"
	// CodeScopeMissing: Zoho refused a call because the integrated
	// account's authorization lacks the OAuth scope it needs (an account
	// connected before the record tools); an administrator must reconnect
	// it, and it keeps working for what its scopes cover (a tool result's
	// code).
	CodeScopeMissing = "scope_missing"
	// CodeIdempotencyKeyReused: a write's idempotency_key was used before
	// with other arguments (a tool result's code).
	CodeIdempotencyKeyReused = "idempotency_key_reused"
	// CodeCanceled: the client cancelled the request (closed its
	// connection) before it was answered. No one reads the answer; the
	// request log and metrics count it as the client's outcome, not a
	// server error.
	CodeCanceled = "canceled"
)

// Error is an error with one of the codes above and a message for the
// client. The message says what to change and never holds a token or
// secret; Err, when set, is the cause (for errors.Is and the log).
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func invalidf(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

func notFoundf(format string, args ...any) *Error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf(format, args...), Err: ErrNotFound}
}
