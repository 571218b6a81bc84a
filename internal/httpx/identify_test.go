package httpx_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// TestIdentify: the caller a surface found travels in the context to
// what runs after it, and the request's log line names it by id.
func TestIdentify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		who    *tokens.Caller
		logged map[string]string
	}{
		{"API token", &tokens.Caller{APIToken: &tokens.APIToken{ID: "t1"}}, map[string]string{"api_token_id": "t1"}},
		{"OAuth grant", &tokens.Caller{MCPServerID: "s1", Grant: &tokens.OAuthGrant{ID: "g1", ZUID: "z1"}}, map[string]string{"oauth_grant_id": "g1"}},
		{"URL alone", &tokens.Caller{MCPServerID: "s1"}, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			var seen *tokens.Caller
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = tokens.CallerFrom(r.Context()) })
			h := httpx.LogRequests(slog.New(slog.NewJSONHandler(&buf, nil)), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(w, httpx.Identify(r, tt.who))
			}))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))

			assert.Same(t, tt.who, seen, "the next handler reads who calls from the context")
			var line map[string]any
			require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
			for _, key := range []string{"api_token_id", "oauth_grant_id"} {
				if want, ok := tt.logged[key]; ok {
					assert.Equal(t, want, line[key], key)
				} else {
					assert.NotContains(t, line, key)
				}
			}
		})
	}
}
