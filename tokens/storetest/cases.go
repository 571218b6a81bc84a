package storetest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testAccountsPaging(t *testing.T, open Factory) {
	ctx := context.Background()
	db := open(t, nil)
	var ids []string
	for i := range 5 {
		a := Account(t, string(rune('a'+i)))
		require.NoError(t, db.CreateAccount(ctx, a))
		ids = append(ids, a.ID)
	}
	tests := []struct {
		name  string
		after string
		limit int
		want  []string
		more  bool
	}{
		{"first page", "", 2, ids[0:2], true},
		{"middle page", ids[1], 2, ids[2:4], true},
		{"last page", ids[3], 2, ids[4:5], false},
		{"exact fit", "", 5, ids, false},
		{"past the end", ids[4], 2, nil, false},
		{"after an unknown id between", ids[1] + "0", 10, ids[2:], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := db.Accounts(ctx, tt.after, tt.limit)
			require.NoError(t, err)
			var gotIDs []string
			for _, a := range got {
				gotIDs = append(gotIDs, a.ID)
				assert.NotEmpty(t, a.RefreshToken, "secrets are unsealed in lists")
			}
			assert.Equal(t, tt.want, gotIDs)
			assert.Equal(t, tt.more, more)
		})
	}
}

func testAccountCRUD(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := newTestClock()
	db := open(t, clock.Now)

	a := Account(t, "acme")
	require.NoError(t, db.CreateAccount(ctx, a))
	assert.Equal(t, clock.Now(), a.CreatedAt, "CreateAccount fills CreatedAt")
	assert.Equal(t, clock.Now(), a.UpdatedAt)
	assert.Equal(t, tokens.StatusActive, a.Status, "empty status defaults to active")

	got, err := db.Account(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, a, got)
	got.Name = "mutated"
	again, err := db.Account(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, "acme", again.Name, "returned records are copies")

	clock.Advance(time.Minute)
	errInvalid := errors.New("name must not be empty")
	tests := []struct {
		name    string
		id      string
		fn      func(*tokens.Account) error
		wantErr error
		check   func(t *testing.T, a *tokens.Account)
	}{
		{
			name: "rename and rotate tokens",
			id:   a.ID,
			fn: func(x *tokens.Account) error {
				x.Name, x.AccessToken, x.Status = "acme 2", "at-rotated", tokens.StatusNeedsReauth
				return nil
			},
			check: func(t *testing.T, x *tokens.Account) {
				assert.Equal(t, "acme 2", x.Name)
				assert.Equal(t, "at-rotated", x.AccessToken)
				assert.Equal(t, tokens.StatusNeedsReauth, x.Status)
				assert.Equal(t, a.RefreshToken, x.RefreshToken)
				assert.Equal(t, clock.Now(), x.UpdatedAt)
			},
		},
		{
			name: "ID and CreatedAt cannot change",
			id:   a.ID,
			fn:   func(x *tokens.Account) error { x.ID, x.CreatedAt = "other", time.Time{}; return nil },
			check: func(t *testing.T, x *tokens.Account) {
				assert.Equal(t, a.ID, x.ID)
				assert.Equal(t, a.CreatedAt, x.CreatedAt)
			},
		},
		{
			name:    "fn error is returned unchanged and nothing is stored",
			id:      a.ID,
			fn:      func(x *tokens.Account) error { x.Name = ""; return errInvalid },
			wantErr: errInvalid,
		},
		{
			name:    "unknown account",
			id:      "nope",
			fn:      func(*tokens.Account) error { t.Fatal("fn called"); return nil },
			wantErr: tokens.ErrNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.UpdateAccount(ctx, tt.id, tt.fn)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
				if tt.wantErr == errInvalid {
					assert.Same(t, errInvalid, err)
				}
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			tt.check(t, got)
			stored, err := db.Account(ctx, a.ID)
			require.NoError(t, err)
			assert.Equal(t, got, stored)
		})
	}
	stored, err := db.Account(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, "acme 2", stored.Name, "failed update left no trace")

	assert.ErrorIs(t, db.CreateAccount(ctx, &tokens.Account{ID: a.ID}), tokens.ErrConflict)
	assert.ErrorContains(t, db.CreateAccount(ctx, &tokens.Account{}), "ID is empty")

	deleted, err := db.DeleteAccount(ctx, a.ID)
	require.NoError(t, err)
	assert.Empty(t, deleted)
	_, err = db.Account(ctx, a.ID)
	assert.ErrorIs(t, err, tokens.ErrNotFound)
	_, err = db.DeleteAccount(ctx, a.ID)
	assert.ErrorIs(t, err, tokens.ErrNotFound)
}

