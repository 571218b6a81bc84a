package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/internal/oauth"
)

// serve applies the limits of its settings: a slow body gets 408, a
// stream past the per-URL cap gets 429, and both show in the logs.
func TestServeAppliesLimits(t *testing.T) {
	t.Parallel()
	_, base, tok, url, logs, _ := sandboxServe(t, map[string]string{
		"BIGIN_MCP_DATA_DIR":                t.TempDir(),
		"BIGIN_MCP_BODY_TIMEOUT":            "500ms",
		"BIGIN_MCP_SSE_MAX_STREAMS_PER_URL": "1",
	})

	slow := (&apptest.SlowBody{Method: "POST", Path: "/admin/api-tokens", Length: 1000, Every: 50 * time.Millisecond,
		Header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + tok}}}).Start(t, base)
	resp, _, err := slow.Response(20 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	statuses := make([]int, 2)
	for i := range statuses {
		req, _ := http.NewRequestWithContext(ctx, "GET", url+"/sse", nil)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		statuses[i] = resp.StatusCode
	}
	assert.Equal(t, []int{http.StatusOK, http.StatusTooManyRequests}, statuses)

	var sawTimeout, sawRefusal bool
	for _, line := range strings.Split(logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil || m["msg"] != "http request" {
			continue
		}
		switch m["status"] {
		case float64(http.StatusRequestTimeout):
			sawTimeout = true
		case float64(http.StatusTooManyRequests):
			sawRefusal = m["sse_refused"] == "per_url" && m["sse_streams_url"] == "1" && m["sse_streams_total"] == "1"
		}
	}
	assert.True(t, sawTimeout, "the 408 is logged")
	assert.True(t, sawRefusal, "the refused stream is logged with the counts: %s", logs.String())
	assert.NotContains(t, logs.String(), strings.TrimPrefix(url, base+"/mcp/"), "no MCP token in the logs")
}

// TestServeTrustsItsProxies: behind the proxy BIGIN_MCP_TRUSTED_PROXIES
// names, each client it forwards has per-address limits of its own,
// as the settings of those limits set them, and the request log names
// the client.
func TestServeTrustsItsProxies(t *testing.T) {
	t.Parallel()
	base, tok, logs, _ := startServe(t, map[string]string{
		"BIGIN_MCP_DATA_DIR":                        t.TempDir(),
		"BIGIN_MCP_TRUSTED_PROXIES":                 "127.0.0.1",
		"BIGIN_MCP_CREDENTIAL_FAILURES":             "3",
		"BIGIN_MCP_CREDENTIAL_FAILURE_REFILL":       "1h",
		"BIGIN_MCP_OAUTH_REGISTRATIONS_PER_ADDRESS": "1",
		"BIGIN_MCP_CIMD_FETCHES_PER_ADDRESS":        "1",
	})
	target, err := neturl.Parse(base)
	require.NoError(t, err)
	// A proxy on 127.0.0.1 that appends its client's address to
	// X-Forwarded-For.
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
		pr.SetXForwarded()
	}})
	defer proxy.Close()
	a, b := apptest.ClientFrom("127.0.0.2"), apptest.ClientFrom("127.0.0.3")
	do := func(c *http.Client, method, path, bearer, body string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, proxy.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := c.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res
	}

	// Failed credential checks: 3, one back every hour.
	wrong := "bmcp_api_" + strings.Repeat("x", 43)
	for i := range 3 {
		require.Equal(t, http.StatusUnauthorized, do(a, "GET", "/admin/api-tokens", wrong, "").StatusCode, "failure %d", i+1)
	}
	res := do(a, "GET", "/admin/api-tokens", tok, "")
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode, "the fourth request with a token")
	assert.Equal(t, "3600", res.Header.Get("Retry-After"))
	assert.Equal(t, http.StatusOK, do(b, "GET", "/admin/api-tokens", tok, "").StatusCode, "another client behind the same proxy")

	// OAuth client registrations: 1 per address.
	const registration = `{"client_name":"c","redirect_uris":["http://127.0.0.1/cb"]}`
	assert.Equal(t, http.StatusCreated, do(a, "POST", oauth.RegisterPath, "", registration).StatusCode)
	assert.Equal(t, http.StatusTooManyRequests, do(a, "POST", oauth.RegisterPath, "", registration).StatusCode)
	assert.Equal(t, http.StatusCreated, do(b, "POST", oauth.RegisterPath, "", registration).StatusCode, "another client registers")

	// Metadata documents fetched: 1 per address and minute. Loopback
	// documents are refused when fetched, which still counts.
	authorize := func(c *http.Client, doc string) {
		t.Helper()
		q := neturl.Values{"client_id": {"https://127.0.0.1:1/" + doc + ".json"}}
		assert.Equal(t, http.StatusBadRequest, do(c, "GET", oauth.AuthorizePath+"?"+q.Encode(), "", "").StatusCode, doc)
	}
	authorize(a, "first")
	authorize(a, "second")
	authorize(b, "third")
	fetched := map[string]string{}
	var clientOf []string // the client of each 429
	for _, line := range strings.Split(logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil {
			continue // the first-start block, which prints the admin token once
		}
		assert.NotContains(t, line, tok, "no token in the log")
		assert.NotContains(t, line, wrong, "no token in the log")
		switch m["msg"] {
		case "client metadata document refused", "client metadata document not fetched":
			id, _ := m["client_id"].(string)
			fetched[id] = m["msg"].(string)
		case "http request":
			if m["status"] == float64(http.StatusTooManyRequests) {
				clientOf = append(clientOf, fmt.Sprint(m["client_addr"]))
			}
		}
	}
	assert.Equal(t, map[string]string{
		"https://127.0.0.1:1/first.json":  "client metadata document refused",
		"https://127.0.0.1:1/second.json": "client metadata document not fetched",
		"https://127.0.0.1:1/third.json":  "client metadata document refused",
	}, fetched, "the second document of the first client is not fetched; the other client's is")
	assert.Equal(t, []string{"127.0.0.2", "127.0.0.2"}, clientOf, "the request log names the client behind the proxy")
}
