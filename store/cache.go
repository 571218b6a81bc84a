package store

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
)

// The cache's checks and sealing are shared with every backend.
var (
	checkCacheKey = record.CheckCacheKey
	cacheAD       = record.CacheAD
)

// CacheGet returns the value under key, unsealed (tokens.ErrNotFound if
// there is none).
func (db *DB) CacheGet(ctx context.Context, key string) ([]byte, error) {
	if err := checkCacheKey(key); err != nil {
		return nil, err
	}
	var out []byte
	err := db.view(ctx, func(tx *bolt.Tx) error {
		sealed := tx.Bucket(bucketCache).Get([]byte(key))
		if sealed == nil {
			return notFound("cache entry", key)
		}
		v, err := db.sealer.Open(sealed, cacheAD(key))
		if err != nil {
			return fmt.Errorf("cache entry %q: %w", key, err)
		}
		out = v
		return nil
	})
	return out, err
}

// CachePut seals value and stores it under key in one transaction.
func (db *DB) CachePut(ctx context.Context, key string, value []byte) error {
	if err := checkCacheKey(key); err != nil {
		return err
	}
	if err := record.CheckCacheValue(key, value); err != nil {
		return err
	}
	sealed, err := db.sealer.Seal(value, cacheAD(key))
	if err != nil {
		return err
	}
	return db.update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCache).Put([]byte(key), sealed)
	})
}

// CacheDelete removes key; a missing key is not an error.
func (db *DB) CacheDelete(ctx context.Context, key string) error {
	if err := checkCacheKey(key); err != nil {
		return err
	}
	return db.update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCache).Delete([]byte(key))
	})
}

// ForEachCache calls fn with every cached key and its unsealed value, in
// key order (for `bigin-mcp migrate`), stopping at fn's first error. fn
// runs inside a read transaction and must not call the DB.
func (db *DB) ForEachCache(ctx context.Context, fn func(key string, value []byte) error) error {
	return db.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCache).ForEach(func(k, sealed []byte) error {
			v, err := db.sealer.Open(sealed, cacheAD(string(k)))
			if err != nil {
				return fmt.Errorf("cache entry %q: %w", k, err)
			}
			return fn(string(k), v)
		})
	})
}