func testAPITokens(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := newTestClock()
	db := open(t, clock.Now)

	n, err := db.CountAPITokens(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)

	var toks []*tokens.APIToken
	for i := range 3 {
		tok := &tokens.APIToken{ID: NewID(t), Name: string(rune('a' + i)), TokenHash: HashOf(RandomSecret(t, "bmcp_api_"))}
		if i == 1 { // limits are kept as given
			tok.AccountIDs, tok.Scopes = []string{"acct-1", "acct-2"}, []string{tokens.ScopeProxy, tokens.ScopeTools}
		}
		require.NoError(t, db.CreateAPIToken(ctx, tok))
		assert.Equal(t, clock.Now(), tok.CreatedAt)
		toks = append(toks, tok)
	}

	t.Run("create errors", func(t *testing.T) {
		tests := []struct {
			name string
			tok  *tokens.APIToken
			is   error
			msg  string
		}{
			{"hash taken", &tokens.APIToken{ID: NewID(t), TokenHash: toks[0].TokenHash}, tokens.ErrConflict, "hash already in use"},
			{"ID taken", &tokens.APIToken{ID: toks[0].ID, TokenHash: HashOf("x")}, tokens.ErrConflict, "already exists"},
			{"no ID", &tokens.APIToken{TokenHash: HashOf("x")}, nil, "ID is empty"},
			{"no hash", &tokens.APIToken{ID: NewID(t)}, nil, "no token hash"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := db.CreateAPIToken(ctx, tt.tok)
				if tt.is != nil {
					assert.ErrorIs(t, err, tt.is)
				}
				assert.ErrorContains(t, err, tt.msg)
			})
		}
	})

	t.Run("lookup and list", func(t *testing.T) {
		got, err := db.APITokenByHash(ctx, toks[1].TokenHash)
		require.NoError(t, err)
		assert.Equal(t, toks[1], got)
		_, err = db.APITokenByHash(ctx, HashOf("unknown"))
		assert.ErrorIs(t, err, tokens.ErrNotFound)

		page, more, err := db.APITokens(ctx, "", 2)
		require.NoError(t, err)
		assert.Equal(t, toks[:2], page)
		assert.True(t, more)
		page, more, err = db.APITokens(ctx, toks[1].ID, 2)
		require.NoError(t, err)
		assert.Equal(t, toks[2:], page)
		assert.False(t, more)

		n, err := db.CountAPITokens(ctx)
		require.NoError(t, err)
		assert.Equal(t, 3, n)
	})

	t.Run("delete down to the last", func(t *testing.T) {
		assert.ErrorIs(t, db.DeleteAPIToken(ctx, "missing"), tokens.ErrNotFound)
		require.NoError(t, db.DeleteAPIToken(ctx, toks[0].ID))
		_, err := db.APITokenByHash(ctx, toks[0].TokenHash)
		assert.ErrorIs(t, err, tokens.ErrNotFound, "a deleted token stops working at once")
		require.NoError(t, db.DeleteAPIToken(ctx, toks[2].ID))

		err = db.DeleteAPIToken(ctx, toks[1].ID)
		assert.ErrorIs(t, err, tokens.ErrConflict)
		assert.ErrorContains(t, err, "last one")
		_, err = db.APITokenByHash(ctx, toks[1].TokenHash)
		assert.NoError(t, err, "the last token still works")
		n, err := db.CountAPITokens(ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, n)

		// The hash of a deleted token can be used again.
		require.NoError(t, db.CreateAPIToken(ctx, &tokens.APIToken{ID: NewID(t), TokenHash: toks[0].TokenHash}))
	})
}

