package tlsconf

import (
	"context"
	"errors"

	"golang.org/x/crypto/acme/autocert"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// cachePrefix keeps autocert's keys apart from other users of the store's
// cache.
const cachePrefix = "acme/"

// StoreCache adapts the store's key/value cache to autocert.Cache, so the
// ACME account key and the certificates live in the store: sealed at rest
// (they hold private keys) and shared by every replica of a shared backend,
// so a restart or a new replica orders nothing.
func StoreCache(s tokens.CacheStore) autocert.Cache { return storeCache{s} }

type storeCache struct{ s tokens.CacheStore }

// Get returns the cached data, or autocert.ErrCacheMiss.
func (c storeCache) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := c.s.CacheGet(ctx, cachePrefix+key)
	if errors.Is(err, tokens.ErrNotFound) {
		return nil, autocert.ErrCacheMiss
	}
	return v, err
}

// Put stores data under key.
func (c storeCache) Put(ctx context.Context, key string, data []byte) error {
	return c.s.CachePut(ctx, cachePrefix+key, data)
}

// Delete removes key.
func (c storeCache) Delete(ctx context.Context, key string) error {
	return c.s.CacheDelete(ctx, cachePrefix+key)
}
