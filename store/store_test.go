package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/bigin-mcp/bigin-mcp/tokens/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bigin-mcp.db")
	key := testKey(t)

	tests := []struct {
		name  string
		setup func(t *testing.T) (string, Options)
		is    error
		msg   string
	}{
		{
			name: "short key",
			setup: func(t *testing.T) (string, Options) {
				return filepath.Join(t.TempDir(), "x.db"), Options{Key: key[:16]}
			},
			msg: "secret key is 16 bytes; it must be exactly 32",
		},
		{
			name:  "no key",
			setup: func(t *testing.T) (string, Options) { return filepath.Join(t.TempDir(), "x.db"), Options{} },
			msg:   "secret key is 0 bytes",
		},
		{
			name: "wrong key",
			setup: func(t *testing.T) (string, Options) {
				p := filepath.Join(t.TempDir(), "x.db")
				db, err := Open(p, Options{Key: key})
				require.NoError(t, err)
				require.NoError(t, db.Close())
				return p, Options{Key: testKey(t)}
			},
			is:  ErrWrongKey,
			msg: "secret key does not match",
		},
		{
			name: "locked by another handle",
			setup: func(t *testing.T) (string, Options) {
				db, err := Open(path, Options{Key: key})
				require.NoError(t, err)
				t.Cleanup(func() { _ = db.Close() })
				return path, Options{Key: key, LockTimeout: 100 * time.Millisecond}
			},
			is:  ErrLocked,
			msg: "database is locked by another process",
		},
		{
			name: "newer schema",
			setup: func(t *testing.T) (string, Options) {
				p := filepath.Join(t.TempDir(), "x.db")
				db, err := Open(p, Options{Key: key})
				require.NoError(t, err)
				require.NoError(t, db.bolt.Update(func(tx *bolt.Tx) error {
					return tx.Bucket(bucketMeta).Put(metaSchemaVersion, []byte("2"))
				}))
				require.NoError(t, db.Close())
				return p, Options{Key: key}
			},
			msg: "schema version 2 is newer than this bigin-mcp supports (1)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, opts := tt.setup(t)
			start := time.Now()
			db, err := Open(p, opts)
			require.Error(t, err)
			assert.Nil(t, db)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			assert.Contains(t, err.Error(), tt.msg)
			assert.Less(t, time.Since(start), 3*time.Second, "Open must not hang")
		})
	}
}

func TestOpenFileModeAndMeta(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "bigin-mcp.db")
	key := testKey(t)
	db, err := Open(path, Options{Key: key})
	require.NoError(t, err)
	assert.Equal(t, path, db.Path())
	require.NoError(t, db.Ping())
	require.NoError(t, db.bolt.View(func(tx *bolt.Tx) error {
		assert.Equal(t, "1", string(tx.Bucket(bucketMeta).Get(metaSchemaVersion)))
		assert.NotEmpty(t, tx.Bucket(bucketMeta).Get(metaKeyCheck))
		for _, b := range allBuckets {
			assert.NotNil(t, tx.Bucket(b), "bucket %s", b)
		}
		return nil
	}))
	require.NoError(t, db.Close())
	assert.Error(t, db.Ping(), "Ping after Close")

	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	// A looser existing file is tightened on open.
	require.NoError(t, os.Chmod(path, 0o644))
	db, err = Open(path, Options{Key: key})
	require.NoError(t, err)
	require.NoError(t, db.Close())
	fi, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

// TestSecretsSealedOnDisk stores distinctive secrets, rewrites them, and
// scans the raw file: no secret may appear, while a plain field does (so the
// scan is meaningful). Reopening with the same key gives the secrets back.
func TestSecretsSealedOnDisk(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bigin-mcp.db")
	key := testKey(t)
	db, err := Open(path, Options{Key: key})
	require.NoError(t, err)

	var secrets []string
	a := storetest.Account(t, storetest.RandomSecret(t, "plain-name-"))
	secrets = append(secrets, a.ClientSecret, a.RefreshToken, a.AccessToken)
	require.NoError(t, db.CreateAccount(ctx, a))
	var last *tokens.Account
	for range 3 { // old values land in freed pages; they must be sealed too
		at, rt := storetest.RandomSecret(t, "at-"), storetest.RandomSecret(t, "rt-")
		secrets = append(secrets, at, rt)
		last, err = db.UpdateAccount(ctx, a.ID, func(a *tokens.Account) error {
			a.AccessToken, a.RefreshToken = at, rt
			return nil
		})
		require.NoError(t, err)
	}
	require.NoError(t, db.Close())

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.Contains(raw, []byte(a.Name)), "plain field should be visible, else the scan proves nothing")
	for _, s := range secrets {
		assert.False(t, bytes.Contains(raw, []byte(s)), "secret %q found in the database file", s[:3])
		assert.False(t, bytes.Contains(raw, []byte(base64.StdEncoding.EncodeToString([]byte(s)))), "base64 of secret found")
	}

	db, err = Open(path, Options{Key: key})
	require.NoError(t, err)
	defer db.Close()
	got, err := db.Account(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, last, got)
	assert.Equal(t, a.ClientSecret, got.ClientSecret)
	assert.Equal(t, a.ClientID, got.ClientID)
	assert.True(t, a.AccessExpiry.Equal(got.AccessExpiry))
}

