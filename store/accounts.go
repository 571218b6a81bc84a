package store

import (
	"context"
	"fmt"

	"github.com/bigin-mcp/bigin-mcp/tokens"
	bolt "go.etcd.io/bbolt"
)

// encodeAccount seals a's secrets and marshals it.
func (db *DB) encodeAccount(a *tokens.Account) ([]byte, error) { return db.sealer.EncodeAccount(a) }

// decodeAccount unmarshals and unseals an account stored under id.
func (db *DB) decodeAccount(id string, buf []byte) (*tokens.Account, error) {
	return db.sealer.DecodeAccount(id, buf)
}

// getAccount reads one account inside tx.
func (db *DB) getAccount(tx *bolt.Tx, id string) (*tokens.Account, error) {
	buf := tx.Bucket(bucketAccounts).Get([]byte(id))
	if buf == nil {
		return nil, notFound("account", id)
	}
	return db.decodeAccount(id, buf)
}

// putNewAccount stores a new account inside tx, filling its timestamps and
// default status on a (the caller's copy).
func (db *DB) putNewAccount(tx *bolt.Tx, a *tokens.Account) error {
	if err := checkID("account", a.ID); err != nil {
		return err
	}
	b := tx.Bucket(bucketAccounts)
	if b.Get([]byte(a.ID)) != nil {
		return fmt.Errorf("account %q already exists: %w", a.ID, tokens.ErrConflict)
	}
	now := db.nowUTC()
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now
	}
	a.UpdatedAt = now
	if a.Status == "" {
		a.Status = tokens.StatusActive
	}
	buf, err := db.encodeAccount(a)
	if err != nil {
		return err
	}
	return b.Put([]byte(a.ID), buf)
}

// CreateAccount stores a new account; a.ID must be set and unique
// (tokens.ErrConflict otherwise). It sets a.CreatedAt (when zero) and a.UpdatedAt
// from the clock, and a.Status to tokens.StatusActive when empty. ClientSecret,
// RefreshToken and AccessToken are sealed before they are written.
func (db *DB) CreateAccount(ctx context.Context, a *tokens.Account) error {
	c := *a
	err := db.update(ctx, func(tx *bolt.Tx) error { return db.putNewAccount(tx, &c) })
	if err != nil {
		return err
	}
	a.CreatedAt, a.UpdatedAt, a.Status = c.CreatedAt, c.UpdatedAt, c.Status
	return nil
}

// Account returns one account with its secrets unsealed (tokens.ErrNotFound if it
// does not exist).
func (db *DB) Account(ctx context.Context, id string) (*tokens.Account, error) {
	var a *tokens.Account
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		a, err = db.getAccount(tx, id)
		return err
	})
	return a, err
}

// Accounts lists accounts in ID order (creation order when IDs are uuid v7)
// after the ID `after` (exclusive; "" = from the start), at most limit of
// them, and reports whether more follow. Secrets are unsealed.
func (db *DB) Accounts(ctx context.Context, after string, limit int) ([]*tokens.Account, bool, error) {
	if err := checkLimit(limit); err != nil {
		return nil, false, err
	}
	var out []*tokens.Account
	var more bool
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		more, err = pageForward(tx.Bucket(bucketAccounts), after, limit, func(k, v []byte) error {
			a, err := db.decodeAccount(string(k), v)
			if err == nil {
				out = append(out, a)
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

// UpdateAccount applies fn to a copy of the account inside one write
// transaction and stores the result. ID and CreatedAt cannot change;
// UpdatedAt is set from the clock. fn's error aborts the change and is
// returned as is. fn must not call the DB.
func (db *DB) UpdateAccount(ctx context.Context, id string, fn func(*tokens.Account) error) (*tokens.Account, error) {
	var out *tokens.Account
	err := db.update(ctx, func(tx *bolt.Tx) error {
		old, err := db.getAccount(tx, id)
		if err != nil {
			return err
		}
		a := *old
		if err := fn(&a); err != nil {
			return err
		}
		a.ID, a.CreatedAt = old.ID, old.CreatedAt
		a.UpdatedAt = db.nowUTC()
		buf, err := db.encodeAccount(&a)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketAccounts).Put([]byte(id), buf); err != nil {
			return err
		}
		c := a
		out = &c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteAccount deletes the account and all its MCP servers (with their
// token-hash index entries) in one transaction and returns the servers it
// deleted. Audit entries are kept.
func (db *DB) DeleteAccount(ctx context.Context, id string) ([]*tokens.MCPServer, error) {
	var deleted []*tokens.MCPServer
	err := db.update(ctx, func(tx *bolt.Tx) error {
		deleted = nil
		accounts := tx.Bucket(bucketAccounts)
		if accounts.Get([]byte(id)) == nil {
			return notFound("account", id)
		}
		prefix := accountPrefix(id)
		var ids []string
		c := tx.Bucket(bucketServersByAcct).Cursor()
		for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
			ids = append(ids, string(k[len(prefix):]))
		}
		for _, sid := range ids {
			s, err := db.deleteServer(tx, sid)
			if err != nil {
				return err
			}
			deleted = append(deleted, s)
		}
		return accounts.Delete([]byte(id))
	})
	if err != nil {
		return nil, err
	}
	return deleted, nil
}
