package tokens_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMCPServerCreate(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	acct := e.SeedAccount("acme")
	now := e.Clock.Now()
	in := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }

	tests := []struct {
		name    string
		body    map[string]any
		tools   []string
		config  string // JSON of the config shown
		expires any    // expected expires_at: nil or RFC 3339 string
	}{
		{name: "defaults: all tools", body: map[string]any{"name": "all"}, tools: apptest.AllTools(),
			config: `{"methods":[],"tags":[],"modules":[],"require_api_token_auth":false,"max_result_chars":null,"rate_limit":null}`},
		{name: "read only", body: map[string]any{"name": "ro", "config": map[string]any{"methods": []string{"read"}}}, tools: apptest.ReadTools(),
			config: `{"methods":["read"],"tags":[],"modules":[],"require_api_token_auth":false,"max_result_chars":null,"rate_limit":null}`},
		{name: "tags and auth", body: map[string]any{"name": "perm", "config": map[string]any{"tags": []string{"Permissions"}, "require_api_token_auth": true}},
			tools:  []string{"list_all_zohobigin_roles", "list_all_zohobigin_profiles"},
			config: `{"methods":[],"tags":["permissions"],"modules":[],"require_api_token_auth":true,"max_result_chars":null,"rate_limit":null}`},
		{name: "result budget", body: map[string]any{"name": "small", "config": map[string]any{"max_result_chars": 8000}}, tools: apptest.AllTools(),
			config: `{"methods":[],"tags":[],"modules":[],"require_api_token_auth":false,"max_result_chars":8000,"rate_limit":null}`},
		{name: "rate limit", body: map[string]any{"name": "rl", "config": map[string]any{"rate_limit": map[string]any{"requests": 5, "per_seconds": 60}}}, tools: apptest.AllTools(),
			config: `{"methods":[],"tags":[],"modules":[],"require_api_token_auth":false,"max_result_chars":null,"rate_limit":{"requests":5,"per_seconds":60}}`},
		{name: "null result budget", body: map[string]any{"name": "dflt", "config": map[string]any{"max_result_chars": nil}}, tools: apptest.AllTools(),
			config: `{"methods":[],"tags":[],"modules":[],"require_api_token_auth":false,"max_result_chars":null,"rate_limit":null}`},
		{name: "expiry at top level", body: map[string]any{"name": "exp", "expires_at": in(time.Hour)}, tools: apptest.AllTools(),
			config: `{"methods":[],"tags":[],"modules":[],"require_api_token_auth":false,"max_result_chars":null,"rate_limit":null}`, expires: in(time.Hour)},
		{name: "expiry in config", body: map[string]any{"name": "exp", "config": map[string]any{"expires_at": in(2 * time.Hour)}}, tools: apptest.AllTools(),
			config: `{"methods":[],"tags":[],"modules":[],"require_api_token_auth":false,"max_result_chars":null,"rate_limit":null}`, expires: in(2 * time.Hour)},
		{name: "top level wins", body: map[string]any{"name": "exp", "expires_at": in(time.Hour), "config": map[string]any{"expires_at": "garbage"}}, tools: apptest.AllTools(),
			config: `{"methods":[],"tags":[],"modules":[],"require_api_token_auth":false,"max_result_chars":null,"rate_limit":null}`, expires: in(time.Hour)},
		{name: "modules", body: map[string]any{"name": "deals", "config": map[string]any{"modules": []string{"pipelines", "Contacts"}, "methods": []string{"write"}}},
			tools:  []string{"delete_a_zohobigin_user_by_id", "create_zohobigin_records", "update_zohobigin_records", "delete_zohobigin_records_by_ids", "add_zohobigin_note"},
			config: `{"methods":["write"],"tags":[],"modules":["Contacts","Pipelines"],"require_api_token_auth":false,"max_result_chars":null,"rate_limit":null}`},
		{name: "null expiry", body: map[string]any{"name": "exp", "expires_at": nil}, tools: apptest.AllTools(),
			config: `{"methods":[],"tags":[],"modules":[],"require_api_token_auth":false,"max_result_chars":null,"rate_limit":null}`},
	}
	for _, tt := range tests {
		for _, prefix := range []string{"/admin/integrated-accounts/", "/integrated-account/"} {
			t.Run(prefix+" "+tt.name, func(t *testing.T) {
				r := e.Request("POST", prefix+acct.ID+"/mcp", tt.body)
				require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
				m := r.JSON(t)
				assert.Equal(t, tt.body["name"], m["name"])
				assert.Equal(t, acct.ID, m["account_id"])
				assert.Equal(t, toAny(tt.tools), m["tools"])
				assert.JSONEq(t, tt.config, mustJSON(t, m["config"]))
				assert.Equal(t, tt.expires, m["expires_at"])
				assert.NotEmpty(t, m["created_at"])
				url := m["url"].(string)
				require.Regexp(t, `^https://mcp\.example\.com/mcp/bmcp_[A-Za-z0-9_-]{43}$`, url)
				token := strings.TrimPrefix(url, "https://mcp.example.com/mcp/")

				res, err := e.Svc.Resolve(context.Background(), token)
				require.NoError(t, err)
				assert.Equal(t, m["id"], res.Server.ID)
				assert.Equal(t, tt.tools, res.Tools)
				assert.Equal(t, acct.ID, res.Account.ID)
				assert.Equal(t, "Org acme", res.Account.OrgName)
				var shown struct {
					MaxResultChars int `json:"max_result_chars"`
				}
				require.NoError(t, json.Unmarshal([]byte(tt.config), &shown))
				assert.Equal(t, shown.MaxResultChars, res.Server.Config.MaxResultChars, "the index holds the URL's budget")

				// GET (one and list) never shows the URL.
				g := e.Request("GET", prefix+acct.ID+"/mcp/"+m["id"].(string), nil)
				require.Equal(t, http.StatusOK, g.Status)
				assert.NotContains(t, string(g.Body), "bmcp_")
				assert.NotContains(t, string(g.Body), `"url"`)
				delete(m, "url")
				assert.Equal(t, m, g.JSON(t))
				l := e.Request("GET", prefix+acct.ID+"/mcp", nil)
				assert.NotContains(t, string(l.Body), "bmcp_")
			})
		}
	}
}