// TestSealedValueBoundToRecord swaps a sealed value between two accounts on
// disk: it must fail to open rather than hand one account's token to the
// other.
func TestSealedValueBoundToRecord(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, Options{})
	a, b := storetest.Account(t, "a"), storetest.Account(t, "b")
	require.NoError(t, db.CreateAccount(ctx, a))
	require.NoError(t, db.CreateAccount(ctx, b))

	require.NoError(t, db.bolt.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketAccounts)
		var da, dbb map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(bk.Get([]byte(a.ID)), &da))
		require.NoError(t, json.Unmarshal(bk.Get([]byte(b.ID)), &dbb))
		dbb["refresh_token_sealed"] = da["refresh_token_sealed"]
		return putJSON(bk, []byte(b.ID), dbb)
	}))
	_, err := db.Account(ctx, b.ID)
	assert.ErrorContains(t, err, "refresh_token")
	_, err = db.Account(ctx, a.ID)
	assert.NoError(t, err)
}

// putJSON marshals v under key in bucket b.
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	buf, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, buf)
}

// Crash test: a child process writes, then exits without closing the
// database (no graceful step of any kind). The parent reopens the file and
// checks that every acknowledged change is there and every delete stuck.

const crashEnvPath, crashEnvKey = "BIGIN_STORE_CRASH_PATH", "BIGIN_STORE_CRASH_KEY"

var crashIDs = struct {
	kept, gone, deletedSrv, expiredSrv, cascadeAcct, cascadeSrv, token string
}{
	kept: "0190a000-0000-7000-8000-000000000001", gone: "0190a000-0000-7000-8000-000000000002",
	deletedSrv: "0190a000-0000-7000-8000-000000000003", expiredSrv: "0190a000-0000-7000-8000-000000000004",
	cascadeAcct: "0190a000-0000-7000-8000-000000000005", cascadeSrv: "0190a000-0000-7000-8000-000000000006",
	token: "0190a000-0000-7000-8000-000000000007",
}

var crashExpiry = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// TestMain runs the crash child instead of the tests when
// TestCrashKeepsAcknowledgedWrites started this binary as that child (Go's
// helper-process pattern, dispatched here so that no test has to skip
// itself in normal runs).
func TestMain(m *testing.M) {
	if os.Getenv(crashEnvPath) != "" {
		testing.Main(func(string, string) (bool, error) { return true, nil },
			[]testing.InternalTest{{Name: "CrashHelperProcess", F: crashHelperProcess}}, nil, nil)
		return // not reached: the child exits without closing the store
	}
	os.Exit(m.Run())
}

