package rest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
)

func TestScopedAPITokens(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{Datacenters: []string{"us", "eu"}})
	us, eu := e.ConnectAccount("us"), e.ConnectAccount("eu")
	mint := func(body map[string]any) string {
		out := e.AdminCall(http.MethodPost, "/admin/api-tokens", body, http.StatusCreated)
		return out["token"].(string)
	}
	proxyOnly := mint(map[string]any{"name": "proxy", "scopes": []string{"proxy"}})
	usOnly := mint(map[string]any{"name": "us", "account_ids": []string{us}})
	adminOnly := mint(map[string]any{"name": "admin", "scopes": []string{"admin"}})

	requests := map[string]func(acct string) (string, string, any){
		"admin": func(string) (string, string, any) { return http.MethodGet, "/admin/api-tokens", nil },
		"tools": func(acct string) (string, string, any) {
			return http.MethodPost, "/integrated-account/" + acct + "/tools/list_all_zohobigin_me", map[string]any{}
		},
		"tools list": func(acct string) (string, string, any) {
			return http.MethodGet, "/integrated-account/" + acct + "/tools", nil
		},
		"unified": func(acct string) (string, string, any) {
			return http.MethodGet, "/unified/user-directory/roles?integrated_account_id=" + acct, nil
		},
		"proxy": func(acct string) (string, string, any) {
			return http.MethodGet, "/proxy/me?integrated_account_id=" + acct, nil
		},
	}
	tests := []struct {
		token, tokenName string
		request          string
		acct             string
		status           int
	}{
		{e.Admin, "unlimited (made before limits)", "admin", us, 200},
		{e.Admin, "unlimited (made before limits)", "tools", eu, 200},
		{e.Admin, "unlimited (made before limits)", "unified", eu, 200},
		{e.Admin, "unlimited (made before limits)", "proxy", us, 200},
		{proxyOnly, "proxy scope", "proxy", eu, 200},
		{proxyOnly, "proxy scope", "unified", eu, 403},
		{proxyOnly, "proxy scope", "tools", eu, 403},
		{proxyOnly, "proxy scope", "tools list", eu, 403},
		{proxyOnly, "proxy scope", "admin", eu, 403},
		{usOnly, "us account", "proxy", us, 200},
		{usOnly, "us account", "tools", us, 200},
		{usOnly, "us account", "tools list", us, 200},
		{usOnly, "us account", "unified", us, 200},
		{usOnly, "us account", "proxy", eu, 403},
		{usOnly, "us account", "tools", eu, 403},
		{usOnly, "us account", "tools list", eu, 403},
		{usOnly, "us account", "unified", eu, 403},
		{usOnly, "us account", "admin", us, 403},
		{adminOnly, "admin scope", "admin", us, 200},
		{adminOnly, "admin scope", "proxy", us, 403},
	}
	for _, tt := range tests {
		t.Run(tt.tokenName+" on "+tt.request+" of "+map[string]string{us: "us", eu: "eu"}[tt.acct], func(t *testing.T) {
			method, path, body := requests[tt.request](tt.acct)
			r := e.RequestAs(tt.token, "application/json", method, path, body)
			require.Equal(t, tt.status, r.Status, "%s", r.Body)
			if tt.status == 403 {
				code, _, _ := errorOf(t, r)
				assert.Equal(t, "permission_denied", code)
			}
		})
	}

	t.Run("limits are shown, never the token", func(t *testing.T) {
		list := e.AdminCall(http.MethodGet, "/admin/api-tokens?limit=100", nil, http.StatusOK)["result"].([]any)
		byName := map[string]map[string]any{}
		for _, v := range list {
			m := v.(map[string]any)
			assert.NotContains(t, m, "token")
			byName[m["name"].(string)] = m
		}
		assert.Equal(t, []any{"proxy"}, byName["proxy"]["scopes"])
		assert.Equal(t, []any{}, byName["proxy"]["account_ids"])
		assert.Equal(t, []any{us}, byName["us"]["account_ids"])
		assert.Equal(t, []any{"proxy", "tools", "unified"}, byName["us"]["scopes"], "a token limited to accounts gets every scope but admin")
	})

	t.Run("limits survive a restart", func(t *testing.T) {
		e.Reopen()
		r := e.RequestAs(proxyOnly, "", http.MethodGet, "/unified/user-directory/roles?integrated_account_id="+us, nil)
		assert.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
		r = e.RequestAs(proxyOnly, "", http.MethodGet, "/proxy/me?integrated_account_id="+us, nil)
		assert.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	})

	bad := []struct {
		name string
		body map[string]any
		msg  string
	}{
		{"unknown scope", map[string]any{"name": "x", "scopes": []string{"everything"}}, `unknown scope "everything" in scopes; valid scopes: admin, tools, unified, proxy`},
		{"unknown account", map[string]any{"name": "x", "account_ids": []string{"nope"}}, `account_ids: no integrated account has id "nope"`},
		{"admin limited to accounts", map[string]any{"name": "x", "account_ids": []string{us}, "scopes": []string{"admin", "proxy"}}, "cannot have the admin scope"},
		{"scopes not a list", map[string]any{"name": "x", "scopes": "proxy"}, `field "scopes" must be an array of strings`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			r := e.Request(http.MethodPost, "/admin/api-tokens", tt.body)
			require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
			_, msg, _ := errorOf(t, r)
			assert.Contains(t, msg, tt.msg)
		})
	}
	n, err := e.DB.CountAPITokens(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 4, n, "no refused token was stored")
}
