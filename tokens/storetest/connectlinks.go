package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// testConnectLink returns a usable link that expires in an hour.
func testConnectLink(t testing.TB, now time.Time, name string) *tokens.ConnectLink {
	t.Helper()
	return &tokens.ConnectLink{ID: NewID(t), Name: name, TokenHash: HashOf(RandomSecret(t, "bmcp_link_")), ExpiresAt: now.Add(time.Hour)}
}

// testConnectLinksPaging: the admin list shows every link, used and
// revoked ones too, in ID order, paged by an exclusive `after`.
func testConnectLinksPaging(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := newTestClock()
	db := open(t, clock.Now)

	list, more, err := db.ConnectLinks(ctx, "", 10)
	require.NoError(t, err)
	assert.Empty(t, list)
	assert.False(t, more)

	var ids []string
	for i := range 5 {
		l := testConnectLink(t, clock.Now(), fmt.Sprintf("link %d", i))
		require.NoError(t, db.CreateConnectLink(ctx, l))
		ids = append(ids, l.ID)
	}
	require.NoError(t, db.UseConnectLink(ctx, ids[1], Account(t, "used")))
	_, err = db.RevokeConnectLink(ctx, ids[2], clock.Now())
	require.NoError(t, err)

	var got []string
	after := ""
	for page := 0; ; page++ {
		require.Less(t, page, 5, "paging ends")
		list, more, err := db.ConnectLinks(ctx, after, 2)
		require.NoError(t, err)
		require.LessOrEqual(t, len(list), 2)
		for _, l := range list {
			got = append(got, l.ID)
			switch l.ID {
			case ids[1]:
				assert.NotNil(t, l.UsedAt, "a used link is listed as used")
			case ids[2]:
				assert.NotNil(t, l.RevokedAt, "a revoked link is listed as revoked")
			default:
				assert.Nil(t, l.UsedAt)
				assert.Nil(t, l.RevokedAt)
			}
		}
		if !more {
			break
		}
		after = list[len(list)-1].ID
	}
	assert.Equal(t, ids, got)

	_, _, err = db.ConnectLinks(ctx, "", 0)
	assert.Error(t, err, "limit must be at least 1")
}

// testRevokeConnectLink: a revoked link keeps its record, can no longer
// create an account, and a used link cannot be revoked.
func testRevokeConnectLink(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := newTestClock()
	db := open(t, clock.Now)

	l := testConnectLink(t, clock.Now(), "to revoke")
	require.NoError(t, db.CreateConnectLink(ctx, l))
	clock.Advance(time.Minute)
	at := clock.Now()
	got, err := db.RevokeConnectLink(ctx, l.ID, at)
	require.NoError(t, err)
	require.NotNil(t, got.RevokedAt)
	assert.Equal(t, at, *got.RevokedAt)
	assert.Equal(t, l.TokenHash, got.TokenHash)

	stored, err := db.ConnectLink(ctx, l.ID)
	require.NoError(t, err)
	assert.Equal(t, got, stored, "the revocation is stored")
	byHash, err := db.ConnectLinkByHash(ctx, l.TokenHash)
	require.NoError(t, err)
	assert.Equal(t, got, byHash, "and seen through the hash index")

	clock.Advance(time.Minute)
	again, err := db.RevokeConnectLink(ctx, l.ID, clock.Now())
	require.NoError(t, err, "revoking twice is harmless")
	assert.Equal(t, at, *again.RevokedAt, "and keeps the first time")

	a := Account(t, "late")
	assert.ErrorIs(t, db.UseConnectLink(ctx, l.ID, a), tokens.ErrConflict, "a revoked link creates nothing")
	_, err = db.Account(ctx, a.ID)
	assert.ErrorIs(t, err, tokens.ErrNotFound)

	used := testConnectLink(t, clock.Now(), "used")
	require.NoError(t, db.CreateConnectLink(ctx, used))
	require.NoError(t, db.UseConnectLink(ctx, used.ID, Account(t, "connected")))
	_, err = db.RevokeConnectLink(ctx, used.ID, clock.Now())
	assert.ErrorIs(t, err, tokens.ErrConflict, "a used link cannot be revoked")
	stored, err = db.ConnectLink(ctx, used.ID)
	require.NoError(t, err)
	assert.Nil(t, stored.RevokedAt)

	_, err = db.RevokeConnectLink(ctx, "missing", clock.Now())
	assert.ErrorIs(t, err, tokens.ErrNotFound)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = db.RevokeConnectLink(cctx, used.ID, clock.Now())
	assert.ErrorIs(t, err, context.Canceled)
	_, _, err = db.ConnectLinks(cctx, "", 10)
	assert.ErrorIs(t, err, context.Canceled)
}

// testRevokeRacesUse: revoking a link while its callback uses it ends
// with exactly one of the two having happened, never both.
func testRevokeRacesUse(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := newTestClock()
	db := open(t, clock.Now)
	const links = 10
	for i := range links {
		l := testConnectLink(t, clock.Now(), fmt.Sprintf("race %d", i))
		require.NoError(t, db.CreateConnectLink(ctx, l))
		a := Account(t, "raced")
		var wg sync.WaitGroup
		var useErr, revokeErr error
		start := make(chan struct{})
		wg.Add(2)
		go func() { defer wg.Done(); <-start; useErr = db.UseConnectLink(ctx, l.ID, a) }()
		go func() { defer wg.Done(); <-start; _, revokeErr = db.RevokeConnectLink(ctx, l.ID, clock.Now()) }()
		close(start)
		wg.Wait()
		stored, err := db.ConnectLink(ctx, l.ID)
		require.NoError(t, err)
		_, accErr := db.Account(ctx, a.ID)
		if useErr == nil {
			assert.ErrorIs(t, revokeErr, tokens.ErrConflict)
			assert.NotNil(t, stored.UsedAt)
			assert.Nil(t, stored.RevokedAt)
			assert.NoError(t, accErr)
		} else {
			assert.ErrorIs(t, useErr, tokens.ErrConflict)
			assert.NoError(t, revokeErr)
			assert.Nil(t, stored.UsedAt)
			assert.NotNil(t, stored.RevokedAt)
			assert.ErrorIs(t, accErr, tokens.ErrNotFound)
		}
	}
}
