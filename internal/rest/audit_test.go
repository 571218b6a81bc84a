package rest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

func TestEveryCallIsAuditedWithItsSurface(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	tok := s.AdminCall(http.MethodPost, "/admin/api-tokens", map[string]any{"name": "agent", "scopes": []string{"tools", "unified", "proxy"}}, http.StatusCreated)
	q := "?integrated_account_id=" + s.account
	send := func(method, path string, body any, want int) {
		r := s.RequestAs(tok["token"].(string), "application/json", method, path, body)
		require.Equal(t, want, r.Status, "%s", r.Body)
	}
	send(http.MethodPost, "/integrated-account/"+s.account+"/tools/list_all_zohobigin_roles", map[string]any{}, 200)
	send(http.MethodGet, "/unified/user-directory/users/"+s.Sandboxes["us"].PrimaryUserID()+q, nil, 200)
	s.Sandboxes["us"].FailNext(1, sandbox.RateLimited)
	send(http.MethodGet, "/proxy/users"+q, nil, 429)
	s.App.Flush()

	entries, _, err := s.DB.Audit(context.Background(), "", 3)
	require.NoError(t, err)
	require.Len(t, entries, 3)
	actor := "api_token:" + tok["id"].(string)
	type row struct{ Surface, Action, Tool, Operation, Outcome, Actor, APIToken, Account string }
	var got []row
	for _, e := range entries {
		got = append(got, row{e.Surface, e.Action, e.Tool, e.Operation, e.Outcome, e.Actor, e.APITokenID, e.AccountID})
	}
	id := tok["id"].(string)
	assert.Equal(t, []row{
		{"rest", "proxy_call", "", "GET /proxy/users", "TOO_MANY_REQUESTS", actor, id, s.account},
		{"rest", "unified_call", "", "GET /unified/user-directory/users/{id}", "ok", actor, id, s.account},
		{"rest", "tool_call", "list_all_zohobigin_roles", "", "ok", actor, id, s.account},
	}, got)
}
