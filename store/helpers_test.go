package store

import (
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

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