func testAuditPagingNewestFirst(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := newTestClock()
	db := open(t, clock.Now)

	var ids []string // oldest first
	for i := range 5 {
		e := &tokens.AuditEntry{Actor: "system", Action: "tool_call", Tool: string(rune('a' + i)), Outcome: "ok"}
		require.NoError(t, db.AppendAudit(ctx, e))
		id, err := uuid.Parse(e.ID)
		require.NoError(t, err, "AppendAudit fills the ID")
		assert.Equal(t, uuid.Version(7), id.Version())
		assert.Equal(t, clock.Now(), e.Time, "AppendAudit fills the time")
		ids = append(ids, e.ID)
		clock.Advance(time.Second)
	}
	rev := func(s []string) []string {
		out := make([]string, len(s))
		for i, v := range s {
			out[len(s)-1-i] = v
		}
		return out
	}
	tests := []struct {
		name   string
		before string
		limit  int
		want   []string
		more   bool
	}{
		{"newest page", "", 2, rev(ids[3:]), true},
		{"next page", ids[3], 2, rev(ids[1:3]), true},
		{"last page", ids[1], 2, ids[:1], false},
		{"all", "", 10, rev(ids), false},
		{"before the oldest", ids[0], 10, nil, false},
		{"before a later unknown id", "ffffffff", 1, ids[4:], true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := db.Audit(ctx, tt.before, tt.limit)
			require.NoError(t, err)
			var gotIDs []string
			for _, e := range got {
				gotIDs = append(gotIDs, e.ID)
			}
			assert.Equal(t, tt.want, gotIDs)
			assert.Equal(t, tt.more, more)
		})
	}
}

// TestConcurrentWrites runs 50 goroutines that create, update, read, list
// and audit at once (run it with -race). The shared counter proves that
// UpdateAccount's read-modify-write is serialised.
func testConcurrentWrites(t *testing.T, open Factory) {
	ctx := context.Background()
	db := open(t, nil)
	shared := Account(t, "shared")
	shared.OrgName = "0"
	require.NoError(t, db.CreateAccount(ctx, shared))

	const workers = 50
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			a := Account(t, "w"+strconv.Itoa(i))
			if !assert.NoError(t, db.CreateAccount(ctx, a)) {
				return
			}
			s := Server(t, a.ID, "s")
			if !assert.NoError(t, db.CreateMCPServer(ctx, s)) {
				return
			}
			_, err := db.UpdateAccount(ctx, shared.ID, func(x *tokens.Account) error {
				n, err := strconv.Atoi(x.OrgName)
				x.OrgName = strconv.Itoa(n + 1)
				return err
			})
			assert.NoError(t, err)
			got, err := db.MCPServerByTokenHash(ctx, s.TokenHash)
			if assert.NoError(t, err) {
				assert.Equal(t, s.ID, got.ID)
			}
			_, err = db.UpdateMCPServer(ctx, s.ID, func(x *tokens.MCPServer) error { x.Name = "renamed"; return nil })
			assert.NoError(t, err)
			assert.NoError(t, db.AppendAudit(ctx, &tokens.AuditEntry{Action: "tool_call", MCPServerID: s.ID}))
			_, _, err = db.Accounts(ctx, "", 10)
			assert.NoError(t, err)
		})
	}
	wg.Wait()

	got, err := db.Account(ctx, shared.ID)
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(workers), got.OrgName, "no lost update")

	accounts, _, err := db.Accounts(ctx, "", 100)
	require.NoError(t, err)
	assert.Len(t, accounts, workers+1)
	servers := 0
	require.NoError(t, db.ForEachMCPServer(ctx, func(s *tokens.MCPServer) error {
		servers++
		assert.Equal(t, "renamed", s.Name)
		return nil
	}))
	assert.Equal(t, workers, servers)
	entries, _, err := db.Audit(ctx, "", 100)
	require.NoError(t, err)
	assert.Len(t, entries, workers)
}

