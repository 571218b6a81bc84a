package store

import (
	"context"
	"fmt"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
	"github.com/bigin-mcp/bigin-mcp/tokens"
	bolt "go.etcd.io/bbolt"
)

// decodeAPIToken unmarshals an API token stored under id.
var decodeAPIToken = record.DecodeAPIToken

// CreateAPIToken stores a new API token: tokens.ErrConflict on a reused ID or hash.
// It sets t.CreatedAt from the clock when zero.
func (db *DB) CreateAPIToken(ctx context.Context, t *tokens.APIToken) error {
	if err := checkID("api token", t.ID); err != nil {
		return err
	}
	if t.TokenHash == ([32]byte{}) {
		return fmt.Errorf("store: api token %q has no token hash", t.ID)
	}
	c := *t
	err := db.update(ctx, func(tx *bolt.Tx) error {
		toks, index := tx.Bucket(bucketAPITokens), tx.Bucket(bucketAPITokenIndex)
		if toks.Get([]byte(c.ID)) != nil {
			return fmt.Errorf("api token %q already exists: %w", c.ID, tokens.ErrConflict)
		}
		if index.Get(c.TokenHash[:]) != nil {
			return fmt.Errorf("api token hash already in use: %w", tokens.ErrConflict)
		}
		if c.CreatedAt.IsZero() {
			c.CreatedAt = db.nowUTC()
		}
		buf, err := record.EncodeAPIToken(&c)
		if err != nil {
			return err
		}
		if err := toks.Put([]byte(c.ID), buf); err != nil {
			return err
		}
		return index.Put(c.TokenHash[:], []byte(c.ID))
	})
	if err != nil {
		return err
	}
	t.CreatedAt = c.CreatedAt
	return nil
}

// APITokens lists API tokens in ID order (creation order when IDs are uuid
// v7), paged like Accounts.
func (db *DB) APITokens(ctx context.Context, after string, limit int) ([]*tokens.APIToken, bool, error) {
	if err := checkLimit(limit); err != nil {
		return nil, false, err
	}
	var out []*tokens.APIToken
	var more bool
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		more, err = pageForward(tx.Bucket(bucketAPITokens), after, limit, func(k, v []byte) error {
			t, err := decodeAPIToken(string(k), v)
			if err == nil {
				out = append(out, t)
			}
			return err
		})
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return out, more, nil
}

// APITokenByHash returns the API token whose value hashes to h (tokens.ErrNotFound
// if none). The lookup is by exact key in the hash index; the hash is of a
// 256-bit random value, so it leaks nothing usable through timing.
func (db *DB) APITokenByHash(ctx context.Context, h [32]byte) (*tokens.APIToken, error) {
	var t *tokens.APIToken
	err := db.view(ctx, func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketAPITokenIndex).Get(h[:])
		if id == nil {
			return notFound("api token", "")
		}
		buf := tx.Bucket(bucketAPITokens).Get(id)
		if buf == nil {
			return notFound("api token", string(id))
		}
		var err error
		t, err = decodeAPIToken(string(id), buf)
		return err
	})
	return t, err
}

// CountAPITokens returns how many API tokens exist.
func (db *DB) CountAPITokens(ctx context.Context) (int, error) {
	n := 0
	err := db.view(ctx, func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketAPITokens).Stats().KeyN
		return nil
	})
	return n, err
}

// DeleteAPIToken deletes one API token and its hash index entry
// (tokens.ErrNotFound if it does not exist); deleting the last one is tokens.ErrConflict,
// so the admin API can never lock itself out.
func (db *DB) DeleteAPIToken(ctx context.Context, id string) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		toks := tx.Bucket(bucketAPITokens)
		buf := toks.Get([]byte(id))
		if buf == nil {
			return notFound("api token", id)
		}
		t, err := decodeAPIToken(id, buf)
		if err != nil {
			return err
		}
		c := toks.Cursor()
		if k, _ := c.First(); k != nil {
			if k, _ = c.Next(); k == nil {
				return fmt.Errorf("api token %q is the last one; create another before deleting it: %w", id, tokens.ErrConflict)
			}
		}
		if err := tx.Bucket(bucketAPITokenIndex).Delete(t.TokenHash[:]); err != nil {
			return err
		}
		return toks.Delete([]byte(id))
	})
}
