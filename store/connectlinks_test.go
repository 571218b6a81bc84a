package store

import (
	"context"
	"testing"
	"time"

	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConnectLinks(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	db := openTest(t, Options{Now: clock.Now})

	l := &tokens.ConnectLink{ID: newID(t), Name: "customer", Datacenter: "eu", TokenHash: hashOf("link"), ExpiresAt: clock.Now().Add(time.Hour)}
	require.NoError(t, db.CreateConnectLink(ctx, l))
	assert.Equal(t, clock.Now(), l.CreatedAt)
	assert.ErrorIs(t, db.CreateConnectLink(ctx, &tokens.ConnectLink{ID: newID(t), TokenHash: l.TokenHash}), tokens.ErrConflict)
	assert.ErrorIs(t, db.CreateConnectLink(ctx, &tokens.ConnectLink{ID: l.ID, TokenHash: hashOf("x")}), tokens.ErrConflict)

	got, err := db.ConnectLinkByHash(ctx, l.TokenHash)
	require.NoError(t, err)
	assert.Equal(t, l, got)
	_, err = db.ConnectLinkByHash(ctx, hashOf("nope"))
	assert.ErrorIs(t, err, tokens.ErrNotFound)

	// Using the link with an account ID that exists fails and leaves the
	// link unused (one transaction).
	existing := testAccount(t, "existing")
	require.NoError(t, db.CreateAccount(ctx, existing))
	assert.ErrorIs(t, db.UseConnectLink(ctx, l.ID, &tokens.Account{ID: existing.ID}), tokens.ErrConflict)
	got, err = db.ConnectLink(ctx, l.ID)
	require.NoError(t, err)
	assert.Nil(t, got.UsedAt)

	clock.Advance(time.Minute)
	a := testAccount(t, "connected")
	require.NoError(t, db.UseConnectLink(ctx, l.ID, a))
	assert.Equal(t, clock.Now(), a.CreatedAt)
	stored, err := db.Account(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, a, stored)
	got, err = db.ConnectLink(ctx, l.ID)
	require.NoError(t, err)
	require.NotNil(t, got.UsedAt)
	assert.Equal(t, clock.Now(), *got.UsedAt)
	assert.Equal(t, a.ID, got.AccountID)

	second := testAccount(t, "second")
	err = db.UseConnectLink(ctx, l.ID, second)
	assert.ErrorIs(t, err, tokens.ErrConflict, "single use")
	_, err = db.Account(ctx, second.ID)
	assert.ErrorIs(t, err, tokens.ErrNotFound, "no account created by a used link")

	assert.ErrorIs(t, db.UseConnectLink(ctx, "missing", testAccount(t, "x")), tokens.ErrNotFound)
	_, err = db.ConnectLink(ctx, "missing")
	assert.ErrorIs(t, err, tokens.ErrNotFound)
}
