package kv

import (
	"context"
	"fmt"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// putNewHashed stores a new record that its token's hash finds: the
// record under id in t and id under the hash in index, refusing
// (ErrConflict) an ID or a hash already in use.
func putNewHashed(tx Tx, t, index Table, kind, id string, h [32]byte, enc []byte) error {
	if ok, err := tx.Has(t, id); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%s %q already exists: %w", kind, id, tokens.ErrConflict)
	}
	if ok, err := tx.Has(index, hashKey(h)); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%s hash already in use: %w", kind, tokens.ErrConflict)
	}
	if err := tx.Put(t, id, enc); err != nil {
		return err
	}
	return tx.Put(index, hashKey(h), []byte(id))
}

func getAPIToken(tx Tx, id string) (*tokens.APIToken, error) {
	return getRecord(tx, APITokens, "api token", id, record.DecodeAPIToken)
}

// CreateAPIToken stores a new API token: tokens.ErrConflict on a reused
// ID or hash. It sets t.CreatedAt when zero.
func (s *Store) CreateAPIToken(ctx context.Context, at *tokens.APIToken) error {
	if err := record.CheckID("api token", at.ID); err != nil {
		return err
	}
	if at.TokenHash == ([32]byte{}) {
		return fmt.Errorf("store: api token %q has no token hash", at.ID)
	}
	var c tokens.APIToken
	err := s.update(ctx, func(tx Tx) error {
		c = *at
		if c.CreatedAt.IsZero() {
			c.CreatedAt = s.nowUTC()
		}
		enc, err := record.EncodeAPIToken(&c)
		if err != nil {
			return err
		}
		return putNewHashed(tx, APITokens, APITokenHashes, "api token", c.ID, c.TokenHash, enc)
	})
	if err != nil {
		return err
	}
	at.CreatedAt = c.CreatedAt
	return nil
}

// APITokens lists API tokens in ID order after `after`.
func (s *Store) APITokens(ctx context.Context, after string, limit int) ([]*tokens.APIToken, bool, error) {
	return records(ctx, s, APITokens, after, limit, record.DecodeAPIToken)
}

// APITokenByHash returns the API token whose value hashes to h. The
// lookup is by exact key; the hash is of a 256-bit random value, so it
// leaks nothing usable through timing.
func (s *Store) APITokenByHash(ctx context.Context, h [32]byte) (*tokens.APIToken, error) {
	return viewOne(ctx, s, func(tx Tx) (*tokens.APIToken, error) {
		return byHash(tx, APITokenHashes, "api token", h, getAPIToken)
	})
}

// CountAPITokens returns how many API tokens exist.
func (s *Store) CountAPITokens(ctx context.Context) (int, error) {
	return viewOne(ctx, s, func(tx Tx) (int, error) { return tx.Count(APITokens) })
}

// DeleteAPIToken deletes one API token and its hash; deleting the last
// one is tokens.ErrConflict, so the admin API cannot lock itself out.
// The transaction reads two tokens: two deletes racing for the last two
// conflict, and only one of them commits.
func (s *Store) DeleteAPIToken(ctx context.Context, id string) error {
	return s.update(ctx, func(tx Tx) error {
		at, err := getAPIToken(tx, id)
		if err != nil {
			return err
		}
		n := 0
		if _, err := tx.Scan(APITokens, Range{Limit: 2, KeysOnly: true}, func(string, []byte) error { n++; return nil }); err != nil {
			return err
		}
		if n < 2 {
			return fmt.Errorf("api token %q is the last one; create another before deleting it: %w", id, tokens.ErrConflict)
		}
		if err := tx.Delete(APITokenHashes, hashKey(at.TokenHash)); err != nil {
			return err
		}
		return tx.Delete(APITokens, id)
	})
}
