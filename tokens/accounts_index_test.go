package tokens

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/store"
)

// Account changes that need no Zoho call: rename, status, delete, sync.

func TestAccountRenameReissuesResolutions(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	acct := e.seedAccount("acme")
	_, tok := e.mint(acct.ID, nil)
	before, err := e.svc.Resolve(ctx, tok)
	require.NoError(t, err)

	r := e.request("PATCH", "/admin/integrated-accounts/"+acct.ID, map[string]any{"name": "Acme Ltd"})
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	m := r.json(t)
	assert.Equal(t, "Acme Ltd", m["name"])
	assert.Equal(t, map[string]any{"id": "111", "name": "Org acme"}, m["org"])
	for _, secret := range []string{acct.RefreshToken, acct.AccessToken, acct.ClientSecret} {
		assert.NotContains(t, string(r.body), secret)
	}

	after, err := e.svc.Resolve(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, "Acme Ltd", after.Account.Name)
	assert.NotEqual(t, before.Version, after.Version)
	assert.Equal(t, before.Account.CredentialsVersion, after.Account.CredentialsVersion, "a rename keeps the credentials")
	assertClosed(t, before.Done(), "the old resolution is done")

	for _, body := range []string{`{"name":""}`, `{"datacenter":"eu"}`, `{"refresh_token":""}`} {
		r := e.request("PATCH", "/admin/integrated-accounts/"+acct.ID, body)
		assert.Equal(t, http.StatusBadRequest, r.status, body)
	}
	r = e.request("PATCH", "/admin/integrated-accounts/"+newID(), map[string]any{"name": "x"})
	assert.Equal(t, http.StatusNotFound, r.status)
}

func TestMarkNeedsReauth(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	acct := e.seedAccount("acme")
	_, tok := e.mint(acct.ID, nil)
	before, err := e.svc.Resolve(ctx, tok)
	require.NoError(t, err)
	require.Equal(t, store.StatusActive, before.Account.Status)

	require.NoError(t, e.svc.MarkNeedsReauth(ctx, acct.ID))
	after, err := e.svc.Resolve(ctx, tok)
	require.NoError(t, err, "the URL still resolves; its tools report reauthorization_required")
	assert.Equal(t, store.StatusNeedsReauth, after.Account.Status)
	assert.NotEqual(t, before.Version, after.Version)
	assertClosed(t, before.Done(), "status change")

	r := e.request("GET", "/admin/integrated-accounts/"+acct.ID, nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "needs_reauth", r.json(t)["status"])

	// Idempotent: no new version.
	require.NoError(t, e.svc.MarkNeedsReauth(ctx, acct.ID))
	again, err := e.svc.Resolve(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, after.Version, again.Version)

	assert.ErrorIs(t, e.svc.MarkNeedsReauth(ctx, newID()), store.ErrNotFound)
}

func TestAccountDeleteCascades(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	acct := e.seedAccount("acme")
	other := e.seedAccount("other")
	var resolved []*Resolved
	for range 3 {
		_, tok := e.mint(acct.ID, nil)
		res, err := e.svc.Resolve(ctx, tok)
		require.NoError(t, err)
		resolved = append(resolved, res)
		defer func() {
			_, err := e.svc.Resolve(ctx, tok)
			assert.ErrorIs(t, err, ErrNotFound, "deleted with its account")
		}()
	}
	_, otherTok := e.mint(other.ID, nil)

	r := e.request("DELETE", "/admin/integrated-accounts/"+acct.ID, nil)
	require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
	for _, res := range resolved {
		assertClosed(t, res.Done(), "account deleted")
		_, err := e.db.MCPServer(ctx, res.Server.ID)
		assert.ErrorIs(t, err, store.ErrNotFound)
	}
	_, err := e.svc.Resolve(ctx, otherTok)
	assert.NoError(t, err, "other accounts are untouched")

	for _, c := range []struct{ method, path string }{
		{"GET", "/admin/integrated-accounts/" + acct.ID},
		{"DELETE", "/admin/integrated-accounts/" + acct.ID},
		{"GET", "/admin/integrated-accounts/" + acct.ID + "/mcp"},
		{"POST", "/admin/integrated-accounts/" + acct.ID + "/mcp"},
	} {
		r := e.request(c.method, c.path, map[string]any{"name": "x"})
		assert.Equal(t, http.StatusNotFound, r.status, c.method+" "+c.path)
	}
	assertIndexMatchesStore(t, e.svc, e.db)
}

func TestAccountListAndGet(t *testing.T) {
	e := newTestEnv(t)
	a := e.seedAccount("one")
	e.seedAccount("two")
	r := e.request("GET", "/admin/integrated-accounts?limit=1", nil)
	require.Equal(t, http.StatusOK, r.status)
	m := r.json(t)
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
	r = e.request("GET", "/admin/integrated-accounts?limit=1&next_cursor="+m["next_cursor"].(string), nil)
	require.Equal(t, http.StatusOK, r.status)
	m = r.json(t)
	assert.Equal(t, "two", m["result"].([]any)[0].(map[string]any)["name"])
	assert.Nil(t, m["next_cursor"])

	g := e.request("GET", "/admin/integrated-accounts/"+a.ID, nil)
	require.Equal(t, http.StatusOK, g.status)
	assert.Equal(t, first, g.json(t))
	assert.Equal(t, http.StatusNotFound, e.request("GET", "/admin/integrated-accounts/"+newID(), nil).status)
}

func TestSyncAccount(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	acct := e.seedAccount("acme")
	_, tok := e.mint(acct.ID, nil)
	before, err := e.svc.Resolve(ctx, tok)
	require.NoError(t, err)

	// A change made outside the Service (the connect flow) is picked up.
	_, err = e.db.UpdateAccount(ctx, acct.ID, func(a *store.Account) error {
		a.RefreshToken = "rt-new"
		a.Status = store.StatusActive
		a.Name = "outside"
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, e.svc.SyncAccount(ctx, acct.ID))
	after, err := e.svc.Resolve(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, "outside", after.Account.Name)
	assert.NotEqual(t, before.Account.CredentialsVersion, after.Account.CredentialsVersion)
	assertClosed(t, before.Done(), "synced")

	_, err = e.db.DeleteAccount(ctx, acct.ID)
	require.NoError(t, err)
	require.NoError(t, e.svc.SyncAccount(ctx, acct.ID))
	_, err = e.svc.Resolve(ctx, tok)
	assert.ErrorIs(t, err, ErrNotFound)
	assertIndexMatchesStore(t, e.svc, e.db)
}
