package mcp_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
)

// An api_token URL takes only API tokens allowed to use MCP (the mcp
// scope, or tools, which reaches the same tools over REST) on its
// account: a token of another surface or another account is refused with
// 403 naming what it lacks, on both transports; a missing or unknown one
// with 401.
func TestAPITokenURLsTakeOnlyMCPTokensOfTheirAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "us", "eu")
	us, eu := e.ConnectAccount("us"), e.ConnectAccount("eu")
	_, url := e.MintURL(us, map[string]any{"auth": "api_token"})
	mint := func(body map[string]any) string {
		return e.AdminCall(http.MethodPost, "/admin/api-tokens", body, http.StatusCreated)["token"].(string)
	}
	tests := []struct {
		name   string
		token  string
		status int
		code   string
		says   string
	}{
		{"unlimited token", e.Admin, 200, "", ""},
		{"mcp scope", mint(map[string]any{"name": "mcp", "scopes": []string{"mcp"}}), 200, "", ""},
		{"tools scope", mint(map[string]any{"name": "tools", "scopes": []string{"tools"}}), 200, "", ""},
		{"limited to the URL's account", mint(map[string]any{"name": "us", "account_ids": []string{us}}), 200, "", ""},
		{"mcp scope on the URL's account", mint(map[string]any{"name": "us mcp", "account_ids": []string{us}, "scopes": []string{"mcp"}}), 200, "", ""},
		{"proxy scope", mint(map[string]any{"name": "proxy", "scopes": []string{"proxy"}}), 403, "permission_denied", "does not have the mcp scope"},
		{"admin scope", mint(map[string]any{"name": "admin", "scopes": []string{"admin"}}), 403, "permission_denied", "does not have the mcp scope"},
		{"limited to another account", mint(map[string]any{"name": "eu", "account_ids": []string{eu}}), 403, "permission_denied", "limited to other integrated accounts, not " + us},
		{"unknown token", "bmcp_api_unknown", 401, "unauthenticated", "requires Authorization: Bearer <api token>"},
		{"no token", "", 401, "unauthenticated", "requires Authorization: Bearer <api token>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.token != "" {
				hdr["Authorization"] = "Bearer " + tt.token
			}
			resp, body := rawPost(t, url, pingBody, hdr)
			require.Equal(t, tt.status, resp.StatusCode, body)
			if tt.status != 200 {
				assertErrorShape(t, body, tt.code)
				assert.Contains(t, decodeAnswer(t, body).Error.Message, tt.says)
				if tt.token != "" {
					assert.NotContains(t, body, tt.token, "the token is never echoed")
				}
			}

			// The legacy SSE transport's stream is admitted the same way.
			req, err := http.NewRequest(http.MethodGet, url+"/sse", nil)
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req = req.WithContext(ctx)
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			sse, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer sse.Body.Close()
			assert.Equal(t, tt.status, sse.StatusCode, "SSE stream")
		})
	}
}

// A tool call through an api_token URL is audited with the API token that
// made it: the identity admission found travels with the request, on
// both transports.
func TestAPITokenCallsAreAuditedWithTheirToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.ConnectAccount("us")
	id, url := e.MintURL(acct, map[string]any{"auth": "api_token"})
	created := e.AdminCall(http.MethodPost, "/admin/api-tokens", map[string]any{"name": "agent", "scopes": []string{"mcp"}}, http.StatusCreated)
	hdr := http.Header{"Authorization": {"Bearer " + created["token"].(string)}}
	for _, transport := range []string{"streamable", "sse"} {
		cs, err := e.Connect(url, transport, hdr)
		require.NoError(t, err, transport)
		apptest.CallTool(t, cs, "list_all_zohobigin_me", nil)
		require.NoError(t, cs.Close())
	}
	e.App.Flush()

	entries, _, err := e.DB.Audit(context.Background(), "", 100)
	require.NoError(t, err)
	calls := 0
	for _, en := range entries {
		if en.Action != "tool_call" {
			continue
		}
		calls++
		assert.Equal(t, "mcp:"+id, en.Actor)
		assert.Equal(t, created["id"], en.APITokenID, "the call names the API token that made it")
		assert.Equal(t, "mcp", en.Surface)
	}
	assert.Equal(t, 2, calls, "one call per transport")
}