func testConnectLinks(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := newTestClock()
	db := open(t, clock.Now)

	l := &tokens.ConnectLink{ID: NewID(t), Name: "customer", Datacenter: "eu", TokenHash: HashOf("link"), ExpiresAt: clock.Now().Add(time.Hour)}
	require.NoError(t, db.CreateConnectLink(ctx, l))
	assert.Equal(t, clock.Now(), l.CreatedAt)
	assert.ErrorIs(t, db.CreateConnectLink(ctx, &tokens.ConnectLink{ID: NewID(t), TokenHash: l.TokenHash}), tokens.ErrConflict)
	assert.ErrorIs(t, db.CreateConnectLink(ctx, &tokens.ConnectLink{ID: l.ID, TokenHash: HashOf("x")}), tokens.ErrConflict)

	got, err := db.ConnectLinkByHash(ctx, l.TokenHash)
	require.NoError(t, err)
	assert.Equal(t, l, got)
	_, err = db.ConnectLinkByHash(ctx, HashOf("nope"))
	assert.ErrorIs(t, err, tokens.ErrNotFound)

	// Using the link with an account ID that exists fails and leaves the
	// link unused (one transaction).
	existing := Account(t, "existing")
	require.NoError(t, db.CreateAccount(ctx, existing))
	assert.ErrorIs(t, db.UseConnectLink(ctx, l.ID, &tokens.Account{ID: existing.ID}), tokens.ErrConflict)
	got, err = db.ConnectLink(ctx, l.ID)
	require.NoError(t, err)
	assert.Nil(t, got.UsedAt)

	clock.Advance(time.Minute)
	a := Account(t, "connected")
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

	second := Account(t, "second")
	err = db.UseConnectLink(ctx, l.ID, second)
	assert.ErrorIs(t, err, tokens.ErrConflict, "single use")
	_, err = db.Account(ctx, second.ID)
	assert.ErrorIs(t, err, tokens.ErrNotFound, "no account created by a used link")

	assert.ErrorIs(t, db.UseConnectLink(ctx, "missing", Account(t, "x")), tokens.ErrNotFound)
	_, err = db.ConnectLink(ctx, "missing")
	assert.ErrorIs(t, err, tokens.ErrNotFound)
}

func testCreateMCPServersIsAllOrNothing(t *testing.T, open Factory) {
	db := open(t, nil)
	ctx := context.Background()
	acct := &tokens.Account{ID: NewID(t), Name: "a", Datacenter: "us", RefreshToken: "r"}
	require.NoError(t, db.CreateAccount(ctx, acct))
	mk := func(id string, h byte) *tokens.MCPServer {
		return &tokens.MCPServer{ID: id, AccountID: acct.ID, Name: id, TokenHash: [32]byte{h}}
	}
	require.NoError(t, db.CreateMCPServers(ctx, []*tokens.MCPServer{mk("s1", 1), mk("s2", 2)}))
	got, err := db.MCPServerByTokenHash(ctx, [32]byte{2})
	require.NoError(t, err)
	assert.Equal(t, "s2", got.ID)

	err = db.CreateMCPServers(ctx, []*tokens.MCPServer{mk("s3", 3), mk("s4", 1)})
	assert.ErrorIs(t, err, tokens.ErrConflict, "a reused token hash refuses the whole batch")
	_, err = db.MCPServer(ctx, "s3")
	assert.ErrorIs(t, err, tokens.ErrNotFound, "nothing of a refused batch is stored")
}

