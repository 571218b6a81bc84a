package kv

import (
	"context"
	"fmt"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
)

// CacheGet returns the value under key, unsealed (tokens.ErrNotFound if
// there is none).
func (s *Store) CacheGet(ctx context.Context, key string) ([]byte, error) {
	if err := record.CheckCacheKey(key); err != nil {
		return nil, err
	}
	return viewOne(ctx, s, func(tx Tx) ([]byte, error) {
		sealed, err := tx.Get(Cache, key)
		if err != nil {
			return nil, err
		}
		if sealed == nil {
			return nil, record.NotFound("cache entry", key)
		}
		return s.openCached(key, sealed)
	})
}

// openCached unseals a cached value: it is bound to its key, so a value
// moved under another key does not open.
func (s *Store) openCached(key string, sealed []byte) ([]byte, error) {
	v, err := s.sealer.Open(sealed, record.CacheAD(key))
	if err != nil {
		return nil, fmt.Errorf("cache entry %q: %w", key, err)
	}
	return v, nil
}

// CachePut seals value and stores it under key, replacing any previous
// value, in one transaction (concurrent puts leave one whole value).
func (s *Store) CachePut(ctx context.Context, key string, value []byte) error {
	if err := record.CheckCacheKey(key); err != nil {
		return err
	}
	if err := record.CheckCacheValue(key, value); err != nil {
		return err
	}
	sealed, err := s.sealer.Seal(value, record.CacheAD(key))
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx) error { return tx.Put(Cache, key, sealed) })
}

// CacheDelete removes key; a missing key is not an error.
func (s *Store) CacheDelete(ctx context.Context, key string) error {
	if err := record.CheckCacheKey(key); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx) error { return tx.Delete(Cache, key) })
}

// ForEachCache calls fn with every cached key and its unsealed value, in
// key order (for `bigin-mcp migrate`), stopping at fn's first error,
// which it returns. fn runs inside a read transaction and must not call
// the store. It needs a backend that keeps cache keys as they are (the
// bbolt file; etcd keeps only their hashes), so it is a function, not a
// method every backend would inherit.
func ForEachCache(ctx context.Context, s *Store, fn func(key string, value []byte) error) error {
	return s.view(ctx, func(tx Tx) error {
		_, err := tx.Scan(Cache, Range{}, func(k string, sealed []byte) error {
			v, err := s.openCached(k, sealed)
			if err != nil {
				return err
			}
			return fn(k, v)
		})
		return err
	})
}
