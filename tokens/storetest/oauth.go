package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// testGrant returns a grant of server serverID whose code hashes a random
// secret.
func testGrant(t testing.TB, serverID string) *tokens.OAuthGrant {
	t.Helper()
	return &tokens.OAuthGrant{
		ID:            NewID(t),
		MCPServerID:   serverID,
		AccountID:     NewID(t),
		ClientID:      "https://client.example/meta.json",
		UserID:        "1001",
		ZUID:          "5001",
		Email:         "p@example.com",
		CodeHash:      HashOf(RandomSecret(t, "bmcp_code_")),
		CodeChallenge: "challenge",
		RedirectURI:   "http://127.0.0.1:33418/callback",
		CodeExpiresAt: time.Date(2026, 3, 1, 12, 5, 0, 0, time.UTC),
	}
}

func testOAuthClients(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := newTestClock()
	db := open(t, clock.Now)
	c := &tokens.OAuthClient{ID: "bmcp_client_" + NewID(t), Name: "Claude", RedirectURIs: []string{"https://claude.ai/api/mcp/auth_callback"}}
	require.NoError(t, db.CreateOAuthClient(ctx, c))
	assert.Equal(t, clock.Now(), c.CreatedAt, "CreateOAuthClient fills CreatedAt")
	got, err := db.OAuthClient(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, c, got)
	got.RedirectURIs[0] = "mutated"
	again, err := db.OAuthClient(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, c.RedirectURIs, again.RedirectURIs, "returned records are copies")

	assert.ErrorIs(t, db.CreateOAuthClient(ctx, &tokens.OAuthClient{ID: c.ID}), tokens.ErrConflict)
	_, err = db.OAuthClient(ctx, "bmcp_client_unknown")
	assert.ErrorIs(t, err, tokens.ErrNotFound)

	require.NoError(t, db.DeleteOAuthClient(ctx, c.ID))
	_, err = db.OAuthClient(ctx, c.ID)
	assert.ErrorIs(t, err, tokens.ErrNotFound)
	assert.ErrorIs(t, db.DeleteOAuthClient(ctx, c.ID), tokens.ErrNotFound)
}

