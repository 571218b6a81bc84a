package app_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
)

// TestBearerFailuresAreBudgetedPerAddress: an address that presents
// wrong bearer tokens (API tokens on the admin API, the REST face and
// api_token MCP URLs; access tokens on oauth URLs) spends one budget
// across all of them; past it, every request it makes with a bearer
// token gets 429 with Retry-After, its token unchecked (a right one
// too), until a failure comes back. Other addresses are not affected.
func TestBearerFailuresAreBudgetedPerAddress(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{})
	acct := e.ConnectAccount("us")
	_, apiURL := e.MintURL(acct, map[string]any{"auth": "api_token"})
	_, oauthURL := e.MintURL(acct, map[string]any{"auth": "oauth"})
	const list = `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
	surfaces := []struct {
		name, method, url, body string
		ok                      int // the status with the right token
	}{
		{"admin API", "GET", e.URL + "/admin/api-tokens", "", http.StatusOK},
		{"REST face", "GET", e.URL + "/integrated-account/" + acct + "/tools", "", http.StatusOK},
		{"api_token MCP URL", "POST", apiURL, list, http.StatusOK},
		{"oauth MCP URL", "POST", oauthURL, list, 0}, // no right API token here
	}
	send := func(c *http.Client, i int, token string) *http.Response {
		t.Helper()
		s := surfaces[i%len(surfaces)]
		req, err := http.NewRequest(s.method, s.url, strings.NewReader(s.body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		if s.body != "" {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
		}
		res, err := c.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res
	}
	wrong := "bmcp_api_" + strings.Repeat("x", 43)
	guesser, other := apptest.ClientFrom("127.0.0.2"), apptest.ClientFrom("127.0.0.3")

	budget := app.DefaultCredentialFailures.Requests
	for i := range budget {
		assert.Equal(t, http.StatusUnauthorized, send(guesser, i, wrong).StatusCode, "failure %d, on the %s", i+1, surfaces[i%len(surfaces)].name)
	}
	refill := app.DefaultCredentialFailures.Per / time.Duration(budget)
	for i, s := range surfaces {
		for _, tok := range []string{wrong, e.Admin} {
			res := send(guesser, i, tok)
			assert.Equal(t, http.StatusTooManyRequests, res.StatusCode, "%s: past the budget, the token is not even checked", s.name)
			secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
			assert.NoError(t, err, "%s: Retry-After", s.name)
			assert.Equal(t, int(refill/time.Second), secs, "%s: until one failure comes back", s.name)
		}
	}
	for i, s := range surfaces {
		assert.Equal(t, http.StatusUnauthorized, send(other, i, wrong).StatusCode, "%s: another address has its own budget", s.name)
		if s.ok != 0 {
			assert.Equal(t, s.ok, send(other, i, e.Admin).StatusCode, "%s: and is served", s.name)
		}
	}

	e.Clock.Advance(refill)
	assert.Equal(t, http.StatusOK, send(guesser, 0, e.Admin).StatusCode, "a failure came back: the right token works")
	assert.Equal(t, http.StatusUnauthorized, send(guesser, 0, wrong).StatusCode, "and a wrong one spends it")
	assert.Equal(t, http.StatusTooManyRequests, send(guesser, 0, e.Admin).StatusCode)
}