func testDeleteAccountCascades(t *testing.T, open Factory) {
	ctx := context.Background()
	db := open(t, nil)
	doomed, kept := Account(t, "doomed"), Account(t, "kept")
	require.NoError(t, db.CreateAccount(ctx, doomed))
	require.NoError(t, db.CreateAccount(ctx, kept))
	var doomedSrv []*tokens.MCPServer
	for range 3 {
		s := Server(t, doomed.ID, "d")
		require.NoError(t, db.CreateMCPServer(ctx, s))
		doomedSrv = append(doomedSrv, s)
	}
	keptSrv := Server(t, kept.ID, "k")
	require.NoError(t, db.CreateMCPServer(ctx, keptSrv))

	deleted, err := db.DeleteAccount(ctx, doomed.ID)
	require.NoError(t, err)
	require.Len(t, deleted, 3)
	for i, s := range doomedSrv {
		assert.Equal(t, s.ID, deleted[i].ID)
		_, err := db.MCPServerByTokenHash(ctx, s.TokenHash)
		assert.ErrorIs(t, err, tokens.ErrNotFound)
		_, err = db.MCPServer(ctx, s.ID)
		assert.ErrorIs(t, err, tokens.ErrNotFound)
	}
	got, err := db.MCPServerByTokenHash(ctx, keptSrv.TokenHash)
	require.NoError(t, err)
	assert.Equal(t, keptSrv.ID, got.ID)

	var all []string
	require.NoError(t, db.ForEachMCPServer(ctx, func(s *tokens.MCPServer) error { all = append(all, s.ID); return nil }))
	assert.Equal(t, []string{keptSrv.ID}, all, "nothing of the deleted account's servers is left")
	left, _, err := db.MCPServers(ctx, doomed.ID, "", 10)
	require.NoError(t, err)
	assert.Empty(t, left)
}

func testDeleteExpiredMCPServers(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := newTestClock()
	db := open(t, clock.Now)
	acct := Account(t, "a")
	require.NoError(t, db.CreateAccount(ctx, acct))
	now := clock.Now()

	mk := func(exp *time.Time) *tokens.MCPServer {
		s := Server(t, acct.ID, "s")
		s.ExpiresAt = exp
		require.NoError(t, db.CreateMCPServer(ctx, s))
		return s
	}
	past := mk(ptr(now.Add(-time.Hour)))
	exact := mk(ptr(now))
	future := mk(ptr(now.Add(time.Second)))
	never := mk(nil)
	// Every server is named: expiry is re-checked, whatever the caller
	// thinks, and an unknown ID is skipped.
	all := []string{past.ID, exact.ID, future.ID, never.ID, "no-such-server"}

	deleted, err := db.DeleteMCPServersIfExpired(ctx, all, now)
	require.NoError(t, err)
	var ids []string
	for _, s := range deleted {
		ids = append(ids, s.ID)
	}
	assert.ElementsMatch(t, []string{past.ID, exact.ID}, ids)
	for _, s := range []*tokens.MCPServer{past, exact} {
		_, err := db.MCPServerByTokenHash(ctx, s.TokenHash)
		assert.ErrorIs(t, err, tokens.ErrNotFound)
	}
	for _, s := range []*tokens.MCPServer{future, never} {
		_, err := db.MCPServerByTokenHash(ctx, s.TokenHash)
		assert.NoError(t, err)
	}

	entries, _, err := db.Audit(ctx, "", 10)
	require.NoError(t, err)
	require.Len(t, entries, 2)
	for _, e := range entries {
		assert.Equal(t, "mcp_server.expire", e.Action)
		assert.Equal(t, "system", e.Actor)
		assert.Equal(t, acct.ID, e.AccountID)
		assert.Contains(t, ids, e.MCPServerID)
	}

	deleted, err = db.DeleteMCPServersIfExpired(ctx, all, now)
	require.NoError(t, err)
	assert.Empty(t, deleted, "a second sweep finds nothing")

	deleted, err = db.DeleteMCPServersIfExpired(ctx, all, now.Add(time.Second))
	require.NoError(t, err)
	require.Len(t, deleted, 1)
	assert.Equal(t, future.ID, deleted[0].ID)

	deleted, err = db.DeleteMCPServersIfExpired(ctx, nil, now.Add(time.Hour))
	require.NoError(t, err)
	assert.Empty(t, deleted, "no candidates, nothing to do")
}

