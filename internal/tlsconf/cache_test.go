package tlsconf

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/acme/autocert"

	"github.com/bigin-mcp/bigin-mcp/store"
)

// openStore opens a real bbolt store in a temporary directory.
func openStore(t *testing.T) *store.DB {
	t.Helper()
	key := make([]byte, store.KeySize)
	for i := range key {
		key[i] = byte(i)
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "bigin-mcp.db"), store.Options{Key: key, NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestStoreCacheIsAnAutocertCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openStore(t)
	c := StoreCache(db)

	_, err := c.Get(ctx, "mcp.example.com")
	require.ErrorIs(t, err, autocert.ErrCacheMiss, "autocert tells a miss by this error alone")
	require.NoError(t, c.Put(ctx, "mcp.example.com", []byte("cert and key")))
	got, err := c.Get(ctx, "mcp.example.com")
	require.NoError(t, err)
	assert.Equal(t, "cert and key", string(got))

	raw, err := db.CacheGet(ctx, "acme/mcp.example.com")
	require.NoError(t, err)
	assert.Equal(t, "cert and key", string(raw), "kept under the acme/ prefix")

	require.NoError(t, c.Delete(ctx, "mcp.example.com"))
	_, err = c.Get(ctx, "mcp.example.com")
	assert.ErrorIs(t, err, autocert.ErrCacheMiss)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.Get(cctx, "x")
	assert.ErrorIs(t, err, context.Canceled, "other errors pass through")
	assert.NotErrorIs(t, err, autocert.ErrCacheMiss)
}
