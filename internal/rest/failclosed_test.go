package rest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/internal/rest"
)

// TestAccountCheckFailsClosed: the REST face checks an API token's
// account limit against the caller its guard put in the request's
// context. A guard that let a request through without one (a wiring
// mistake) must not turn that check off: every request that names an
// account is refused with 401, and none reaches Zoho.
func TestAccountCheckFailsClosed(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{})
	acct := e.ConnectAccount("us")
	passThrough := func(_ string, h http.Handler) http.Handler { return h } // sets no caller
	api, err := rest.New(rest.Options{Service: e.Svc, Catalog: e.App.Catalog, Executor: e.App.Executor, RequireScope: passThrough})
	require.NoError(t, err)
	mux := http.NewServeMux()
	api.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	before := e.Sandboxes["us"].APIRequestCount()

	for _, req := range []struct{ name, method, path, body string }{
		{"tools list", http.MethodGet, "/integrated-account/" + acct + "/tools", ""},
		{"tool call", http.MethodPost, "/integrated-account/" + acct + "/tools/list_all_zohobigin_me", "{}"},
		{"unified", http.MethodGet, "/unified/user-directory/roles?integrated_account_id=" + acct, ""},
		{"proxy", http.MethodGet, "/proxy/me?integrated_account_id=" + acct, ""},
	} {
		t.Run(req.name, func(t *testing.T) {
			r, err := http.NewRequest(req.method, srv.URL+req.path, strings.NewReader(req.body))
			require.NoError(t, err)
			r.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(r)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			got := apptest.Response{Status: resp.StatusCode, Body: body}
			require.Equal(t, http.StatusUnauthorized, got.Status, "%s", got.Body)
			code, msg, _ := errorOf(t, got)
			assert.Equal(t, "unauthenticated", code)
			assert.Contains(t, msg, "Bearer <api token>")
		})
	}
	assert.Equal(t, before, e.Sandboxes["us"].APIRequestCount(), "no request reached Zoho")
}