// crashHelperProcess makes acknowledged writes, then exits as if killed.
func crashHelperProcess(t *testing.T) {
	path := os.Getenv(crashEnvPath)
	key, err := base64.StdEncoding.DecodeString(os.Getenv(crashEnvKey))
	require.NoError(t, err)
	db, err := Open(path, Options{Key: key})
	require.NoError(t, err)
	ctx := context.Background()
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	mk := func(id string) *tokens.Account {
		return &tokens.Account{ID: id, Name: "acct " + id, RefreshToken: "rt-" + id, ClientSecret: "cs-" + id}
	}
	srv := func(id, acct string, exp *time.Time) *tokens.MCPServer {
		return &tokens.MCPServer{ID: id, AccountID: acct, Name: "srv " + id, TokenHash: storetest.HashOf(id), ExpiresAt: exp,
			Config: tokens.Config{Methods: []string{"read"}, Tags: []string{"users"}, RequireAPITokenAuth: true}}
	}
	must(db.CreateAccount(ctx, mk(crashIDs.kept)))
	must(db.CreateAccount(ctx, mk(crashIDs.cascadeAcct)))
	must(db.CreateMCPServer(ctx, srv(crashIDs.gone, crashIDs.kept, ptr(crashExpiry))))
	must(db.CreateMCPServer(ctx, srv(crashIDs.deletedSrv, crashIDs.kept, nil)))
	must(db.CreateMCPServer(ctx, srv(crashIDs.expiredSrv, crashIDs.kept, ptr(time.Now().Add(-time.Second)))))
	must(db.CreateMCPServer(ctx, srv(crashIDs.cascadeSrv, crashIDs.cascadeAcct, nil)))
	must(db.CreateAPIToken(ctx, &tokens.APIToken{ID: crashIDs.token, Name: "admin", TokenHash: storetest.HashOf("api")}))
	_, err = db.UpdateMCPServer(ctx, crashIDs.gone, func(s *tokens.MCPServer) error { s.Name = "renamed"; return nil })
	must(err)
	_, err = db.UpdateAccount(ctx, crashIDs.kept, func(a *tokens.Account) error { a.AccessToken = "at-new"; return nil })
	must(err)
	_, err = db.DeleteMCPServer(ctx, crashIDs.deletedSrv)
	must(err)
	_, err = db.DeleteMCPServersIfExpired(ctx, []string{crashIDs.gone, crashIDs.expiredSrv}, time.Now())
	must(err)
	_, err = db.DeleteAccount(ctx, crashIDs.cascadeAcct)
	must(err)
	must(db.AppendAudit(ctx, &tokens.AuditEntry{Action: "tool_call", Outcome: "ok"}))
	os.Exit(3) // no Close, no defers: as if the process were killed
}

func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bigin-mcp.db")
	key := testKey(t)
	cmd := exec.Command(os.Args[0], "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnvPath+"="+path, crashEnvKey+"="+base64.StdEncoding.EncodeToString(key))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "child: %v\n%s", err, out)
	require.Equal(t, 3, exit.ExitCode(), "child output:\n%s", out)

	db, err := Open(path, Options{Key: key})
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()

	a, err := db.Account(ctx, crashIDs.kept)
	require.NoError(t, err)
	assert.Equal(t, "rt-"+crashIDs.kept, a.RefreshToken)
	assert.Equal(t, "cs-"+crashIDs.kept, a.ClientSecret)
	assert.Equal(t, "at-new", a.AccessToken)

	s, err := db.MCPServerByTokenHash(ctx, storetest.HashOf(crashIDs.gone))
	require.NoError(t, err)
	assert.Equal(t, "renamed", s.Name)
	assert.Equal(t, tokens.Config{Methods: []string{"read"}, Tags: []string{"users"}, RequireAPITokenAuth: true}, s.Config)
	require.NotNil(t, s.ExpiresAt)
	assert.True(t, crashExpiry.Equal(*s.ExpiresAt))

	for _, id := range []string{crashIDs.deletedSrv, crashIDs.expiredSrv, crashIDs.cascadeSrv} {
		_, err := db.MCPServer(ctx, id)
		assert.ErrorIs(t, err, tokens.ErrNotFound, id)
		_, err = db.MCPServerByTokenHash(ctx, storetest.HashOf(id))
		assert.ErrorIs(t, err, tokens.ErrNotFound, id)
	}
	_, err = db.Account(ctx, crashIDs.cascadeAcct)
	assert.ErrorIs(t, err, tokens.ErrNotFound)

	n, err := db.CountAPITokens(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	entries, _, err := db.Audit(ctx, "", 10)
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Equal(t, "tool_call", entries[0].Action)
	assert.Equal(t, "mcp_server.expire", entries[1].Action)
}

// TestOpenWithTheWrongKeyWritesNothing: the refusal leaves the file as it
// was, its bytes, its time and its mode.
func TestOpenWithTheWrongKeyWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), DBFileName)
	db, err := Open(path, Options{Key: testKey(t)})
	require.NoError(t, err)
	require.NoError(t, db.Close())
	require.NoError(t, os.Chmod(path, 0o644))
	past := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, os.Chtimes(path, past, past))
	want, err := os.ReadFile(path)
	require.NoError(t, err)

	_, err = Open(path, Options{Key: testKey(t)})
	require.ErrorIs(t, err, ErrWrongKey)

	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(want, got), "the file's bytes are unchanged")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, past, fi.ModTime().UTC(), "and its modification time")
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm(), "and its mode")
}