func TestMCPServerCreateErrors(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	acct := e.SeedAccount("acme")
	now := e.Clock.Now()
	tests := []struct {
		name   string
		path   string
		body   any
		status int
		msg    string
	}{
		{"unknown account", "/admin/integrated-accounts/" + apptest.NewID() + "/mcp", map[string]any{"name": "x"}, 404, "no integrated account"},
		{"name missing", "", map[string]any{"config": map[string]any{}}, 400, "name is required"},
		{"unknown method", "", map[string]any{"name": "x", "config": map[string]any{"methods": []string{"read", "erase"}}}, 400, `unknown method "erase" in config.methods; valid methods: read, write, list, get, create, update, delete`},
		{"unknown tag", "", map[string]any{"name": "x", "config": map[string]any{"tags": []string{"deals"}}}, 400, `unknown tag "deals" in config.tags; valid tags: chatgpt, directory, metadata, notes, organization, permissions, profiles, records, roles, search, users`},
		{"unknown module", "", map[string]any{"name": "x", "config": map[string]any{"modules": []string{"Leads"}}}, 400, `unknown module "Leads" in config.modules; valid modules (Zoho's API names): Contacts, Accounts (the app's Companies)`},
		{"modules wrong type", "", map[string]any{"name": "x", "config": map[string]any{"modules": "Contacts"}}, 400, `field "config.modules" must be an array of strings`},
		{"no tool left", "", map[string]any{"name": "x", "config": map[string]any{"methods": []string{"create"}, "tags": []string{"users"}}}, 400, "config allows no tool"},
		{"no tool left: notes of tasks", "", map[string]any{"name": "x", "config": map[string]any{"tags": []string{"notes"}, "modules": []string{"Tasks"}}}, 400, "config allows no tool"},
		{"no tool left: write+roles", "", map[string]any{"name": "x", "config": map[string]any{"methods": []string{"write"}, "tags": []string{"roles"}}}, 400, "config allows no tool"},
		{"expiry 59s", "", map[string]any{"name": "x", "expires_at": now.Add(59 * time.Second).Format(time.RFC3339)}, 400, "expires_at must be at least 60 seconds in the future"},
		{"expiry past in config", "", map[string]any{"name": "x", "config": map[string]any{"expires_at": now.Add(-time.Hour).Format(time.RFC3339)}}, 400, "config.expires_at must be at least 60 seconds in the future"},
		{"expiry not RFC 3339", "", map[string]any{"name": "x", "expires_at": "next week"}, 400, "RFC 3339"},
		{"expiry wrong type", "", map[string]any{"name": "x", "expires_at": 12}, 400, "RFC 3339"},
		{"methods wrong type", "", map[string]any{"name": "x", "config": map[string]any{"methods": "read"}}, 400, `field "config.methods" must be an array of strings`},
		{"auth wrong type", "", map[string]any{"name": "x", "config": map[string]any{"require_api_token_auth": "yes"}}, 400, `must be true or false`},
		{"result budget too small", "", map[string]any{"name": "x", "config": map[string]any{"max_result_chars": 40}}, 400, "config.max_result_chars must be 500 to 1000000 characters, got 40"},
		{"result budget too large", "", map[string]any{"name": "x", "config": map[string]any{"max_result_chars": 2_000_000}}, 400, "config.max_result_chars must be 500 to 1000000 characters"},
		{"result budget not a number", "", map[string]any{"name": "x", "config": map[string]any{"max_result_chars": "40k"}}, 400, "config.max_result_chars must be a whole number of characters"},
		{"result budget fractional", "", map[string]any{"name": "x", "config": map[string]any{"max_result_chars": 4000.5}}, 400, "config.max_result_chars must be a whole number of characters"},
		{"unknown config field", "", map[string]any{"name": "x", "config": map[string]any{"tools": []string{"x"}}}, 400, `unknown field "tools"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = "/admin/integrated-accounts/" + acct.ID + "/mcp"
			}
			r := e.Request("POST", path, tt.body)
			assert.Equal(t, tt.status, r.Status, "body: %s", r.Body)
			_, msg := r.ErrCode(t)
			assert.Contains(t, msg, tt.msg)
		})
	}
	n := 0
	require.NoError(t, e.DB.ForEachMCPServer(context.Background(), func(*tokens.MCPServer) error { n++; return nil }))
	assert.Zero(t, n, "no failed create stored anything")
}

func TestMCPServerPatchAndDelete(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	acct := e.SeedAccount("acme")
	other := e.SeedAccount("other")
	now := e.Clock.Now()
	m, token := e.Mint(acct.ID, map[string]any{"name": "srv", "config": map[string]any{"methods": []string{"read"}}, "expires_at": now.Add(time.Hour).Format(time.RFC3339)})
	id := m["id"].(string)
	base := "/admin/integrated-accounts/" + acct.ID + "/mcp/" + id

	first, err := e.Svc.Resolve(ctx, token)
	require.NoError(t, err)

	steps := []struct {
		name    string
		path    string
		body    any
		status  int
		check   func(t *testing.T, m map[string]any)
		errCode string
	}{
		{name: "rename", body: map[string]any{"name": "renamed"}, status: 200, check: func(t *testing.T, m map[string]any) {
			assert.Equal(t, "renamed", m["name"])
			assert.Equal(t, toAny(apptest.ReadTools()), m["tools"], "config kept")
			assert.NotNil(t, m["expires_at"], "expiry kept")
		}},
		{name: "tags merge over methods", body: map[string]any{"config": map[string]any{"tags": []string{"organization"}}}, status: 200, check: func(t *testing.T, m map[string]any) {
			assert.Equal(t, []any{"list_all_zohobigin_current_organization"}, m["tools"])
			assert.JSONEq(t, `{"methods":["read"],"tags":["organization"],"modules":[],"require_api_token_auth":false,"max_result_chars":null,"rate_limit":null}`, mustJSON(t, m["config"]))
		}},
		{name: "resulting config is revalidated", body: map[string]any{"config": map[string]any{"methods": []string{"write"}}}, status: 400, errCode: tokens.CodeInvalidArgument},
		{name: "unknown tag", body: map[string]any{"config": map[string]any{"tags": []string{"x"}}}, status: 400, errCode: tokens.CodeInvalidArgument},
		{name: "result budget", body: map[string]any{"config": map[string]any{"max_result_chars": 8000}}, status: 200, check: func(t *testing.T, m map[string]any) {
			assert.JSONEq(t, `{"methods":["read"],"tags":["organization"],"modules":[],"require_api_token_auth":false,"max_result_chars":8000,"rate_limit":null}`, mustJSON(t, m["config"]))
			res, err := e.Svc.Resolve(ctx, token)
			require.NoError(t, err)
			assert.Equal(t, 8000, res.Server.Config.MaxResultChars)
		}},
		{name: "result budget out of bounds", body: map[string]any{"config": map[string]any{"max_result_chars": 499}}, status: 400, errCode: tokens.CodeInvalidArgument},
		{name: "PATCH back what GET showed", path: "roundtrip", status: 200, check: func(t *testing.T, m map[string]any) {
			assert.Equal(t, float64(8000), m["config"].(map[string]any)["max_result_chars"], "a round trip keeps the budget")
		}},
		{name: "result budget null removes it", body: `{"config": {"max_result_chars": null}}`, status: 200, check: func(t *testing.T, m map[string]any) {
			assert.Nil(t, m["config"].(map[string]any)["max_result_chars"])
			res, err := e.Svc.Resolve(ctx, token)
			require.NoError(t, err)
			assert.Zero(t, res.Server.Config.MaxResultChars)
		}},
		{name: "widen", body: map[string]any{"config": map[string]any{"methods": []string{}, "tags": []string{}}}, status: 200, check: func(t *testing.T, m map[string]any) {
			assert.Equal(t, toAny(apptest.AllTools()), m["tools"])
		}},
		{name: "modules", body: map[string]any{"config": map[string]any{"modules": []string{"calls", "Tasks"}}}, status: 200, check: func(t *testing.T, m map[string]any) {
			assert.Equal(t, []any{"Tasks", "Calls"}, m["config"].(map[string]any)["modules"])
			assert.NotContains(t, m["tools"], "add_zohobigin_note", "tasks and calls take no notes")
			assert.Contains(t, m["tools"], "create_zohobigin_records")
			res, err := e.Svc.Resolve(ctx, token)
			require.NoError(t, err)
			assert.Equal(t, []string{"Tasks", "Calls"}, res.Server.Config.Modules, "the index holds the URL's modules")
		}},
		{name: "modules emptied", body: map[string]any{"config": map[string]any{"modules": []string{}}}, status: 200, check: func(t *testing.T, m map[string]any) {
			assert.Equal(t, toAny(apptest.AllTools()), m["tools"])
			assert.Equal(t, []any{}, m["config"].(map[string]any)["modules"])
		}},
		{name: "expiry too soon", body: map[string]any{"expires_at": now.Add(30 * time.Second).Format(time.RFC3339)}, status: 400, errCode: tokens.CodeInvalidArgument},
		{name: "expiry null removes it", body: `{"expires_at": null}`, status: 200, check: func(t *testing.T, m map[string]any) {
			assert.Nil(t, m["expires_at"])
		}},
		{name: "expiry in config", body: map[string]any{"config": map[string]any{"expires_at": now.Add(3 * time.Hour).Format(time.RFC3339)}}, status: 200, check: func(t *testing.T, m map[string]any) {
			assert.Equal(t, now.Add(3*time.Hour).Format(time.RFC3339), m["expires_at"])
		}},
		{name: "config null expiry removes it", body: `{"config": {"expires_at": null}}`, status: 200, check: func(t *testing.T, m map[string]any) {
			assert.Nil(t, m["expires_at"])
		}},
		{name: "other account's path", path: "/admin/integrated-accounts/" + other.ID + "/mcp/" + id, body: map[string]any{"name": "x"}, status: 404, errCode: tokens.CodeNotFound},
		{name: "unknown server", path: "/admin/integrated-accounts/" + acct.ID + "/mcp/" + apptest.NewID(), body: map[string]any{"name": "x"}, status: 404, errCode: tokens.CodeNotFound},
		{name: "alias path", path: "/integrated-account/" + acct.ID + "/mcp/" + id, body: map[string]any{"name": "via alias"}, status: 200, check: func(t *testing.T, m map[string]any) {
			assert.Equal(t, "via alias", m["name"])
		}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			path, body := st.path, st.body
			if path == "roundtrip" {
				g := e.Request("GET", base, nil)
				require.Equal(t, http.StatusOK, g.Status)
				gm := g.JSON(t)
				body = map[string]any{"name": gm["name"], "config": gm["config"], "expires_at": gm["expires_at"]}
				path = ""
			}
			if path == "" {
				path = base
			}
			r := e.Request("PATCH", path, body)
			require.Equal(t, st.status, r.Status, "body: %s", r.Body)
			if st.errCode != "" {
				code, _ := r.ErrCode(t)
				assert.Equal(t, st.errCode, code)
				return
			}
			m := r.JSON(t)
			assert.NotContains(t, m, "url")
			if st.check != nil {
				st.check(t, m)
			}
			// The index follows at once.
			res, err := e.Svc.Resolve(ctx, token)
			require.NoError(t, err)
			assert.Equal(t, m["name"], res.Server.Name)
			assert.Equal(t, m["tools"], toAny(res.Tools))
		})
	}

	later, err := e.Svc.Resolve(ctx, token)
	require.NoError(t, err)
	assert.NotEqual(t, first.Version, later.Version)
	tokens.AssertClosed(t, first.Done(), "a PATCH closes the old resolution's Done")
	tokens.AssertOpen(t, later.Done())

	// GET / DELETE on another account's path: 404, and nothing deleted.
	for _, method := range []string{"GET", "DELETE"} {
		r := e.Request(method, "/admin/integrated-accounts/"+other.ID+"/mcp/"+id, nil)
		assert.Equal(t, http.StatusNotFound, r.Status, method)
	}
	r := e.Request("DELETE", base, nil)
	require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
	_, err = e.Svc.Resolve(ctx, token)
	assert.ErrorIs(t, err, tokens.ErrNotFound)
	tokens.AssertClosed(t, later.Done(), "DELETE closes Done")
	for _, method := range []string{"GET", "DELETE", "PATCH"} {
		r := e.Request(method, base, map[string]any{"name": "x"})
		assert.Equal(t, http.StatusNotFound, r.Status, method)
	}
	_, err = e.DB.MCPServer(ctx, id)
	assert.Error(t, err, "deleted from the store")

	// Audited, never with a token.
	entries, _, err := e.DB.Audit(ctx, "", 100)
	require.NoError(t, err)
	actions := map[string]int{}
	budgetAudited := false
	for _, a := range entries {
		actions[a.Action]++
		budgetAudited = budgetAudited || strings.Contains(a.Detail, "max_result_chars=8000")
		assert.NotContains(t, a.Detail, "bmcp_")
		if strings.HasPrefix(a.Action, "mcp_server.") {
			assert.Equal(t, id, a.MCPServerID)
			assert.True(t, strings.HasPrefix(a.Actor, "api_token:"), a.Actor)
		}
	}
	assert.Equal(t, 1, actions["mcp_server.create"])
	assert.Equal(t, 1, actions["mcp_server.delete"])
	assert.GreaterOrEqual(t, actions["mcp_server.update"], 5)
	assert.True(t, budgetAudited, "the audit detail shows a URL's result budget")
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	acct := e.SeedAccount("acme")
	m, token := e.Mint(acct.ID, map[string]any{"name": "short", "expires_at": e.Clock.Now().Add(61 * time.Second).Format(time.RFC3339)})
	_, keep := e.Mint(acct.ID, map[string]any{"name": "long", "expires_at": e.Clock.Now().Add(time.Hour).Format(time.RFC3339)})
	id := m["id"].(string)

	res, err := e.Svc.Resolve(ctx, token)
	require.NoError(t, err, "resolves now")

	e.Clock.Advance(31 * time.Second)
	r := e.Request("PATCH", "/admin/integrated-accounts/"+acct.ID+"/mcp/"+id, map[string]any{"name": "renamed", "expires_at": m["expires_at"]})
	require.Equal(t, http.StatusOK, r.Status, "sending back the expiry it has is fine, though under 60 s away: %s", r.Body)
	r = e.Request("PATCH", "/admin/integrated-accounts/"+acct.ID+"/mcp/"+id, map[string]any{"expires_at": e.Clock.Now().Add(59 * time.Second).Format(time.RFC3339)})
	require.Equal(t, http.StatusBadRequest, r.Status, "a new expiry must be 60 s away: %s", r.Body)

	e.Clock.Advance(29 * time.Second)
	_, err = e.Svc.Resolve(ctx, token)
	require.NoError(t, err, "resolves one second before expiry")

	e.Clock.Advance(time.Second)
	_, err = e.Svc.Resolve(ctx, token)
	assert.ErrorIs(t, err, tokens.ErrNotFound, "refused from the instant of expiry, before any sweep")
	for _, method := range []string{"GET", "PATCH"} {
		r := e.Request(method, "/admin/integrated-accounts/"+acct.ID+"/mcp/"+id, map[string]any{"expires_at": nil})
		assert.Equal(t, http.StatusNotFound, r.Status, "%s of an expired server", method)
	}
	l := e.Request("GET", "/admin/integrated-accounts/"+acct.ID+"/mcp", nil)
	assert.NotContains(t, string(l.Body), id, "lists skip expired servers")

	n, err := e.Svc.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	tokens.AssertClosed(t, res.Done(), "the sweep closes Done")
	_, err = e.DB.MCPServer(ctx, id)
	assert.Error(t, err, "swept from the store")
	indexed, byHash := e.Svc.Indexed(res.Server.AccountID, id, res.Server.TokenHash)
	assert.False(t, byHash, "swept from the token map")
	assert.False(t, indexed, "swept from the index")
	_, err = e.Svc.Resolve(ctx, keep)
	assert.NoError(t, err, "the unexpired one stays")

	entries, _, err := e.DB.Audit(ctx, "", 100)
	require.NoError(t, err)
	var expiredEntries int
	for _, a := range entries {
		if a.Action == "mcp_server.expire" && a.MCPServerID == id {
			expiredEntries++
		}
	}
	assert.Equal(t, 1, expiredEntries)

	n, err = e.Svc.Sweep(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestRunSweeper(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	acct := e.SeedAccount("acme")
	m, token := e.Mint(acct.ID, map[string]any{"name": "short", "expires_at": e.Clock.Now().Add(61 * time.Second).Format(time.RFC3339)})
	e.Clock.Advance(2 * time.Minute)
	done := make(chan struct{})
	go func() { e.Svc.RunSweeper(ctx, 5*time.Millisecond); close(done) }()
	require.Eventually(t, func() bool {
		_, err := e.DB.MCPServer(ctx, m["id"].(string))
		return err != nil
	}, 5*time.Second, 5*time.Millisecond)
	_, err := e.Svc.Resolve(ctx, token)
	assert.ErrorIs(t, err, tokens.ErrNotFound)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RunSweeper did not return within 5s of its context's end")
	}
}

func TestResolveRejects(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	for _, tok := range []string{"", "bmcp_", tokens.NewMCPToken(), tokens.NewAPIToken(), e.Admin, "../../etc/passwd"} {
		_, err := e.Svc.Resolve(ctx, tok)
		assert.ErrorIs(t, err, tokens.ErrNotFound, tok)
	}
}

// The sweeper gives back the space of expired idempotency keys: at its
// first pass, and then every IdempotencySweepEvery.
func TestRunSweeperDeletesExpiredIdempotencyKeys(t *testing.T) {
	e := newTestEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	now := e.Clock.Now().UTC()
	claim := func(key string, ttl time.Duration) {
		_, err := e.Store.ClaimIdempotencyKey(ctx, &tokens.IdempotencyRecord{Scope: "mcp:s", Key: key, ClaimID: "c", Tool: "t", Fingerprint: "f",
			CreatedAt: now, ExpiresAt: now.Add(ttl)})
		require.NoError(t, err)
	}
	live := func(key string) bool {
		_, err := e.Store.ClaimIdempotencyKey(ctx, &tokens.IdempotencyRecord{Scope: "mcp:s", Key: key, ClaimID: "probe", Tool: "t", Fingerprint: "f",
			CreatedAt: now, ExpiresAt: now})
		return errors.Is(err, tokens.ErrConflict)
	}
	claim("gone", time.Minute)
	claim("kept", 24*time.Hour)
	e.Clock.Advance(2 * time.Minute)
	n, err := e.Svc.SweepIdempotencyKeys(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.True(t, live("kept"))

	claim("later", 5*time.Minute)
	done := make(chan struct{})
	go func() { e.Svc.RunSweeper(ctx, 5*time.Millisecond); close(done) }()
	e.Clock.Advance(tokens.IdempotencySweepEvery)
	require.Eventually(t, func() bool { return !live("later") }, 5*time.Second, 5*time.Millisecond, "the sweeper deleted the expired key")
	cancel()
	<-done
}
