package connect_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// connectAccount creates an account on the datacenter's sandbox through
// the admin API with a refresh token the test knows, and returns its id
// and that token.
func (z *connectEnv) connectAccount(dc string) (string, string) {
	z.T.Helper()
	sb := z.zoho[dc]
	rt := sb.IssueRefreshToken(bigin.Scopes()...)
	out := z.AdminCall("POST", "/admin/integrated-accounts", map[string]any{
		"name": "Acme " + dc, "datacenter": dc, "refresh_token": rt, "client_id": sb.ClientID(), "client_secret": sb.ClientSecret(),
	}, http.StatusCreated)
	return out["id"].(string), rt
}

// listedLink returns the admin list's view of the link id.
func (z *connectEnv) listedLink(id string) map[string]any {
	z.T.Helper()
	for _, v := range z.AdminCall("GET", "/admin/connect-links?limit=100", nil, http.StatusOK)["result"].([]any) {
		if m := v.(map[string]any); m["id"] == id {
			return m
		}
	}
	z.T.Fatalf("no listed link %s", id)
	return nil
}

// mintReconnect makes a reconnect link for the account through the admin
// API and returns its id and path.
func (z *connectEnv) mintReconnect(accountID string) (string, string) {
	z.T.Helper()
	r := z.Request("POST", "/admin/connect-links", map[string]any{"account_id": accountID})
	require.Equal(z.T, http.StatusCreated, r.Status, r.Body)
	out := r.JSON(z.T)
	assert.Equal(z.T, "reconnect", out["kind"])
	assert.Equal(z.T, accountID, out["account_id"])
	u, err := url.Parse(out["url"].(string))
	require.NoError(z.T, err)
	return out["id"].(string), u.Path
}

// TestReconnectLinkRepairsTheSameAccount: an account whose refresh token
// Zoho revoked fails its MCP URL with reauthorization_required; a
// reconnect link completed through the sandbox's consent gives it a new
// grant, keeps its id and URLs, and the same MCP session works again at
// once. The link is spent and the reconnect audited.
func TestReconnectLinkRepairsTheSameAccount(t *testing.T) {
	t.Parallel()
	z := newConnectEnv(t)
	ctx := context.Background()
	sb := z.zoho["us"]
	acct, rt := z.connectAccount("us")
	_, mcpURL := z.MintURL(acct, map[string]any{})
	cs := z.MustConnect(mcpURL, "streamable")
	res, _ := apptest.CallTool(t, cs, "list_all_zohobigin_me", nil)
	require.False(t, res.IsError)

	require.True(t, sb.RevokeRefreshToken(rt))
	sb.ExpireAccessTokens()
	res, got := apptest.CallTool(t, cs, "list_all_zohobigin_me", nil)
	require.True(t, res.IsError)
	assert.Equal(t, "reauthorization_required", got["error"].(map[string]any)["code"])
	assert.Equal(t, "needs_reauth", z.AdminCall("GET", "/admin/integrated-accounts/"+acct, nil, http.StatusOK)["status"])

	linkID, link := z.mintReconnect(acct)
	listed := z.listedLink(linkID)
	assert.Equal(t, "reconnect", listed["kind"])
	assert.Equal(t, acct, listed["account_id"], "the list names the account a reconnect link repairs")
	assert.Equal(t, "us", listed["datacenter"], "fixed to the account's datacenter")
	assert.Equal(t, "Acme us", listed["name"], "named after the account")
	assert.Equal(t, "usable", listed["status"])

	q := z.consent(link, "")
	assert.Equal(t, "us", q.Get("location"))
	status, page := z.callback(q)
	require.Equal(t, http.StatusOK, status, page)
	assert.Contains(t, page, "connected again")
	assert.Contains(t, page, acct)

	assert.Equal(t, 1, z.accountCount(), "no new account")
	view := z.AdminCall("GET", "/admin/integrated-accounts/"+acct, nil, http.StatusOK)
	assert.Equal(t, "active", view["status"])
	assert.Equal(t, "Acme us", view["name"], "the account keeps its name")
	a, err := z.Store.Account(ctx, acct)
	require.NoError(t, err)
	assert.NotEqual(t, rt, a.RefreshToken, "the grant was replaced")
	assert.Empty(t, a.ClientID, "the new grant is the server's OAuth client's")

	res, _ = apptest.CallTool(t, cs, "list_all_zohobigin_me", nil)
	assert.False(t, res.IsError, "the same session works again at once")
	cs2 := z.MustConnect(mcpURL, "sse")
	res, _ = apptest.CallTool(t, cs2, "list_all_zohobigin_current_organization", nil)
	assert.False(t, res.IsError, "and so does a new one on the same URL")

	listed = z.listedLink(linkID)
	assert.Equal(t, "used", listed["status"])
	assert.Equal(t, acct, listed["account_id"])
	status, _, page = z.get(link)
	assert.Equal(t, http.StatusGone, status, "a reconnect link works once")
	assert.Contains(t, page, "already used")

	entries, _, err := z.Store.Audit(ctx, "", 100)
	require.NoError(t, err)
	var reconnect *tokens.AuditEntry
	for _, e := range entries {
		if e.Action == "account.reconnect" {
			reconnect = e
		}
	}
	require.NotNil(t, reconnect, "the reconnect is audited")
	assert.Equal(t, acct, reconnect.AccountID)
	assert.Equal(t, "connect_link:"+linkID, reconnect.Actor)
	assert.Equal(t, "ok", reconnect.Outcome)
}