func testMCPServersPagingPerAccount(t *testing.T, open Factory) {
	ctx := context.Background()
	db := open(t, nil)
	// tokens.Account IDs where one is a prefix of the other must not bleed.
	a := &tokens.Account{ID: "acct"}
	b := &tokens.Account{ID: "acct2"}
	require.NoError(t, db.CreateAccount(ctx, a))
	require.NoError(t, db.CreateAccount(ctx, b))
	var ids []string
	for range 5 {
		s := Server(t, a.ID, "a")
		require.NoError(t, db.CreateMCPServer(ctx, s))
		ids = append(ids, s.ID)
		require.NoError(t, db.CreateMCPServer(ctx, Server(t, b.ID, "b")))
	}
	tests := []struct {
		name    string
		account string
		after   string
		limit   int
		want    []string
		more    bool
	}{
		{"first page", a.ID, "", 2, ids[:2], true},
		{"next page", a.ID, ids[1], 2, ids[2:4], true},
		{"last page", a.ID, ids[3], 2, ids[4:], false},
		{"all", a.ID, "", 100, ids, false},
		{"unknown account", "nope", "", 10, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := db.MCPServers(ctx, tt.account, tt.after, tt.limit)
			require.NoError(t, err)
			var gotIDs []string
			for _, s := range got {
				gotIDs = append(gotIDs, s.ID)
				assert.Equal(t, tt.account, s.AccountID)
			}
			assert.Equal(t, tt.want, gotIDs)
			assert.Equal(t, tt.more, more)
		})
	}
}

func testForEachMCPServer(t *testing.T, open Factory) {
	ctx := context.Background()
	db := open(t, nil)
	acct := Account(t, "a")
	require.NoError(t, db.CreateAccount(ctx, acct))
	const n = 2507 // more than one read chunk of any sensible size
	batch := make([]*tokens.MCPServer, n)
	for i := range batch {
		batch[i] = Server(t, acct.ID, "s")
	}
	require.NoError(t, db.CreateMCPServers(ctx, batch))

	var seen []string
	require.NoError(t, db.ForEachMCPServer(ctx, func(s *tokens.MCPServer) error {
		seen = append(seen, s.ID)
		_, err := db.MCPServer(ctx, s.ID) // fn may call the DB
		return err
	}))
	assert.Len(t, seen, n)
	assert.IsIncreasing(t, seen)

	stop := errors.New("stop")
	calls := 0
	err := db.ForEachMCPServer(ctx, func(*tokens.MCPServer) error { calls++; return stop })
	assert.Same(t, stop, err)
	assert.Equal(t, 1, calls)
}

