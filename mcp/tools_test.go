package mcp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
)

func TestToolResultsAgainstSandbox(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sb := e.Sandboxes["us"]
	acct := e.ConnectAccount("us")
	_, url := e.MintURL(acct, map[string]any{})

	for _, transport := range []string{"streamable", "sse"} {
		t.Run(transport, func(t *testing.T) {
			cs := e.MustConnect(url, transport)

			t.Run("organization", func(t *testing.T) {
				res, out := apptest.CallTool(t, cs, "list_all_zohobigin_current_organization", nil)
				require.False(t, res.IsError)
				recs := out["result"].([]any)
				require.Len(t, recs, 1)
				got, _ := json.Marshal(recs[0])
				assert.JSONEq(t, string(sb.OrgJSON()), string(got), "Zoho's org object, unchanged")
				assert.Nil(t, out["next_cursor"])
			})
			t.Run("me", func(t *testing.T) {
				_, out := apptest.CallTool(t, cs, "list_all_zohobigin_me", nil)
				recs := out["result"].([]any)
				require.Len(t, recs, 1)
				assert.Equal(t, sb.PrimaryUserID(), recs[0].(map[string]any)["id"])
			})
			t.Run("get user", func(t *testing.T) {
				id := sb.UserIDs("ActiveUsers")[5]
				want, ok := sb.User(id)
				require.True(t, ok)
				_, out := apptest.CallTool(t, cs, "get_single_zohobigin_user_by_id", map[string]any{"id": id})
				got, _ := json.Marshal(out["result"])
				wantJSON, _ := json.Marshal(want)
				assert.JSONEq(t, string(wantJSON), string(got), "every field of Zoho's user, with its key casing")
			})
			t.Run("unknown user id is a tool error", func(t *testing.T) {
				res, out := apptest.CallTool(t, cs, "get_single_zohobigin_user_by_id", map[string]any{"id": "111111111111111111"})
				require.True(t, res.IsError)
				terr := out["error"].(map[string]any)
				assert.Equal(t, "INVALID_DATA", terr["code"])
				assert.EqualValues(t, 400, terr["status"])
				assert.Contains(t, textOf(res), "list_all_zohobigin_users")
			})
			t.Run("page all users", func(t *testing.T) {
				for _, typ := range []string{"", "ActiveUsers", "DeletedUsers"} {
					args := map[string]any{"limit": 37}
					if typ != "" {
						args["type"] = typ
					}
					ids := pageAll(t, cs, "list_all_zohobigin_users", args)
					want := sb.UserIDs(map[string]string{"": "AllUsers"}[typ] + typ)
					require.GreaterOrEqual(t, len(sb.UserIDs("AllUsers")), 250)
					assert.Equal(t, want, ids, "type %q: every user once, in Zoho's order", typ)
				}
			})
			t.Run("roles and profiles page", func(t *testing.T) {
				var roleIDs, profileIDs []string
				for _, r := range sb.Roles() {
					roleIDs = append(roleIDs, r.ID)
				}
				for _, p := range sb.Profiles() {
					profileIDs = append(profileIDs, p.ID)
				}
				require.Greater(t, len(roleIDs), 2)
				assert.Equal(t, roleIDs, pageAll(t, cs, "list_all_zohobigin_roles", map[string]any{"limit": 2}))
				assert.Equal(t, profileIDs, pageAll(t, cs, "list_all_zohobigin_profiles", map[string]any{"limit": 1}))
				assert.Equal(t, roleIDs, pageAll(t, cs, "list_all_zohobigin_roles", nil), "default limit: one page")
			})
			t.Run("tampered and foreign cursors", func(t *testing.T) {
				_, out := apptest.CallTool(t, cs, "list_all_zohobigin_users", map[string]any{"limit": 10})
				cur := out["next_cursor"].(string)
				for name, args := range map[string]map[string]any{
					"tampered":        {"limit": 10, "next_cursor": cur[:len(cur)-2] + "AA"},
					"other arguments": {"limit": 11, "next_cursor": cur},
					"other tool":      {"limit": 10, "next_cursor": cur, "type": "ActiveUsers"},
					"garbage":         {"limit": 10, "next_cursor": "page=2"},
				} {
					res, out := apptest.CallTool(t, cs, "list_all_zohobigin_users", args)
					require.True(t, res.IsError, name)
					assert.Equal(t, "invalid_cursor", out["error"].(map[string]any)["code"], name)
				}
				res, out := apptest.CallTool(t, cs, "list_all_zohobigin_roles", map[string]any{"limit": 10, "next_cursor": cur})
				require.True(t, res.IsError)
				assert.Equal(t, "invalid_cursor", out["error"].(map[string]any)["code"])
			})
		})
	}
}

