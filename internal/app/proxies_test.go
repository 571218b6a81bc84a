package app_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
)

// appendingProxy is a reverse proxy on 127.0.0.1 in front of target that
// appends the address of each client to X-Forwarded-For, as nginx's
// $proxy_add_x_forwarded_for and most load balancers do.
func appendingProxy(t *testing.T, target string) *httptest.Server {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	p := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
		pr.SetXForwarded()
	}})
	t.Cleanup(p.Close)
	return p
}

// TestClientsBehindATrustedProxyHaveTheirOwnBudgets: behind a reverse
// proxy every client connects from the proxy's address. Unless the proxy
// is trusted, one client's wrong tokens spend the budget of all of them,
// and a client that never sent a wrong token is refused; once it is
// trusted, each client behind it (the address the proxy appends to
// X-Forwarded-For) has a budget of its own, whatever a client writes in
// the header itself, and a client that reaches the server without the
// proxy cannot pass for another one through the header.
func TestClientsBehindATrustedProxyHaveTheirOwnBudgets(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		trusted []string
		other   int // what the other client gets with the right token
	}{
		{"no proxy trusted: its clients share one budget", nil, http.StatusTooManyRequests},
		{"the proxy trusted: a budget per client", []string{"127.0.0.1"}, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			proxies, err := httpx.ParseTrustedProxies(tt.trusted)
			require.NoError(t, err)
			e := apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.TrustedProxies = proxies }})
			proxy := appendingProxy(t, e.URL)
			wrong := "bmcp_api_" + strings.Repeat("x", 43)
			send := func(c *http.Client, base, token, forwardedFor string) int {
				t.Helper()
				req, err := http.NewRequest("GET", base+"/admin/api-tokens", nil)
				require.NoError(t, err)
				req.Header.Set("Authorization", "Bearer "+token)
				if forwardedFor != "" {
					req.Header.Set("X-Forwarded-For", forwardedFor)
				}
				res, err := c.Do(req)
				require.NoError(t, err)
				res.Body.Close()
				return res.StatusCode
			}
			guesser, other := apptest.ClientFrom("127.0.0.2"), apptest.ClientFrom("127.0.0.3")

			// The guesser, through the proxy, tries to pin its failures on
			// the other client by naming it in the header.
			for i := range app.DefaultCredentialFailures.Requests {
				require.Equal(t, http.StatusUnauthorized, send(guesser, proxy.URL, wrong, "127.0.0.3"), "failure %d", i+1)
			}
			assert.Equal(t, http.StatusTooManyRequests, send(guesser, proxy.URL, e.Admin, ""), "the guesser spent its budget")
			assert.Equal(t, tt.other, send(other, proxy.URL, e.Admin, ""), "the other client, through the same proxy")
			if tt.trusted == nil {
				return
			}

			// A client straight to the server, naming the other client.
			direct := apptest.ClientFrom("127.0.0.4")
			for i := range app.DefaultCredentialFailures.Requests {
				require.Equal(t, http.StatusUnauthorized, send(direct, e.URL, wrong, "127.0.0.3"), "failure %d", i+1)
			}
			assert.Equal(t, http.StatusTooManyRequests, send(direct, e.URL, e.Admin, "127.0.0.3"), "its own budget is spent")
			assert.Equal(t, http.StatusOK, send(other, proxy.URL, e.Admin, ""), "the header of a peer that is not trusted counts for nothing")
		})
	}
}

// TestCredentialFailureBudgetOff: with the budget off, wrong tokens are
// refused one by one and never the address.
func TestCredentialFailureBudgetOff(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.Limits.NoCredentialFailureBudget = true }})
	c := apptest.ClientFrom("127.0.0.2")
	send := func(token string) int {
		t.Helper()
		req, err := http.NewRequest("GET", e.URL+"/admin/api-tokens", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := c.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	wrong := "bmcp_api_" + strings.Repeat("x", 43)
	for i := range app.DefaultCredentialFailures.Requests + 5 {
		require.Equal(t, http.StatusUnauthorized, send(wrong), "failure %d", i+1)
	}
	assert.Equal(t, http.StatusOK, send(e.Admin), "the right token still works")
}
