package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

func TestMCPServerCRUD(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	db := openTest(t, Options{Now: clock.Now})
	acct := testAccount(t, "acme")
	require.NoError(t, db.CreateAccount(ctx, acct))

	s := testServer(t, acct.ID, "read only")
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
			{"unknown account", testServer(t, "missing", "x"), tokens.ErrNotFound, "account \"missing\""},
			{"token hash taken", &tokens.MCPServer{ID: newID(t), AccountID: acct.ID, TokenHash: s.TokenHash}, tokens.ErrConflict, "token hash already in use"},
			{"ID taken", &tokens.MCPServer{ID: s.ID, AccountID: acct.ID, TokenHash: hashOf("other")}, tokens.ErrConflict, "already exists"},
			{"no ID", &tokens.MCPServer{AccountID: acct.ID, TokenHash: hashOf("x")}, nil, "ID is empty"},
			{"no hash", &tokens.MCPServer{ID: newID(t), AccountID: acct.ID}, nil, "no token hash"},
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
		_, err = db.MCPServerByTokenHash(ctx, hashOf("unknown"))
		assert.ErrorIs(t, err, tokens.ErrNotFound)
	})

	t.Run("update", func(t *testing.T) {
		clock.Advance(time.Minute)
		errBad := errors.New("config leaves no tool")
		_, err := db.UpdateMCPServer(ctx, s.ID, func(x *tokens.MCPServer) error { x.Name = "bad"; return errBad })
		assert.Same(t, errBad, err)

		got, err := db.UpdateMCPServer(ctx, s.ID, func(x *tokens.MCPServer) error {
			x.Name = "writer"
			x.Config = tokens.Config{Methods: []string{"write"}, RequireAPITokenAuth: true}
			x.ExpiresAt = nil
			x.ID, x.AccountID, x.TokenHash, x.CreatedAt = "hijack", "other", hashOf("hijack"), time.Time{}
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, s.ID, got.ID)
		assert.Equal(t, acct.ID, got.AccountID)
		assert.Equal(t, s.TokenHash, got.TokenHash)
		assert.Equal(t, s.CreatedAt, got.CreatedAt)
		assert.Equal(t, clock.Now(), got.UpdatedAt)
		assert.Equal(t, "writer", got.Name)
		assert.Nil(t, got.ExpiresAt, "expiry removed")

		byHash, err := db.MCPServerByTokenHash(ctx, s.TokenHash)
		require.NoError(t, err)
		assert.Equal(t, got, byHash)
		_, err = db.MCPServerByTokenHash(ctx, hashOf("hijack"))
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

func TestMCPServersPagingPerAccount(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, Options{})
	// tokens.Account IDs where one is a prefix of the other must not bleed.
	a := &tokens.Account{ID: "acct"}
	b := &tokens.Account{ID: "acct2"}
	require.NoError(t, db.CreateAccount(ctx, a))
	require.NoError(t, db.CreateAccount(ctx, b))
	var ids []string
	for range 5 {
		s := testServer(t, a.ID, "a")
		require.NoError(t, db.CreateMCPServer(ctx, s))
		ids = append(ids, s.ID)
		require.NoError(t, db.CreateMCPServer(ctx, testServer(t, b.ID, "b")))
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

func TestForEachMCPServer(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, Options{})
	acct := testAccount(t, "a")
	require.NoError(t, db.CreateAccount(ctx, acct))
	const n = 2*forEachChunk + 7
	require.NoError(t, db.bolt.Update(func(tx *bolt.Tx) error {
		for range n {
			if err := db.putNewServer(tx, testServer(t, acct.ID, "s")); err != nil {
				return err
			}
		}
		return nil
	}))

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

func TestDeleteAccountCascades(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, Options{})
	doomed, kept := testAccount(t, "doomed"), testAccount(t, "kept")
	require.NoError(t, db.CreateAccount(ctx, doomed))
	require.NoError(t, db.CreateAccount(ctx, kept))
	var doomedSrv []*tokens.MCPServer
	for range 3 {
		s := testServer(t, doomed.ID, "d")
		require.NoError(t, db.CreateMCPServer(ctx, s))
		doomedSrv = append(doomedSrv, s)
	}
	keptSrv := testServer(t, kept.ID, "k")
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

	require.NoError(t, db.bolt.View(func(tx *bolt.Tx) error {
		assert.Equal(t, 1, tx.Bucket(bucketServers).Stats().KeyN)
		assert.Equal(t, 1, tx.Bucket(bucketServerIndex).Stats().KeyN)
		assert.Equal(t, 1, tx.Bucket(bucketServersByAcct).Stats().KeyN)
		return nil
	}))
}

func TestDeleteExpiredMCPServers(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	db := openTest(t, Options{Now: clock.Now})
	acct := testAccount(t, "a")
	require.NoError(t, db.CreateAccount(ctx, acct))
	now := clock.Now()

	mk := func(exp *time.Time) *tokens.MCPServer {
		s := testServer(t, acct.ID, "s")
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

func TestCreateMCPServersIsAllOrNothing(t *testing.T) {
	db := openTest(t, Options{})
	ctx := context.Background()
	acct := &tokens.Account{ID: newID(t), Name: "a", Datacenter: "us", RefreshToken: "r"}
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