// textOf returns the text content a model reads.
func textOf(res *sdk.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// pageAll follows next_cursor to the end and returns the ids in order.
func pageAll(t *testing.T, cs *sdk.ClientSession, tool string, args map[string]any) []string {
	t.Helper()
	var ids []string
	for pages := 0; ; pages++ {
		require.Less(t, pages, 100, "paging must end")
		res, out := apptest.CallTool(t, cs, tool, args)
		require.False(t, res.IsError, "%v", out)
		for _, r := range out["result"].([]any) {
			ids = append(ids, r.(map[string]any)["id"].(string))
		}
		next, _ := out["next_cursor"].(string)
		if next == "" {
			return ids
		}
		args = copyArgs(args)
		args["next_cursor"] = next
	}
}

func copyArgs(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sb := e.Sandboxes["us"]
	acct := e.ConnectAccount("us")
	_, url := e.MintURL(acct, map[string]any{})
	cs := e.MustConnect(url, "streamable")

	id := sb.UserIDs("ActiveUsers")[3]
	res, out := apptest.CallTool(t, cs, "delete_a_zohobigin_user_by_id", map[string]any{"id": id})
	require.False(t, res.IsError, "%v", out)
	assert.Equal(t, map[string]any{"id": id, "deleted": true}, out["result"])
	u, _ := sb.User(id)
	assert.Equal(t, "deleted", u.Status)

	res, out = apptest.CallTool(t, cs, "delete_a_zohobigin_user_by_id", map[string]any{"id": id})
	require.True(t, res.IsError)
	assert.Equal(t, "ID_ALREADY_DELETED", out["error"].(map[string]any)["code"])

	res, out = apptest.CallTool(t, cs, "delete_a_zohobigin_user_by_id", map[string]any{"id": sb.PrimaryUserID()})
	require.True(t, res.IsError)
	assert.Equal(t, "INVALID_REQUEST", out["error"].(map[string]any)["code"])
	assert.Contains(t, textOf(res), "primary contact")
}

func TestZohoFailuresBecomeToolErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sb := e.Sandboxes["us"]
	acct := e.ConnectAccount("us")
	_, url := e.MintURL(acct, map[string]any{})
	cs := e.MustConnect(url, "streamable")
	tool := "list_all_zohobigin_roles"

	t.Run("429 with rate limits, not retried", func(t *testing.T) {
		before := sb.APIRequestCount()
		sb.FailNext(1, sandbox.RateLimited)
		res, out := apptest.CallTool(t, cs, tool, nil)
		require.True(t, res.IsError)
		terr := out["error"].(map[string]any)
		assert.EqualValues(t, 429, terr["status"])
		assert.Equal(t, "TOO_MANY_REQUESTS", terr["code"])
		rl := terr["ratelimit"].(map[string]any)
		assert.EqualValues(t, sandbox.FaultRateLimit, rl["limit"])
		assert.EqualValues(t, 0, rl["remaining"])
		assert.NotEmpty(t, rl["reset"])
		assert.EqualValues(t, sandbox.FaultRetryAfter.Seconds(), terr["retry_after_seconds"])
		assert.Contains(t, textOf(res), "Rate limited")
		assert.Equal(t, before+1, sb.APIRequestCount(), "a 429 is never retried")
	})
	t.Run("error inside a 200 body", func(t *testing.T) {
		sb.FailNext(1, sandbox.ErrorIn200)
		res, out := apptest.CallTool(t, cs, tool, nil)
		require.True(t, res.IsError)
		terr := out["error"].(map[string]any)
		assert.EqualValues(t, 200, terr["status"])
		assert.NotEmpty(t, terr["code"])
	})
	t.Run("one 5xx is retried away", func(t *testing.T) {
		sb.FailNext(1, sandbox.InternalError)
		res, _ := apptest.CallTool(t, cs, tool, nil)
		assert.False(t, res.IsError)
	})
	t.Run("persistent 5xx is a tool error", func(t *testing.T) {
		sb.FailNext(3, sandbox.InternalError)
		res, out := apptest.CallTool(t, cs, tool, nil)
		require.True(t, res.IsError)
		assert.EqualValues(t, 500, out["error"].(map[string]any)["status"])
		sb.ClearFaults()
	})
	t.Run("garbage body", func(t *testing.T) {
		sb.FailNext(3, sandbox.Garbage)
		res, _ := apptest.CallTool(t, cs, tool, nil)
		require.True(t, res.IsError)
		sb.ClearFaults()
	})
}

