package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
	"github.com/bigin-mcp/bigin-mcp/tokens/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// Cached certificates hold private keys: the raw file shows neither the
// value nor its base64, while the key (a domain name) is visible, so the
// scan proves something. The values survive a reopen with the same key.
func TestCacheSealedOnDisk(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bigin-mcp.db")
	key := testKey(t)
	db, err := Open(path, Options{Key: key})
	require.NoError(t, err)
	secret := []byte("-----BEGIN EC PRIVATE KEY-----\n" + storetest.RandomSecret(t, "pk-") + "\n-----END EC PRIVATE KEY-----\n")
	require.NoError(t, db.CachePut(ctx, "mcp.example.com", secret))
	for range 3 { // replaced values land in freed pages; they must be sealed too
		require.NoError(t, db.CachePut(ctx, "mcp.example.com", []byte(storetest.RandomSecret(t, "old-"))))
	}
	require.NoError(t, db.CachePut(ctx, "mcp.example.com", secret))
	require.NoError(t, db.Close())

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.Contains(raw, []byte("mcp.example.com")), "the key should be visible, else the scan proves nothing")
	assert.False(t, bytes.Contains(raw, []byte("pk-")), "the private key is in the file")
	assert.False(t, bytes.Contains(raw, []byte("BEGIN EC PRIVATE KEY")))
	assert.False(t, bytes.Contains(raw, []byte(base64.StdEncoding.EncodeToString(secret)[:40])))

	db, err = Open(path, Options{Key: key})
	require.NoError(t, err)
	defer db.Close()
	got, err := db.CacheGet(ctx, "mcp.example.com")
	require.NoError(t, err)
	assert.Equal(t, secret, got)
}

// A sealed value is bound to its key: copied under another key, it does
// not open.
func TestCacheValueBoundToKey(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, Options{})
	require.NoError(t, db.CachePut(ctx, "a.example.com", []byte("cert A")))
	require.NoError(t, db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCache)
		return b.Put([]byte("b.example.com"), append([]byte(nil), b.Get([]byte("a.example.com"))...))
	}))
	_, err := db.CacheGet(ctx, "b.example.com")
	assert.ErrorIs(t, err, record.ErrUnseal)
}
