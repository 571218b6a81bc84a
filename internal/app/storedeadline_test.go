package app_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/store/etcdstore/etcdtest"
)

// Requests admitted in the first moments of an etcd outage, while the
// replica still counts itself current (well inside
// BIGIN_MCP_ETCD_MAX_STALENESS), waited for the whole outage on their
// store calls (30.6 s observed, unbounded). Each store call made for a
// request now ends within the store deadline, and the request gets 503
// unavailable with Retry-After: on the admin API, the REST face, api_token
// and oauth MCP URLs, the OAuth token endpoint, client registration and
// connect links.
func TestStoreOutageAnswers503WithinTheStoreDeadline(t *testing.T) {
	t.Parallel()
	cluster := etcdtest.Start(t, 1)
	const storeTimeout = 300 * time.Millisecond
	e := replicas(t, cluster, 1, func(c *app.Config) {
		c.MaxStaleness = time.Hour // the replica stays admitting: the deadline alone must answer
		c.StoreTimeout = storeTimeout
	})[0]
	acct := e.ConnectAccount("us")
	_, apiTokenURL := e.MintURL(acct, map[string]any{"auth": "api_token"})
	_, oauthURL := e.MintURL(acct, map[string]any{"auth": "oauth"})
	link := e.AdminCall("POST", "/admin/connect-links", map[string]any{"name": "customer"}, http.StatusCreated)["url"].(string)
	reg := e.RequestAs("", "application/json", "POST", "/oauth/register", map[string]any{
		"redirect_uris": []string{"https://client.example.com/cb"}, "client_name": "c"})
	require.Equal(t, http.StatusCreated, reg.Status, "%s", reg.Body)
	clientID := reg.JSON(t)["client_id"].(string)

	cluster.StopAll()

	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	tests := []struct {
		name, method, url, contentType, bearer, body string
	}{
		{"admin API", "GET", e.URL + "/admin/integrated-accounts", "", e.Admin, ""},
		{"REST face", "GET", e.URL + "/integrated-account/" + acct + "/tools", "", e.Admin, ""},
		{"api_token MCP URL", "POST", apiTokenURL, "application/json", e.Admin, initialize},
		{"oauth MCP URL", "POST", oauthURL, "application/json", "bmcp_at_" + strings.Repeat("x", 43), initialize},
		{"OAuth token", "POST", e.URL + "/oauth/token", "application/x-www-form-urlencoded", "",
			url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {"bmcp_rt_" + strings.Repeat("x", 43)}}.Encode()},
		{"client registration", "POST", e.URL + "/oauth/register", "application/json", "",
			`{"redirect_uris":["https://other.example.com/cb"],"client_name":"d"}`},
		{"connect link", "GET", strings.Replace(link, e.Public, e.URL, 1), "", "", ""},
	}
	client := &http.Client{Timeout: 20 * storeTimeout} // far past the deadline, far short of "unbounded"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			require.NoError(t, err)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			req.Header.Set("Accept", "application/json, text/event-stream")
			if tt.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tt.bearer)
			}
			resp, err := client.Do(req)
			require.NoError(t, err, "answered within the store deadline, not after the outage")
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%s", body)
			assert.Equal(t, "1", resp.Header.Get("Retry-After"))
			if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				assert.Regexp(t, `unavailable`, string(body))
			}
		})
	}
	// The web UI's sign-in looks the API token up in the store: its page
	// says the server is unavailable, with the same Retry-After.
	t.Run("web UI sign-in", func(t *testing.T) {
		jar, err := cookiejar.New(nil)
		require.NoError(t, err)
		browser := &http.Client{Jar: jar, Timeout: 20 * storeTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := browser.Get(e.URL + "/ui/signin")
		require.NoError(t, err)
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(page))
		require.NotNil(t, csrf, "the sign-in page has its CSRF token: %s", page)
		resp, err = browser.PostForm(e.URL+"/ui/signin", url.Values{"csrf": {csrf[1]}, "token": {e.Admin}})
		require.NoError(t, err, "answered within the store deadline, not after the outage")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%s", body)
		assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	})
}
