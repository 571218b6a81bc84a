package store

import (
	"crypto/rand"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/clock/clocktest"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

func newTestClock() *clocktest.Fake {
	return clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

// testKey returns a fresh random 32-byte key.
func testKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}

// openTest opens a new database in a temp dir, closed at cleanup.
func openTest(t testing.TB, opts Options) *DB {
	t.Helper()
	if opts.Key == nil {
		opts.Key = testKey(t)
	}
	db, err := Open(filepath.Join(t.TempDir(), "bigin-mcp.db"), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func ptr[T any](v T) *T { return &v }

// putJSON marshals v under key in bucket b.
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	buf, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, buf)
}