func TestRevokedRefreshTokenNeedsReauth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sb := e.Sandboxes["us"]
	rt := sb.IssueRefreshToken()
	out := e.AdminCall("POST", "/admin/integrated-accounts", map[string]any{
		"name": "revoked", "datacenter": "us", "refresh_token": rt, "client_id": sb.ClientID(), "client_secret": sb.ClientSecret(),
	}, http.StatusCreated)
	acct := out["id"].(string)
	_, url := e.MintURL(acct, map[string]any{})
	cs := e.MustConnect(url, "streamable")

	require.True(t, sb.RevokeRefreshToken(rt))
	sb.ExpireAccessTokens()
	res, got := apptest.CallTool(t, cs, "list_all_zohobigin_me", nil)
	require.True(t, res.IsError)
	terr := got["error"].(map[string]any)
	assert.Equal(t, "reauthorization_required", terr["code"])
	assert.EqualValues(t, 401, terr["status"])
	assert.True(t, strings.Contains(textOf(res), "reconnect"))

	acc := e.AdminCall("GET", "/admin/integrated-accounts/"+acct, nil, http.StatusOK)
	assert.Equal(t, "needs_reauth", acc["status"])

	// Later calls fail fast without spending Zoho's refresh quota.
	refreshes := sb.RefreshCount()
	res, got = apptest.CallTool(t, cs, "list_all_zohobigin_me", nil)
	require.True(t, res.IsError)
	assert.Equal(t, "reauthorization_required", got["error"].(map[string]any)["code"])
	assert.Equal(t, refreshes, sb.RefreshCount())

	// New credentials fix it.
	e.AdminCall("PATCH", "/admin/integrated-accounts/"+acct, map[string]any{"refresh_token": sb.IssueRefreshToken()}, http.StatusOK)
	res, _ = apptest.CallTool(t, cs, "list_all_zohobigin_me", nil)
	assert.False(t, res.IsError)
}

func TestTwoAccountsNeverCross(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "us", "eu")
	us, eu := e.Sandboxes["us"], e.Sandboxes["eu"]
	_, urlUS := e.MintURL(e.ConnectAccount("us"), map[string]any{})
	_, urlEU := e.MintURL(e.ConnectAccount("eu"), map[string]any{})
	csUS := e.MustConnect(urlUS, "streamable")
	csEU := e.MustConnect(urlEU, "sse")

	usBefore, euBefore := us.APIRequestCount(), eu.APIRequestCount()
	for i := 0; i < 3; i++ {
		_, out := apptest.CallTool(t, csUS, "list_all_zohobigin_current_organization", nil)
		assert.Equal(t, us.OrgID(), out["result"].([]any)[0].(map[string]any)["id"])
	}
	assert.Equal(t, usBefore+3, us.APIRequestCount())
	assert.Equal(t, euBefore, eu.APIRequestCount(), "nothing through the US URL reaches the EU org")

	usBefore = us.APIRequestCount()
	_, out := apptest.CallTool(t, csEU, "list_all_zohobigin_current_organization", nil)
	assert.Equal(t, eu.OrgID(), out["result"].([]any)[0].(map[string]any)["id"])
	assert.Equal(t, usBefore, us.APIRequestCount(), "nothing through the EU URL reaches the US org")
	assert.NotEqual(t, us.OrgID(), eu.OrgID())
}

func TestEveryToolCallIsAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.ConnectAccount("us")
	id, url := e.MintURL(acct, map[string]any{})
	cs := e.MustConnect(url, "streamable")
	apptest.CallTool(t, cs, "list_all_zohobigin_me", nil)
	apptest.CallTool(t, cs, "get_single_zohobigin_user_by_id", map[string]any{"id": "111111111111111111"})
	e.App.Flush()

	entries, _, err := e.DB.Audit(context.Background(), "", 100)
	require.NoError(t, err)
	var calls []string
	for _, en := range entries {
		if en.Action == "tool_call" {
			assert.Equal(t, id, en.MCPServerID)
			assert.Equal(t, acct, en.AccountID)
			assert.Equal(t, "mcp:"+id, en.Actor)
			calls = append(calls, en.Tool+":"+en.Outcome)
		}
	}
	assert.ElementsMatch(t, []string{"list_all_zohobigin_me:ok", "get_single_zohobigin_user_by_id:INVALID_DATA"}, calls)
}

// Arguments that fail the schema come back as a tool result the model can
// correct itself from, on both transports; nothing reaches Bigin, and the
// attempt is audited. An unknown tool stays a JSON-RPC error.
func TestInvalidArgumentsAreToolResults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sb := e.Sandboxes["us"]
	acct := e.ConnectAccount("us")
	_, url := e.MintURL(acct, map[string]any{})
	tests := []struct {
		tool    string
		args    map[string]any
		message string
	}{
		{"list_all_zohobigin_users", map[string]any{"limit": 0}, "limit must be between 1 and 200; got 0"},
		{"get_single_zohobigin_user_by_id", map[string]any{}, "id is required"},
		{"list_all_zohobigin_roles", map[string]any{"page": 2}, `unknown argument "page"; this tool takes limit, next_cursor`},
	}
	for _, transport := range []string{"streamable", "sse"} {
		cs := e.MustConnect(url, transport)
		for _, tt := range tests {
			t.Run(transport+" "+tt.tool, func(t *testing.T) {
				before := sb.RequestCount()
				res, out := apptest.CallTool(t, cs, tt.tool, tt.args)
				require.True(t, res.IsError)
				terr := out["error"].(map[string]any)
				assert.Equal(t, "invalid_argument", terr["code"])
				assert.EqualValues(t, 400, terr["status"])
				assert.Equal(t, tt.message, terr["message"])
				assert.True(t, strings.HasPrefix(textOf(res), tt.message+". Nothing was sent to Zoho Bigin."), textOf(res))
				assert.Equal(t, before, sb.RequestCount(), "nothing reached Bigin")
			})
		}
		t.Run(transport+" unknown tool", func(t *testing.T) {
			_, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: "no_such_tool", Arguments: map[string]any{}})
			require.Error(t, err)
			assert.Contains(t, err.Error(), `unknown tool "no_such_tool"`)
		})
	}
	e.App.Flush()
	entries, _, err := e.DB.Audit(context.Background(), "", 100)
	require.NoError(t, err)
	invalid := 0
	for _, en := range entries {
		if en.Action == "tool_call" && en.Outcome == "invalid_argument" {
			invalid++
		}
	}
	assert.Equal(t, 2*len(tests), invalid, "every refused call is audited")
}
