package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/store/etcdstore/etcdtest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// TestReplicasAnswerARetriedRefreshAlike: a refresh answered by replica A
// whose answer the client lost, retried on replica B within the grace,
// gets from B the very pair A issued; past the grace the retry is reuse
// and ends the grant on every replica.
func TestReplicasAnswerARetriedRefreshAlike(t *testing.T) {
	t.Parallel()
	cluster := etcdtest.Start(t, 1)
	envs := replicas(t, cluster, 2, nil)
	a, b := envs[0], envs[1]
	ctx := context.Background()
	sb := a.Sandboxes["us"]

	acct := a.ConnectAccount("us")
	id, mcpURL := a.MintURL(acct, map[string]any{"auth": "oauth"})
	require.Eventually(t, func() bool { return post(t, on(b, mcpURL)) == http.StatusUnauthorized }, within, 10*time.Millisecond)
	reg := a.RequestAs("", "application/json", "POST", "/oauth/register", map[string]any{"client_name": "c", "redirect_uris": []string{"http://127.0.0.1/cb"}})
	require.Equal(t, http.StatusCreated, reg.Status, "%s", reg.Body)
	client := reg.JSON(t)["client_id"].(string)

	// A grant as the token endpoint leaves it after the code exchange.
	m, err := a.Store.MCPServer(ctx, id)
	require.NoError(t, err)
	who, ok := sb.User(sb.PrimaryUserID())
	require.True(t, ok)
	rt0 := tokens.OAuthRefreshPrefix + strings.Repeat("R", 43)
	now := a.Clock.Now()
	usedAt := now
	g := &tokens.OAuthGrant{
		ID: apptest.NewID(), MCPServerID: id, AccountID: acct, AuthEpoch: m.Config.AuthEpoch, ClientID: client,
		UserID: who.ID, ZUID: who.ZUID, Email: who.Email, CodeHash: tokens.HashToken("code-" + apptest.NewID()),
		CodeExpiresAt: now, CodeUsedAt: &usedAt,
		AccessHash: tokens.HashToken(tokens.OAuthAccessPrefix + strings.Repeat("A", 43)), AccessExpiresAt: now.Add(time.Hour),
		RefreshHash: tokens.HashToken(rt0), RefreshExpiresAt: now.Add(tokens.OAuthRefreshLifetime),
	}
	require.NoError(t, a.Store.CreateOAuthGrant(ctx, g))

	refresh := func(e *apptest.Env, rt string) (int, map[string]any) {
		t.Helper()
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {client}}
		r := e.RequestAs("", "application/x-www-form-urlencoded", "POST", "/oauth/token", form.Encode())
		var out map[string]any
		require.NoError(t, json.Unmarshal(r.Body, &out), "%s", r.Body)
		return r.Status, out
	}
	st, first := refresh(a, rt0)
	require.Equal(t, http.StatusOK, st, "%v", first)
	st, again := refresh(b, rt0)
	require.Equal(t, http.StatusOK, st, "%v", again)
	assert.Equal(t, first["access_token"], again["access_token"], "B answers the pair A issued")
	assert.Equal(t, first["refresh_token"], again["refresh_token"])
	assert.Equal(t, http.StatusOK, postAs(t, on(b, mcpURL), again["access_token"].(string)))

	a.Clock.Advance(tokens.OAuthRefreshGrace)
	st, _ = refresh(b, rt0)
	assert.Equal(t, http.StatusBadRequest, st, "past the grace, the old token is reuse")
	_, err = a.Store.OAuthGrant(ctx, g.ID)
	assert.ErrorIs(t, err, tokens.ErrNotFound, "and the grant ended")
	assert.Eventually(t, func() bool {
		return postAs(t, on(a, mcpURL), first["access_token"].(string)) == http.StatusUnauthorized
	},
		within, 10*time.Millisecond, "everywhere")
}
