package rest_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
)

// surfaces are one users list on each REST surface.
func surfaces(account string) map[string]func(*apptest.Env) apptest.Response {
	return map[string]func(*apptest.Env) apptest.Response{
		"tools": func(e *apptest.Env) apptest.Response {
			return e.Request(http.MethodPost, "/integrated-account/"+account+"/tools/list_all_zohobigin_users", map[string]any{})
		},
		"unified": func(e *apptest.Env) apptest.Response {
			return e.Request(http.MethodGet, "/unified/user-directory/users?integrated_account_id="+account, nil)
		},
		"proxy": func(e *apptest.Env) apptest.Response {
			return e.Request(http.MethodGet, "/proxy/users?integrated_account_id="+account, nil)
		},
	}
}

func TestZohoErrorsAsHTTP(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	sb := s.Sandboxes["us"]
	for name, send := range surfaces(s.account) {
		t.Run(name, func(t *testing.T) {
			t.Run("429 passes through with the rate-limit headers, not retried", func(t *testing.T) {
				sb.ResetCounts()
				sb.FailNext(1, sandbox.RateLimited)
				r := send(s.Env)
				require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Body)
				assert.Equal(t, 1, sb.APIRequestCount(), "a 429 is never retried")
				code, msg, up := errorOf(t, r)
				assert.Equal(t, "rate_limited", code)
				assert.Contains(t, msg, "did not retry")
				assert.Equal(t, "TOO_MANY_REQUESTS", up["code"])
				assert.Equal(t, strconv.Itoa(sandbox.FaultRateLimit), r.Header.Get("Ratelimit-Limit"))
				assert.Equal(t, "0", r.Header.Get("Ratelimit-Remaining"))
				assert.Equal(t, "30", r.Header.Get("Retry-After"))
				reset, err := strconv.Atoi(r.Header.Get("Ratelimit-Reset"))
				require.NoError(t, err, "ratelimit-reset is delta seconds")
				assert.Positive(t, reset)
				assert.LessOrEqual(t, reset, 31)
			})
			tests := []struct {
				name     string
				fault    sandbox.Fault
				n        int
				status   int
				upstream string
			}{
				{"error inside a 200", sandbox.ErrorIn200, 1, http.StatusBadGateway, "INVALID_DATA"},
				{"5xx after the retries", sandbox.InternalError, 3, http.StatusBadGateway, "INTERNAL_ERROR"},
				{"a proxy's HTML 502", sandbox.BadGateway, 3, http.StatusBadGateway, bigin.CodeInvalidResponse},
				{"garbage", sandbox.Garbage, 1, http.StatusBadGateway, bigin.CodeInvalidResponse},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					sb.FailNext(tt.n, tt.fault)
					r := send(s.Env)
					require.Equal(t, tt.status, r.Status, "%s", r.Body)
					require.Zero(t, sb.PendingFaults())
					code, msg, up := errorOf(t, r)
					assert.Equal(t, "upstream_error", code)
					assert.Equal(t, tt.upstream, up["code"], "Zoho's code")
					assert.NotEmpty(t, up["message"], "Zoho's message")
					assert.Contains(t, msg, tt.upstream)
				})
			}
		})
	}
}

func TestRefusedRefreshTokenIsReauthorizationRequired(t *testing.T) {
	t.Parallel()
	for name := range surfaces("") {
		t.Run(name, func(t *testing.T) {
			e := apptest.New(t, apptest.Options{})
			sb := e.Sandboxes["us"]
			rt := sb.IssueRefreshToken(bigin.Scopes()...)
			acct := e.AdminCall(http.MethodPost, "/admin/integrated-accounts", map[string]any{
				"name": "a", "datacenter": "us", "refresh_token": rt, "client_id": sb.ClientID(), "client_secret": sb.ClientSecret(),
			}, http.StatusCreated)["id"].(string)
			require.True(t, sb.RevokeRefreshToken(rt))
			sb.ExpireAccessTokens()

			r := surfaces(acct)[name](e)
			require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
			code, msg, _ := errorOf(t, r)
			assert.Equal(t, "reauthorization_required", code)
			assert.Contains(t, msg, "reconnect")
			assert.Equal(t, "needs_reauth", e.AdminCall(http.MethodGet, "/admin/integrated-accounts/"+acct, nil, http.StatusOK)["status"])

			// Later calls are refused without reaching Zoho.
			sb.ResetCounts()
			r = surfaces(acct)[name](e)
			require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
			assert.Zero(t, sb.RequestCount())
		})
	}
}