func testMCPServerCRUD(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := newTestClock()
	db := open(t, clock.Now)
	acct := Account(t, "acme")
	require.NoError(t, db.CreateAccount(ctx, acct))

	s := Server(t, acct.ID, "read only")
	s.ExpiresAt = ptr(clock.Now().Add(time.Hour))
	require.NoError(t, db.CreateMCPServer(ctx, s))
	assert.Equal(t, clock.Now(), s.CreatedAt)

	t.Run("create errors", func(t *testing.T) {
		tests := []struct {
			name string
			srv  *tokens.MCPServer
			is   error
			msg  string
		}{
			{"unknown account", Server(t, "missing", "x"), tokens.ErrNotFound, "account \"missing\""},
			{"token hash taken", &tokens.MCPServer{ID: NewID(t), AccountID: acct.ID, TokenHash: s.TokenHash}, tokens.ErrConflict, "token hash already in use"},
			{"ID taken", &tokens.MCPServer{ID: s.ID, AccountID: acct.ID, TokenHash: HashOf("other")}, tokens.ErrConflict, "already exists"},
			{"no ID", &tokens.MCPServer{AccountID: acct.ID, TokenHash: HashOf("x")}, nil, "ID is empty"},
			{"no hash", &tokens.MCPServer{ID: NewID(t), AccountID: acct.ID}, nil, "no token hash"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := db.CreateMCPServer(ctx, tt.srv)
				if tt.is != nil {
					assert.ErrorIs(t, err, tt.is)
				}
				assert.ErrorContains(t, err, tt.msg)
			})
		}
	})

	t.Run("read", func(t *testing.T) {
		byID, err := db.MCPServer(ctx, s.ID)
		require.NoError(t, err)
		assert.Equal(t, s, byID)
		byHash, err := db.MCPServerByTokenHash(ctx, s.TokenHash)
		require.NoError(t, err)
		assert.Equal(t, s, byHash)
		byHash.Config.Methods[0] = "mutated"
		again, err := db.MCPServerByTokenHash(ctx, s.TokenHash)
		require.NoError(t, err)
		assert.Equal(t, "read", again.Config.Methods[0], "returned records are copies")

		_, err = db.MCPServer(ctx, "missing")
		assert.ErrorIs(t, err, tokens.ErrNotFound)
		_, err = db.MCPServerByTokenHash(ctx, HashOf("unknown"))
		assert.ErrorIs(t, err, tokens.ErrNotFound)
	})

	t.Run("update", func(t *testing.T) {
		clock.Advance(time.Minute)
		errBad := errors.New("config leaves no tool")
		_, err := db.UpdateMCPServer(ctx, s.ID, func(x *tokens.MCPServer) error { x.Name = "bad"; return errBad })
		assert.Same(t, errBad, err)

		got, err := db.UpdateMCPServer(ctx, s.ID, func(x *tokens.MCPServer) error {
			x.Name = "writer"
			x.Config = tokens.Config{Methods: []string{"write"}, RequireAPITokenAuth: true, MaxResultChars: 12345}
			x.ExpiresAt = nil
			x.ID, x.AccountID, x.TokenHash, x.CreatedAt = "hijack", "other", HashOf("hijack"), time.Time{}
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, s.ID, got.ID)
		assert.Equal(t, acct.ID, got.AccountID)
		assert.Equal(t, s.TokenHash, got.TokenHash)
		assert.Equal(t, s.CreatedAt, got.CreatedAt)
		assert.Equal(t, clock.Now(), got.UpdatedAt)
		assert.Equal(t, "writer", got.Name)
		assert.Equal(t, tokens.Config{Methods: []string{"write"}, RequireAPITokenAuth: true, MaxResultChars: 12345}, got.Config, "every config field is kept")
		assert.Nil(t, got.ExpiresAt, "expiry removed")

		byHash, err := db.MCPServerByTokenHash(ctx, s.TokenHash)
		require.NoError(t, err)
		assert.Equal(t, got, byHash)
		_, err = db.MCPServerByTokenHash(ctx, HashOf("hijack"))
		assert.ErrorIs(t, err, tokens.ErrNotFound)

		_, err = db.UpdateMCPServer(ctx, "missing", func(*tokens.MCPServer) error { return nil })
		assert.ErrorIs(t, err, tokens.ErrNotFound)
	})

	t.Run("delete", func(t *testing.T) {
		got, err := db.DeleteMCPServer(ctx, s.ID)
		require.NoError(t, err)
		assert.Equal(t, s.ID, got.ID)
		_, err = db.MCPServerByTokenHash(ctx, s.TokenHash)
		assert.ErrorIs(t, err, tokens.ErrNotFound)
		list, _, err := db.MCPServers(ctx, acct.ID, "", 10)
		require.NoError(t, err)
		assert.Empty(t, list)
		_, err = db.DeleteMCPServer(ctx, s.ID)
		assert.ErrorIs(t, err, tokens.ErrNotFound)
	})
}

func testCanceledContext(t *testing.T, open Factory) {
	db := open(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a := Account(t, "x")
	assert.ErrorIs(t, db.CreateAccount(ctx, a), context.Canceled)
	_, err := db.Account(ctx, a.ID)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, db.AppendAudit(ctx, &tokens.AuditEntry{Action: "x"}), context.Canceled)
	_, _, err = db.Accounts(ctx, "", 10)
	assert.ErrorIs(t, err, context.Canceled)
}

func testLimitMustBePositive(t *testing.T, open Factory) {
	db := open(t, nil)
	ctx := context.Background()
	_, _, err := db.Accounts(ctx, "", 0)
	assert.ErrorContains(t, err, "limit 0 must be at least 1")
	_, _, err = db.MCPServers(ctx, "a", "", -1)
	assert.Error(t, err)
	_, _, err = db.APITokens(ctx, "", 0)
	assert.Error(t, err)
	_, _, err = db.Audit(ctx, "", 0)
	assert.Error(t, err)
}
