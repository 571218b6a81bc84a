package etcdstore

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
)

// cacheKey is where the value under a cache key lives. The cache key is
// hashed: ACME keys name domains and challenge tokens, and no key name
// holds a token. The value is sealed with the cache key itself as
// additional data (as in the bbolt file), so a value moved under another
// key does not open.
func (s *Store) cacheKey(key string) string {
	return s.p + "cache/" + fmt.Sprintf("%x", sha256.Sum256([]byte(key)))
}

// CacheGet returns the value under key, unsealed (tokens.ErrNotFound if
// there is none).
func (s *Store) CacheGet(ctx context.Context, key string) ([]byte, error) {
	if err := record.CheckCacheKey(key); err != nil {
		return nil, err
	}
	var out []byte
	err := s.view(ctx, func(t *txn) error {
		sealed, err := t.get(s.cacheKey(key))
		if err != nil {
			return err
		}
		if sealed == nil {
			return record.NotFound("cache entry", key)
		}
		v, err := s.sealer.Open(sealed, record.CacheAD(key))
		if err != nil {
			return fmt.Errorf("cache entry %q: %w", key, err)
		}
		out = slices.Clip(v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CachePut seals value and stores it under key, replacing any previous
// value (one put, so concurrent puts leave one whole value).
func (s *Store) CachePut(ctx context.Context, key string, value []byte) error {
	if err := record.CheckCacheKey(key); err != nil {
		return err
	}
	if err := record.CheckCacheValue(key, value); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	sealed, err := s.sealer.Seal(value, record.CacheAD(key))
	if err != nil {
		return err
	}
	if _, err := s.c.Put(ctx, s.cacheKey(key), string(sealed)); err != nil {
		return wrap(ctx, err)
	}
	return nil
}

// CacheDelete removes key; a missing key is not an error.
func (s *Store) CacheDelete(ctx context.Context, key string) error {
	if err := record.CheckCacheKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := s.c.Delete(ctx, s.cacheKey(key)); err != nil {
		return wrap(ctx, err)
	}
	return nil
}
