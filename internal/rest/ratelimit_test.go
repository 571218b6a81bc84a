package rest_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

// TestRateLimitHeadersOnEveryAnswer: a REST call through an account with
// a rate limit answers with the limit's state whatever its outcome, so a
// client can pace itself before it is refused; the refusal is the
// server's own (no upstream: Zoho was never called); a call without a
// limit carries no such headers.
func TestRateLimitHeadersOnEveryAnswer(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	sb := s.Sandboxes["us"]
	for name := range surfaces("") {
		t.Run(name, func(t *testing.T) {
			acct := s.ConnectAccount("us")
			send := surfaces(acct)[name]

			r := send(s.Env)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			for _, h := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"} {
				assert.Empty(t, r.Header.Get(h), "%s without a limit", h)
			}

			s.AdminCall(http.MethodPatch, "/admin/integrated-accounts/"+acct, map[string]any{"rate_limit": map[string]any{"requests": 3, "per_seconds": 60}}, http.StatusOK)
			for i, want := range []string{"2", "1"} {
				r := send(s.Env)
				require.Equal(t, http.StatusOK, r.Status, "call %d: %s", i, r.Body)
				assert.Equal(t, "3", r.Header.Get("RateLimit-Limit"), "call %d", i)
				assert.Equal(t, want, r.Header.Get("RateLimit-Remaining"), "call %d", i)
				assert.Equal(t, strconv.Itoa(20*(i+1)), r.Header.Get("RateLimit-Reset"), "call %d: seconds until the bucket is full", i)
				assert.Empty(t, r.Header.Get("Retry-After"), "call %d was allowed", i)
			}

			// The last call of the budget fails at Zoho: the limit's
			// state still comes with it.
			sb.FailNext(1, sandbox.ErrorIn200)
			r = send(s.Env)
			require.Equal(t, http.StatusBadGateway, r.Status, "%s", r.Body)
			assert.Equal(t, "0", r.Header.Get("RateLimit-Remaining"), "a failed call spent its budget too")

			r = send(s.Env)
			require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Body)
			assert.Equal(t, "3", r.Header.Get("RateLimit-Limit"))
			assert.Equal(t, "0", r.Header.Get("RateLimit-Remaining"))
			assert.Equal(t, "20", r.Header.Get("Retry-After"), "one call refills in 60/3 seconds")
			assert.Equal(t, "60", r.Header.Get("RateLimit-Reset"))
		})
	}
}

// TestOwnRateLimitRefusalHasNoUpstream: a 429 of the account's own limit
// says so and carries no upstream block, for Zoho was never called.
func TestOwnRateLimitRefusalHasNoUpstream(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	sb := s.Sandboxes["us"]
	s.AdminCall(http.MethodPatch, "/admin/integrated-accounts/"+s.account, map[string]any{"rate_limit": map[string]any{"requests": 1, "per_seconds": 60}}, http.StatusOK)
	for name, send := range surfaces(s.account) {
		t.Run(name, func(t *testing.T) {
			s.Clock.Advance(time.Minute) // a whole budget again
			require.Equal(t, http.StatusOK, send(s.Env).Status)
			sb.ResetCounts()
			r := send(s.Env)
			require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Body)
			assert.Zero(t, sb.APIRequestCount(), "a call over the limit never reaches Zoho")
			code, msg, up := errorOf(t, r)
			assert.Equal(t, "rate_limited", code)
			assert.Contains(t, msg, "this Bigin account's rate limit of 1 calls per 60 seconds")
			assert.Nil(t, up, "no upstream block: Zoho was never called")
		})
	}
}

// TestZoho429WithAnAccountLimit: Zoho's 429 reports Zoho's limit, not the
// account's, and keeps Zoho's facts in upstream.
func TestZoho429WithAnAccountLimit(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	sb := s.Sandboxes["us"]
	s.AdminCall(http.MethodPatch, "/admin/integrated-accounts/"+s.account, map[string]any{"rate_limit": map[string]any{"requests": 50, "per_seconds": 60}}, http.StatusOK)
	sb.FailNext(1, sandbox.RateLimited)
	r := surfaces(s.account)["proxy"](s.Env)
	require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Body)
	code, _, up := errorOf(t, r)
	assert.Equal(t, "rate_limited", code)
	assert.Equal(t, "TOO_MANY_REQUESTS", up["code"], "Zoho's facts")
	assert.Equal(t, strconv.Itoa(sandbox.FaultRateLimit), r.Header.Get("RateLimit-Limit"), "Zoho's limit refused the call")
	assert.Equal(t, "0", r.Header.Get("RateLimit-Remaining"))
	assert.Equal(t, "30", r.Header.Get("Retry-After"))
}
