package httpx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// TestJSONIsNotHTMLEscaped: answers are JSON read by people and programs,
// not HTML, so "<", ">" and "&" are written as they are.
func TestJSONIsNotHTMLEscaped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		write func(w http.ResponseWriter)
		want  string
	}{
		{"WriteError", func(w http.ResponseWriter) {
			httpx.WriteError(w, tokens.CodeUnauthenticated, "send Authorization: Bearer <api token> & retry")
		}, `{"error":{"code":"unauthenticated","message":"send Authorization: Bearer <api token> & retry"}}`},
		{"WriteJSON", func(w http.ResponseWriter) {
			httpx.WriteJSON(w, http.StatusOK, map[string]string{"name": "Tom & Jerry <3"})
		}, `{"name":"Tom & Jerry <3"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tt.write(rec)
			assert.Equal(t, tt.want, strings.TrimSpace(rec.Body.String()))
			assert.NotContains(t, rec.Body.String(), `\u003c`)
			assert.True(t, json.Valid(rec.Body.Bytes()))
		})
	}
}

// TestEveryCodeOnTheWire: every code maps to its documented status and
// JSON-RPC error code, and a status another library answers with maps
// back to a code.
func TestEveryCodeOnTheWire(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		code   string
		status int
		rpc    int
	}{
		{tokens.CodeInvalidArgument, 400, -32000},
		{tokens.CodeInvalidCursor, 400, -32000},
		{tokens.CodeUnauthenticated, 401, -32000},
		{tokens.CodePermissionDenied, 403, -32000},
		{tokens.CodeNotFound, 404, -32001},
		{tokens.CodeMethodNotAllowed, 405, -32000},
		{tokens.CodeRequestTimeout, 408, -32000},
		{tokens.CodeConflict, 409, -32000},
		{tokens.CodeReauthorizationRequired, 409, -32000},
		{tokens.CodeScopeMissing, 409, -32000},
		{tokens.CodeIdempotencyKeyReused, 409, -32000},
		{tokens.CodeModuleNotAllowed, 403, -32000},
		{tokens.CodeTooLarge, 413, -32000},
		{tokens.CodeUnsupportedMediaType, 415, -32000},
		{tokens.CodeRateLimited, 429, -32000},
		{tokens.CodeUpstreamError, 502, -32000},
		{tokens.CodeUpstreamUnavailable, 502, -32000},
		{tokens.CodeUnavailable, 503, -32000},
		{tokens.CodeInternal, 500, -32000},
		{tokens.CodeCanceled, 499, -32000},
		{"no_such_code", 500, -32000},
	} {
		assert.Equal(t, tt.status, httpx.StatusOf(tt.code), tt.code)
		assert.Equal(t, tt.rpc, httpx.RPCCodeOf(tt.code), tt.code)
	}
	for status, code := range map[int]string{
		400: tokens.CodeInvalidArgument,
		401: tokens.CodeUnauthenticated,
		403: tokens.CodePermissionDenied,
		404: tokens.CodeNotFound,
		406: tokens.CodeInvalidArgument, // no code of its own: a 4xx is the client's
		409: tokens.CodeConflict,
		413: tokens.CodeTooLarge,
		415: tokens.CodeUnsupportedMediaType,
		429: tokens.CodeRateLimited,
		502: tokens.CodeUpstreamError,
		504: tokens.CodeInternal,
	} {
		assert.Equal(t, code, httpx.CodeOf(status), status)
	}
}

// TestNotRouted: a path served for other methods is 405
// method_not_allowed with Allow; an unknown path is 404 not_found.
func TestNotRouted(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("POST /things", func(http.ResponseWriter, *http.Request) {})
	tests := []struct {
		method, path string
		status       int
		code         string
		allow        string
	}{
		{"DELETE", "/things", 405, tokens.CodeMethodNotAllowed, "GET, HEAD, POST"},
		{"GET", "/nothing", 404, tokens.CodeNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			httpx.NotRouted(mux, rec, httptest.NewRequest(tt.method, tt.path, nil), "test endpoint")
			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, tt.allow, rec.Header().Get("Allow"))
			var body struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			assert.Equal(t, tt.code, body.Error.Code)
			assert.NotEmpty(t, body.Error.Message)
		})
	}
}

// TestClassifyCanceled: a request its client cancelled (its own context
// done) is the client's outcome, canceled, which no one reads and which
// is no server error; a context.Canceled while the request's context is
// live came from the server itself, and is an internal error for the log.
func TestClassifyCanceled(t *testing.T) {
	t.Parallel()
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	wrapped := fmt.Errorf("load the account: %w", context.Canceled)

	code, msg, known := httpx.Classify(gone, wrapped)
	assert.Equal(t, tokens.CodeCanceled, code)
	assert.Equal(t, httpx.StatusClientClosedRequest, httpx.StatusOf(code))
	assert.NotEmpty(t, msg)
	assert.True(t, known, "nothing for the error log")

	code, _, known = httpx.Classify(context.Background(), wrapped)
	assert.Equal(t, tokens.CodeInternal, code)
	assert.False(t, known, "a cancellation the client did not make is the server's, for the log")

	code, _, known = httpx.Classify(gone, &tokens.Error{Code: tokens.CodeNotFound, Message: "no such account"})
	assert.Equal(t, tokens.CodeNotFound, code, "other errors keep their code")
	assert.True(t, known)
}
