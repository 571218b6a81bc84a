package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// testCache holds CacheStore to its promises: values come back byte for
// byte (binary, empty, large), a put replaces, a delete removes and is
// idempotent, a miss is ErrNotFound, and records are copies.
func testCache(t *testing.T, open Factory) {
	ctx := context.Background()
	db := open(t, nil)

	big := make([]byte, 64<<10)
	_, err := rand.Read(big)
	require.NoError(t, err)
	values := []struct {
		name, key string
		value     []byte
	}{
		{"ACME account key", "acme_account+key", []byte("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE…\n-----END EC PRIVATE KEY-----\n")},
		{"certificate of a domain", "mcp.example.com", []byte("-----BEGIN CERTIFICATE-----\n…")},
		{"binary bytes", "bin\xff\x01", []byte{0, 1, 2, 0xff, 0}},
		{"empty value", "empty", []byte{}},
		{"64 KiB", "big", big},
		{"longest key", strings.Repeat("k", tokens.MaxCacheKey), []byte("v")},
	}
	for _, v := range values {
		t.Run(v.name, func(t *testing.T) {
			_, err := db.CacheGet(ctx, v.key)
			require.ErrorIs(t, err, tokens.ErrNotFound, "a missing key is ErrNotFound")
			require.NoError(t, db.CachePut(ctx, v.key, v.value))
			got, err := db.CacheGet(ctx, v.key)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(v.value, got), "the value comes back byte for byte")
		})
	}

	t.Run("put replaces", func(t *testing.T) {
		require.NoError(t, db.CachePut(ctx, "k", []byte("one")))
		require.NoError(t, db.CachePut(ctx, "k", []byte("two")))
		got, err := db.CacheGet(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, "two", string(got))
	})
	t.Run("keys are independent", func(t *testing.T) {
		require.NoError(t, db.CachePut(ctx, "a", []byte("A")))
		require.NoError(t, db.CachePut(ctx, "a+rsa", []byte("B")))
		got, err := db.CacheGet(ctx, "a")
		require.NoError(t, err)
		assert.Equal(t, "A", string(got))
	})
	t.Run("copies", func(t *testing.T) {
		in := []byte("original")
		require.NoError(t, db.CachePut(ctx, "copy", in))
		copy(in, "MUTATED!")
		got, err := db.CacheGet(ctx, "copy")
		require.NoError(t, err)
		assert.Equal(t, "original", string(got), "the store keeps no reference to what it was given")
		copy(got, "MUTATED!")
		again, err := db.CacheGet(ctx, "copy")
		require.NoError(t, err)
		assert.Equal(t, "original", string(again), "what it returns is the caller's")
	})
	t.Run("delete", func(t *testing.T) {
		require.NoError(t, db.CachePut(ctx, "gone", []byte("x")))
		require.NoError(t, db.CacheDelete(ctx, "gone"))
		_, err := db.CacheGet(ctx, "gone")
		assert.ErrorIs(t, err, tokens.ErrNotFound)
		assert.NoError(t, db.CacheDelete(ctx, "gone"), "deleting a missing key is not an error")
		assert.NoError(t, db.CacheDelete(ctx, "never-there"))
	})
	t.Run("refused keys and values", func(t *testing.T) {
		for name, key := range map[string]string{"empty": "", "too long": strings.Repeat("k", tokens.MaxCacheKey+1), "NUL": "a\x00b"} {
			assert.Error(t, db.CachePut(ctx, key, []byte("v")), name)
			_, err := db.CacheGet(ctx, key)
			assert.Error(t, err, name)
			assert.NotErrorIs(t, err, tokens.ErrNotFound, name)
			assert.Error(t, db.CacheDelete(ctx, key), name)
		}
		err := db.CachePut(ctx, "huge", make([]byte, tokens.MaxCacheValue+1))
		assert.Error(t, err)
		_, err = db.CacheGet(ctx, "huge")
		assert.ErrorIs(t, err, tokens.ErrNotFound, "a refused put stores nothing")
	})
	t.Run("canceled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		assert.ErrorIs(t, db.CachePut(cctx, "c", []byte("v")), context.Canceled)
		_, err := db.CacheGet(cctx, "k")
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, db.CacheDelete(cctx, "k"), context.Canceled)
	})
	t.Run("concurrent puts of one key leave one whole value", func(t *testing.T) {
		var wg sync.WaitGroup
		vals := [][]byte{bytes.Repeat([]byte("a"), 4096), bytes.Repeat([]byte("b"), 4096)}
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				assert.NoError(t, db.CachePut(ctx, "race", vals[i%2]))
			}()
		}
		wg.Wait()
		got, err := db.CacheGet(ctx, "race")
		require.NoError(t, err)
		assert.True(t, bytes.Equal(got, vals[0]) || bytes.Equal(got, vals[1]), "no mix of two writes")
	})
}
