package tokens_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tokens.Account changes that need no Zoho call: rename, status, delete, sync.

func TestAccountRenameReissuesResolutions(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	acct := e.SeedAccount("acme")
	_, tok := e.Mint(acct.ID, nil)
	before, err := e.Svc.Resolve(ctx, tok)
	require.NoError(t, err)

	r := e.Request("PATCH", "/admin/integrated-accounts/"+acct.ID, map[string]any{"name": "Acme Ltd"})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	m := r.JSON(t)
	assert.Equal(t, "Acme Ltd", m["name"])
	assert.Equal(t, map[string]any{"id": "111", "name": "Org acme"}, m["org"])
	for _, secret := range []string{acct.RefreshToken, acct.AccessToken, acct.ClientSecret} {
		assert.NotContains(t, string(r.Body), secret)
	}

	after, err := e.Svc.Resolve(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, "Acme Ltd", after.Account.Name)
	assert.NotEqual(t, before.Version, after.Version)
	assert.Equal(t, before.Account.CredentialsVersion, after.Account.CredentialsVersion, "a rename keeps the credentials")
	tokens.AssertClosed(t, before.Done(), "the old resolution is done")

	for _, body := range []string{`{"name":""}`, `{"datacenter":"eu"}`, `{"refresh_token":""}`} {
		r := e.Request("PATCH", "/admin/integrated-accounts/"+acct.ID, body)
		assert.Equal(t, http.StatusBadRequest, r.Status, body)
	}
	r = e.Request("PATCH", "/admin/integrated-accounts/"+apptest.NewID(), map[string]any{"name": "x"})
	assert.Equal(t, http.StatusNotFound, r.Status)
}

func TestMarkNeedsReauth(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	acct := e.SeedAccount("acme")
	_, tok := e.Mint(acct.ID, nil)
	before, err := e.Svc.Resolve(ctx, tok)
	require.NoError(t, err)
	require.Equal(t, tokens.StatusActive, before.Account.Status)

	require.NoError(t, e.Svc.MarkNeedsReauth(ctx, acct.ID))
	after, err := e.Svc.Resolve(ctx, tok)
	require.NoError(t, err, "the URL still resolves; its tools report reauthorization_required")
	assert.Equal(t, tokens.StatusNeedsReauth, after.Account.Status)
	assert.NotEqual(t, before.Version, after.Version)
	tokens.AssertClosed(t, before.Done(), "status change")

	r := e.Request("GET", "/admin/integrated-accounts/"+acct.ID, nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, "needs_reauth", r.JSON(t)["status"])

	// Idempotent: no new version.
	require.NoError(t, e.Svc.MarkNeedsReauth(ctx, acct.ID))
	again, err := e.Svc.Resolve(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, after.Version, again.Version)

	assert.ErrorIs(t, e.Svc.MarkNeedsReauth(ctx, apptest.NewID()), tokens.ErrNotFound)
}

func TestAccountDeleteCascades(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	acct := e.SeedAccount("acme")
	other := e.SeedAccount("other")
	var resolved []*tokens.Resolved
	for range 3 {
		_, tok := e.Mint(acct.ID, nil)
		res, err := e.Svc.Resolve(ctx, tok)
		require.NoError(t, err)
		resolved = append(resolved, res)
		defer func() {
			_, err := e.Svc.Resolve(ctx, tok)
			assert.ErrorIs(t, err, tokens.ErrNotFound, "deleted with its account")
		}()
	}
	_, otherTok := e.Mint(other.ID, nil)

	r := e.Request("DELETE", "/admin/integrated-accounts/"+acct.ID, nil)
	require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
	for _, res := range resolved {
		tokens.AssertClosed(t, res.Done(), "account deleted")
		_, err := e.DB.MCPServer(ctx, res.Server.ID)
		assert.ErrorIs(t, err, tokens.ErrNotFound)
	}
	_, err := e.Svc.Resolve(ctx, otherTok)
	assert.NoError(t, err, "other accounts are untouched")

	for _, c := range []struct{ method, path string }{
		{"GET", "/admin/integrated-accounts/" + acct.ID},
		{"DELETE", "/admin/integrated-accounts/" + acct.ID},
		{"GET", "/admin/integrated-accounts/" + acct.ID + "/mcp"},
		{"POST", "/admin/integrated-accounts/" + acct.ID + "/mcp"},
	} {
		r := e.Request(c.method, c.path, map[string]any{"name": "x"})
		assert.Equal(t, http.StatusNotFound, r.Status, c.method+" "+c.path)
	}
	tokens.AssertIndexMatchesStore(t, e.Svc, e.DB)
}

func TestAccountListAndGet(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	a := e.SeedAccount("one")
	e.SeedAccount("two")
	r := e.Request("GET", "/admin/integrated-accounts?limit=1", nil)
	require.Equal(t, http.StatusOK, r.Status)
	m := r.JSON(t)
	require.Len(t, m["result"], 1)
	require.NotNil(t, m["next_cursor"])
	first := m["result"].([]any)[0].(map[string]any)
	assert.Equal(t, a.ID, first["id"])
	for _, k := range []string{"id", "name", "datacenter", "api_domain", "org", "status", "created_at"} {
		assert.Contains(t, first, k)
	}
	for _, k := range []string{"refresh_token", "access_token", "client_secret", "client_id"} {
		assert.NotContains(t, first, k)
	}
	r = e.Request("GET", "/admin/integrated-accounts?limit=1&next_cursor="+m["next_cursor"].(string), nil)
	require.Equal(t, http.StatusOK, r.Status)
	m = r.JSON(t)
	assert.Equal(t, "two", m["result"].([]any)[0].(map[string]any)["name"])
	assert.Nil(t, m["next_cursor"])

	g := e.Request("GET", "/admin/integrated-accounts/"+a.ID, nil)
	require.Equal(t, http.StatusOK, g.Status)
	assert.Equal(t, first, g.JSON(t))
	assert.Equal(t, http.StatusNotFound, e.Request("GET", "/admin/integrated-accounts/"+apptest.NewID(), nil).Status)
}

func TestSyncAccount(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	acct := e.SeedAccount("acme")
	_, tok := e.Mint(acct.ID, nil)
	before, err := e.Svc.Resolve(ctx, tok)
	require.NoError(t, err)

	// A change made outside the tokens.Service (the connect flow) is picked up.
	_, err = e.DB.UpdateAccount(ctx, acct.ID, func(a *tokens.Account) error {
		a.RefreshToken = "rt-new"
		a.Status = tokens.StatusActive
		a.Name = "outside"
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, e.Svc.SyncAccount(ctx, acct.ID))
	after, err := e.Svc.Resolve(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, "outside", after.Account.Name)
	assert.NotEqual(t, before.Account.CredentialsVersion, after.Account.CredentialsVersion)
	tokens.AssertClosed(t, before.Done(), "synced")

	_, err = e.DB.DeleteAccount(ctx, acct.ID)
	require.NoError(t, err)
	require.NoError(t, e.Svc.SyncAccount(ctx, acct.ID))
	_, err = e.Svc.Resolve(ctx, tok)
	assert.ErrorIs(t, err, tokens.ErrNotFound)
	tokens.AssertIndexMatchesStore(t, e.Svc, e.DB)
}