func testOAuthGrantHashes(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := newTestClock()
	db := open(t, clock.Now)
	g := testGrant(t, NewID(t))
	require.NoError(t, db.CreateOAuthGrant(ctx, g))
	assert.Equal(t, clock.Now(), g.CreatedAt)
	assert.Equal(t, clock.Now(), g.UpdatedAt)

	got, err := db.OAuthGrantByHash(ctx, g.CodeHash)
	require.NoError(t, err)
	assert.Equal(t, g, got)
	byID, err := db.OAuthGrant(ctx, g.ID)
	require.NoError(t, err)
	assert.Equal(t, g, byID)

	other := testGrant(t, g.MCPServerID)
	other.CodeHash = g.CodeHash
	assert.ErrorIs(t, db.CreateOAuthGrant(ctx, other), tokens.ErrConflict, "a hash names one grant")
	dup := testGrant(t, g.MCPServerID)
	dup.ID = g.ID
	assert.ErrorIs(t, db.CreateOAuthGrant(ctx, dup), tokens.ErrConflict, "a reused ID")

	// Rotating: the new hashes find the grant, the replaced access hash
	// does not, the used refresh hash still does.
	access1, refresh1 := HashOf(RandomSecret(t, "at")), HashOf(RandomSecret(t, "rt"))
	clock.Advance(time.Minute)
	used := clock.Now()
	g2, err := db.UpdateOAuthGrant(ctx, g.ID, func(g *tokens.OAuthGrant) error {
		g.CodeUsedAt = &used
		g.AccessHash, g.RefreshHash = access1, refresh1
		g.ID, g.MCPServerID = "changed", "changed" // ignored
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, g.ID, g2.ID, "ID cannot change")
	assert.Equal(t, g.MCPServerID, g2.MCPServerID, "MCPServerID cannot change")
	assert.Equal(t, clock.Now(), g2.UpdatedAt)
	access2, refresh2 := HashOf(RandomSecret(t, "at")), HashOf(RandomSecret(t, "rt"))
	_, err = db.UpdateOAuthGrant(ctx, g.ID, func(g *tokens.OAuthGrant) error {
		g.UsedRefreshHashes = append(g.UsedRefreshHashes, g.RefreshHash)
		g.AccessHash, g.RefreshHash = access2, refresh2
		return nil
	})
	require.NoError(t, err)
	tests := []struct {
		name  string
		hash  [32]byte
		found bool
	}{
		{"code", g.CodeHash, true},
		{"current access", access2, true},
		{"current refresh", refresh2, true},
		{"used refresh", refresh1, true},
		{"replaced access", access1, false},
		{"never issued", HashOf("nothing"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.OAuthGrantByHash(ctx, tt.hash)
			if !tt.found {
				assert.ErrorIs(t, err, tokens.ErrNotFound)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, g.ID, got.ID)
		})
	}

	// fn's error aborts the change and comes back as is.
	errStop := errors.New("stop")
	_, err = db.UpdateOAuthGrant(ctx, g.ID, func(g *tokens.OAuthGrant) error {
		g.AccessHash = HashOf("aborted")
		return errStop
	})
	assert.ErrorIs(t, err, errStop)
	_, err = db.OAuthGrantByHash(ctx, HashOf("aborted"))
	assert.ErrorIs(t, err, tokens.ErrNotFound, "an aborted update indexes nothing")
	_, err = db.UpdateOAuthGrant(ctx, "missing", func(*tokens.OAuthGrant) error { return nil })
	assert.ErrorIs(t, err, tokens.ErrNotFound)

	// A hash another grant names is a conflict on update too.
	third := testGrant(t, g.MCPServerID)
	require.NoError(t, db.CreateOAuthGrant(ctx, third))
	_, err = db.UpdateOAuthGrant(ctx, third.ID, func(x *tokens.OAuthGrant) error {
		x.AccessHash = access2
		return nil
	})
	assert.ErrorIs(t, err, tokens.ErrConflict)

	// Deleting drops every hash.
	deleted, err := db.DeleteOAuthGrant(ctx, g.ID)
	require.NoError(t, err)
	assert.Equal(t, g.ID, deleted.ID)
	for _, h := range [][32]byte{g.CodeHash, access2, refresh2, refresh1} {
		_, err := db.OAuthGrantByHash(ctx, h)
		assert.ErrorIs(t, err, tokens.ErrNotFound)
	}
	_, err = db.DeleteOAuthGrant(ctx, g.ID)
	assert.ErrorIs(t, err, tokens.ErrNotFound)
}

func testOAuthGrantsPerServer(t *testing.T, open Factory) {
	ctx := context.Background()
	db := open(t, nil)
	s1, s2 := NewID(t), NewID(t)
	var ids []string
	for range 3 {
		g := testGrant(t, s1)
		require.NoError(t, db.CreateOAuthGrant(ctx, g))
		ids = append(ids, g.ID)
	}
	other := testGrant(t, s2)
	require.NoError(t, db.CreateOAuthGrant(ctx, other))

	tests := []struct {
		name   string
		server string
		after  string
		limit  int
		want   []string
		more   bool
	}{
		{"first page", s1, "", 2, ids[:2], true},
		{"next page", s1, ids[1], 2, ids[2:], false},
		{"all", s1, "", 10, ids, false},
		{"other server", s2, "", 10, []string{other.ID}, false},
		{"unknown server", NewID(t), "", 10, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := db.OAuthGrants(ctx, tt.server, tt.after, tt.limit)
			require.NoError(t, err)
			var gotIDs []string
			for _, g := range got {
				gotIDs = append(gotIDs, g.ID)
			}
			assert.Equal(t, tt.want, gotIDs)
			assert.Equal(t, tt.more, more)
		})
	}

	n, err := db.DeleteOAuthGrantsOf(ctx, s1)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	got, _, err := db.OAuthGrants(ctx, s1, "", 10)
	require.NoError(t, err)
	assert.Empty(t, got)
	left, err := db.OAuthGrantByHash(ctx, other.CodeHash)
	require.NoError(t, err, "another server's grants stay")
	assert.Equal(t, other.ID, left.ID)
	_, _, err = db.OAuthGrants(ctx, s1, "", 0)
	assert.Error(t, err, "limit must be positive")
}

// testDeleteIdleOAuthClients: the clients created before the cutoff that
// no grant names are deleted, however many there are; a client a grant
// names, or a newer one, stays.
func testDeleteIdleOAuthClients(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := newTestClock()
	db := open(t, clock.Now)
	newClient := func(name string, at time.Time) *tokens.OAuthClient {
		c := &tokens.OAuthClient{ID: "bmcp_client_" + NewID(t), Name: name, RedirectURIs: []string{"http://127.0.0.1/cb"}, CreatedAt: at}
		require.NoError(t, db.CreateOAuthClient(ctx, c))
		return c
	}
	cutoff := clock.Now()
	old := cutoff.Add(-25 * time.Hour)
	used := newClient("used", old)
	g := testGrant(t, NewID(t))
	g.ClientID = used.ID
	require.NoError(t, db.CreateOAuthGrant(ctx, g))
	ended := newClient("grant ended", old)
	eg := testGrant(t, NewID(t))
	eg.ClientID = ended.ID
	require.NoError(t, db.CreateOAuthGrant(ctx, eg))
	_, err := db.DeleteOAuthGrant(ctx, eg.ID)
	require.NoError(t, err)
	young := newClient("young", cutoff)
	var idle []string
	for i := range 250 { // more than one transaction's worth
		idle = append(idle, newClient(fmt.Sprintf("idle %d", i), old.Add(time.Duration(i)*time.Second)).ID)
	}

	n, err := db.DeleteIdleOAuthClients(ctx, cutoff)
	require.NoError(t, err)
	assert.Equal(t, len(idle)+1, n, "every idle client and the one whose grant ended")
	for _, id := range append(idle, ended.ID) {
		_, err := db.OAuthClient(ctx, id)
		assert.ErrorIs(t, err, tokens.ErrNotFound, "client %s", id)
	}
	for _, c := range []*tokens.OAuthClient{used, young} {
		_, err := db.OAuthClient(ctx, c.ID)
		assert.NoError(t, err, "%s stays", c.Name)
	}
	n, err = db.DeleteIdleOAuthClients(ctx, cutoff)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing left to delete")
}