// TestReconnectRefusesAnotherOrg: a consent that reaches another org, or
// comes back from another datacenter, changes nothing and leaves the link
// usable; once the right org consents, the same link repairs the account.
func TestReconnectRefusesAnotherOrg(t *testing.T) {
	t.Parallel()
	z := newConnectEnv(t)
	ctx := context.Background()
	acct, rt := z.connectAccount("us")
	// The account belongs to an org the sandbox's user is not in.
	_, err := z.Store.UpdateAccount(ctx, acct, func(a *tokens.Account) error {
		a.OrgID, a.OrgName = "999999999", "Elsewhere Inc"
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, z.Svc.SyncAccount(ctx, acct))
	linkID, link := z.mintReconnect(acct)
	unchanged := func(t *testing.T) {
		t.Helper()
		a, err := z.Store.Account(ctx, acct)
		require.NoError(t, err)
		assert.Equal(t, rt, a.RefreshToken, "the account keeps its grant")
		assert.Equal(t, "999999999", a.OrgID)
		assert.Equal(t, "usable", z.listedLink(linkID)["status"], "the link stays usable")
		assert.Equal(t, 1, z.accountCount())
	}

	t.Run("another org", func(t *testing.T) {
		status, page := z.callback(z.consent(link, ""))
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, page, "Not reconnected")
		assert.Contains(t, page, "Elsewhere Inc")
		assert.Contains(t, page, "Org us")
		assert.Contains(t, page, "open your link again")
		unchanged(t)
	})

	t.Run("another datacenter", func(t *testing.T) {
		// The state is for this link, but the consent is the EU
		// sandbox's: a customer who signed in at the wrong Zoho.
		status, h, body := z.get(link)
		require.Equal(t, http.StatusFound, status, body)
		auth, err := url.Parse(h.Get("Location"))
		require.NoError(t, err)
		eu, err := url.Parse(z.zoho["eu"].BaseURL())
		require.NoError(t, err)
		auth.Host = eu.Host
		status, h, body = z.get(auth.String())
		require.Equal(t, http.StatusFound, status, body)
		back, err := url.Parse(h.Get("Location"))
		require.NoError(t, err)
		require.Equal(t, "eu", back.Query().Get("location"))
		status, page := z.callback(back.Query())
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Contains(t, page, "region")
		unchanged(t)
	})

	t.Run("the right org", func(t *testing.T) {
		_, err := z.Store.UpdateAccount(ctx, acct, func(a *tokens.Account) error {
			a.OrgID, a.OrgName = z.zoho["us"].OrgID(), "Org us"
			return nil
		})
		require.NoError(t, err)
		status, page := z.callback(z.consent(link, ""))
		require.Equal(t, http.StatusOK, status, page)
		assert.Equal(t, "used", z.listedLink(linkID)["status"])
		assert.Equal(t, 1, z.accountCount())
	})
}

// TestReconnectLinkOfADeletedAccount: the account a reconnect link was
// made for is deleted before the customer consents: nothing is created.
func TestReconnectLinkOfADeletedAccount(t *testing.T) {
	t.Parallel()
	z := newConnectEnv(t)
	acct, _ := z.connectAccount("us")
	_, link := z.mintReconnect(acct)
	q := z.consent(link, "")
	z.AdminCall("DELETE", "/admin/integrated-accounts/"+acct, nil, http.StatusNoContent)
	status, page := z.callback(q)
	assert.Equal(t, http.StatusGone, status)
	assert.Contains(t, page, "no longer exists")
	assert.Equal(t, 0, z.accountCount(), "no account is created in its place")
}

// TestCreateReconnectLinkRefusals: the admin API refuses a reconnect link
// for an unknown account or another datacenter than the account's, with
// a clear 400.
func TestCreateReconnectLinkRefusals(t *testing.T) {
	t.Parallel()
	z := newConnectEnv(t)
	acct, _ := z.connectAccount("us")
	tests := []struct {
		name string
		body map[string]any
		want string
	}{
		{"unknown account", map[string]any{"account_id": apptest.NewID()}, "no integrated account"},
		{"empty account id", map[string]any{"account_id": ""}, "no integrated account"},
		{"another datacenter", map[string]any{"account_id": acct, "datacenter": "eu"}, "its account's (us)"},
		{"bad lifetime", map[string]any{"account_id": acct, "expires_in_seconds": 1}, "expires_in_seconds"},
		{"account id not a string", map[string]any{"account_id": 7}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := z.Request("POST", "/admin/connect-links", tt.body)
			require.Equal(t, http.StatusBadRequest, r.Status, r.Body)
			code, msg := r.ErrCode(t)
			assert.Equal(t, "invalid_argument", code)
			assert.Contains(t, msg, tt.want)
		})
	}
	r := z.Request("POST", "/admin/connect-links", map[string]any{"account_id": acct, "datacenter": "US", "name": "Repair"})
	require.Equal(t, http.StatusCreated, r.Status, r.Body)
	assert.Equal(t, "Repair", r.JSON(t)["name"], "a reconnect link may be named")
	assert.Equal(t, "us", r.JSON(t)["datacenter"], "naming the account's own datacenter is fine")
	plain := z.AdminCall("POST", "/admin/connect-links", map[string]any{}, http.StatusCreated)
	assert.Equal(t, "connect", plain["kind"])
	assert.Nil(t, plain["account_id"])
}
