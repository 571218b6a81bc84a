package bigin

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors the client returns; test with errors.Is.
var (
	// ErrRefreshRefused means Zoho refused the refresh token or the client
	// credentials (invalid_code, invalid_client ...): the account must be
	// authorised again. It is never retried.
	ErrRefreshRefused = errors.New("zoho refused the refresh token")
	// ErrUnknownAPIDomain means a token response named an api_domain that is
	// not one of the configured datacenters' API bases.
	ErrUnknownAPIDomain = errors.New("api_domain is not a configured datacenter")
	// ErrUnknownDatacenter means a datacenter key is not configured.
	ErrUnknownDatacenter = errors.New("unknown datacenter")
	// ErrCodeRefused means Zoho refused an authorization code (used,
	// expired, unknown) or the client credentials during Exchange.
	ErrCodeRefused = errors.New("zoho refused the authorization code")
	// ErrInvalidArgument means a call was refused before reaching Zoho
	// because an argument (a user id, a user type, a page) is malformed.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrScopeMismatch matches (errors.Is) an APIError with Zoho's 401
	// OAUTH_SCOPE_MISMATCH: the account's authorization lacks the OAuth
	// scope the call needs (e.g. an account connected before the record
	// scopes were asked for). It is not an expired token: the client does
	// not refresh or retry, and the account keeps working for the calls
	// its scopes cover; only connecting it again with Scopes() helps.
	ErrScopeMismatch = errors.New("the account's authorization lacks the OAuth scope this call needs")
)

// CodeScopeMismatch is Zoho's code for a token without the scope a call
// needs (HTTP 401).
const CodeScopeMismatch = "OAUTH_SCOPE_MISMATCH"

// Codes of APIError that Zoho does not send but the client reports.
const (
	// CodeInvalidResponse is an answer that is not the JSON Zoho documents
	// (garbage, truncated, too large, an unexpected shape or status).
	CodeInvalidResponse = "INVALID_RESPONSE"
	// CodeTokenRateLimited is Zoho Accounts' "Access Denied: You have made
	// too many requests" answer to a refresh (more than 10 per refresh token
	// in 10 minutes). It means "try later", not "reauthorise".
	CodeTokenRateLimited = "TOKEN_RATE_LIMITED"
)

// RateLimit holds Zoho's rate-limit headers when it sent them.
type RateLimit struct {
	Limit     int       `json:"limit"`
	Remaining int       `json:"remaining"`
	Reset     time.Time `json:"reset"`
}

// APIError is an error answer from Zoho, whatever its HTTP status
// (including errors inside 200 bodies and garbage bodies).
type APIError struct {
	Status     int             // HTTP status
	Code       string          // Zoho's code, e.g. INVALID_DATA, TOO_MANY_REQUESTS
	Message    string          // Zoho's message
	Details    json.RawMessage // Zoho's details, if any
	RateLimit  *RateLimit      // from the response headers, if present
	RetryAfter time.Duration   // from Retry-After or the rate-limit reset, if present
}

// Error reports the status, code and message; never a body or a token.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bigin: HTTP %d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter.Round(time.Second))
	}
	return b.String()
}

// Is reports whether the error is ErrScopeMismatch (Zoho's
// OAUTH_SCOPE_MISMATCH), so errors.Is tells a missing scope from every
// other Zoho error while errors.As still finds the APIError.
func (e *APIError) Is(target error) bool {
	return target == ErrScopeMismatch && e.Code == CodeScopeMismatch
}

// RateLimited reports whether the error asks the caller to slow down:
// HTTP 429, Zoho's TOO_MANY_REQUESTS, or the token endpoint's throttle.
func (e *APIError) RateLimited() bool {
	return e.Status == 429 || e.Code == "TOO_MANY_REQUESTS" || e.Code == CodeTokenRateLimited
}

// maxMessage bounds the Zoho text copied into an error.
const maxMessage = 300

// clip keeps a Zoho-supplied text short and on one line.
func clip(s string) string {
	s = oneLine(s)
	if len(s) > maxMessage {
		s = strings.ToValidUTF8(s[:maxMessage], "") + "…"
	}
	return s
}
