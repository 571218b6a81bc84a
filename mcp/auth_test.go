package mcp_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
)

// A tool call through an api_token URL is audited with the API token that
// made it: the identity admission found travels with the request, on
// both transports.
func TestAPITokenCallsAreAuditedWithTheirToken(t *testing.T) {
	e := newEnv(t)
	acct := e.ConnectAccount("us")
	id, url := e.MintURL(acct, map[string]any{"auth": "api_token"})
	created := e.AdminCall(http.MethodPost, "/admin/api-tokens", map[string]any{"name": "agent", "scopes": []string{"tools"}}, http.StatusCreated)
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
