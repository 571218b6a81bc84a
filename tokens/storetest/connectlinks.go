package storetest

import (
	"context"
	"errors"
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

// testReconnectLink: a reconnect link repairs the account it names in
// the same transaction that marks it used; a refusal by fn leaves both
// untouched, and the link cannot repair another account or be used twice.
func testReconnectLink(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := newTestClock()
	db := open(t, clock.Now)

	a := Account(t, "broken")
	a.Status = tokens.StatusNeedsReauth
	require.NoError(t, db.CreateAccount(ctx, a))
	srv := Server(t, a.ID, "kept")
	require.NoError(t, db.CreateMCPServer(ctx, srv))
	other := Account(t, "other")
	require.NoError(t, db.CreateAccount(ctx, other))

	l := testConnectLink(t, clock.Now(), "reconnect")
	l.Datacenter, l.ReconnectAccountID = a.Datacenter, a.ID
	require.NoError(t, db.CreateConnectLink(ctx, l))
	stored, err := db.ConnectLink(ctx, l.ID)
	require.NoError(t, err)
	assert.Equal(t, a.ID, stored.ReconnectAccountID, "the account a link reconnects is stored")
	byHash, err := db.ConnectLinkByHash(ctx, l.TokenHash)
	require.NoError(t, err)
	assert.Equal(t, a.ID, byHash.ReconnectAccountID)

	clock.Advance(time.Minute)
	refused := errors.New("another org")
	tests := []struct {
		name      string
		linkID    string
		accountID string
		fn        func(*tokens.Account) error
		wantErr   error
	}{
		{"fn refuses", l.ID, a.ID, func(x *tokens.Account) error { x.RefreshToken = "changed"; return refused }, refused},
		{"another account", l.ID, other.ID, func(*tokens.Account) error { return nil }, tokens.ErrConflict},
		{"missing link", NewID(t), a.ID, func(*tokens.Account) error { return nil }, tokens.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.UseConnectLinkToReconnect(ctx, tt.linkID, tt.accountID, tt.fn)
			require.ErrorIs(t, err, tt.wantErr)
			got, err := db.Account(ctx, a.ID)
			require.NoError(t, err)
			assert.Equal(t, a, got, "the account is unchanged")
			got, err = db.Account(ctx, other.ID)
			require.NoError(t, err)
			assert.Equal(t, other, got, "so is the other one")
			link, err := db.ConnectLink(ctx, l.ID)
			require.NoError(t, err)
			assert.Nil(t, link.UsedAt, "the link stays usable")
		})
	}

	fresh := RandomSecret(t, "rt-")
	got, err := db.UseConnectLinkToReconnect(ctx, l.ID, a.ID, func(x *tokens.Account) error {
		x.ID, x.CreatedAt = "ignored", time.Time{}
		x.ClientID, x.ClientSecret, x.RefreshToken = "", "", fresh
		x.AccessToken = "at-new"
		x.Status = tokens.StatusActive
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, a.ID, got.ID, "the account keeps its id")
	assert.Equal(t, a.CreatedAt, got.CreatedAt)
	assert.Equal(t, clock.Now(), got.UpdatedAt)
	assert.Equal(t, tokens.StatusActive, got.Status)
	assert.Equal(t, fresh, got.RefreshToken)
	assert.Empty(t, got.ClientID)
	reread, err := db.Account(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, got, reread, "the repaired account is stored")
	got.Name = "mutated"
	reread, err = db.Account(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, "broken", reread.Name, "the returned account is a copy")

	link, err := db.ConnectLink(ctx, l.ID)
	require.NoError(t, err)
	require.NotNil(t, link.UsedAt)
	assert.Equal(t, clock.Now(), *link.UsedAt)
	assert.Equal(t, a.ID, link.AccountID)
	servers, _, err := db.MCPServers(ctx, a.ID, "", 10)
	require.NoError(t, err)
	require.Len(t, servers, 1)
	assert.Equal(t, srv.ID, servers[0].ID, "the account's MCP servers stay")

	_, err = db.UseConnectLinkToReconnect(ctx, l.ID, a.ID, func(*tokens.Account) error { return nil })
	assert.ErrorIs(t, err, tokens.ErrConflict, "a reconnect link works once")
	_, err = db.RevokeConnectLink(ctx, l.ID, clock.Now())
	assert.ErrorIs(t, err, tokens.ErrConflict, "a used reconnect link cannot be revoked")

	plain := testConnectLink(t, clock.Now(), "plain")
	require.NoError(t, db.CreateConnectLink(ctx, plain))
	_, err = db.UseConnectLinkToReconnect(ctx, plain.ID, a.ID, func(*tokens.Account) error { return nil })
	assert.ErrorIs(t, err, tokens.ErrConflict, "a plain connect link reconnects nothing")

	revoked := testConnectLink(t, clock.Now(), "revoked")
	revoked.ReconnectAccountID = a.ID
	require.NoError(t, db.CreateConnectLink(ctx, revoked))
	_, err = db.RevokeConnectLink(ctx, revoked.ID, clock.Now())
	require.NoError(t, err)
	_, err = db.UseConnectLinkToReconnect(ctx, revoked.ID, a.ID, func(*tokens.Account) error { return nil })
	assert.ErrorIs(t, err, tokens.ErrConflict, "a revoked reconnect link repairs nothing")

	gone := Account(t, "gone")
	require.NoError(t, db.CreateAccount(ctx, gone))
	orphan := testConnectLink(t, clock.Now(), "orphan")
	orphan.ReconnectAccountID = gone.ID
	require.NoError(t, db.CreateConnectLink(ctx, orphan))
	_, err = db.DeleteAccount(ctx, gone.ID)
	require.NoError(t, err)
	_, err = db.UseConnectLinkToReconnect(ctx, orphan.ID, gone.ID, func(*tokens.Account) error { return nil })
	assert.ErrorIs(t, err, tokens.ErrNotFound, "a deleted account cannot be reconnected")
	link, err = db.ConnectLink(ctx, orphan.ID)
	require.NoError(t, err)
	assert.Nil(t, link.UsedAt, "and its link is not spent")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = db.UseConnectLinkToReconnect(cctx, orphan.ID, gone.ID, func(*tokens.Account) error { return nil })
	assert.ErrorIs(t, err, context.Canceled)
}

// testReconnectRacesRevoke: revoking a reconnect link while its callback
// uses it ends with exactly one of the two having happened.
func testReconnectRacesRevoke(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := newTestClock()
	db := open(t, clock.Now)
	a := Account(t, "raced")
	require.NoError(t, db.CreateAccount(ctx, a))
	for i := range 10 {
		l := testConnectLink(t, clock.Now(), fmt.Sprintf("race %d", i))
		l.ReconnectAccountID = a.ID
		require.NoError(t, db.CreateConnectLink(ctx, l))
		token := RandomSecret(t, "rt-")
		var wg sync.WaitGroup
		var useErr, revokeErr error
		start := make(chan struct{})
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			_, useErr = db.UseConnectLinkToReconnect(ctx, l.ID, a.ID, func(x *tokens.Account) error { x.RefreshToken = token; return nil })
		}()
		go func() { defer wg.Done(); <-start; _, revokeErr = db.RevokeConnectLink(ctx, l.ID, clock.Now()) }()
		close(start)
		wg.Wait()
		stored, err := db.ConnectLink(ctx, l.ID)
		require.NoError(t, err)
		acc, err := db.Account(ctx, a.ID)
		require.NoError(t, err)
		if useErr == nil {
			assert.ErrorIs(t, revokeErr, tokens.ErrConflict)
			assert.NotNil(t, stored.UsedAt)
			assert.Nil(t, stored.RevokedAt)
			assert.Equal(t, token, acc.RefreshToken)
		} else {
			assert.ErrorIs(t, useErr, tokens.ErrConflict)
			assert.NoError(t, revokeErr)
			assert.Nil(t, stored.UsedAt)
			assert.NotNil(t, stored.RevokedAt)
			assert.NotEqual(t, token, acc.RefreshToken)
		}
	}
}
