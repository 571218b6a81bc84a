package store

import (
	"context"
	"fmt"
	"time"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
	"github.com/bigin-mcp/bigin-mcp/tokens"
	bolt "go.etcd.io/bbolt"
)

// The shared record form of a connect link.
var (
	encodeConnectLink = record.EncodeConnectLink
	decodeConnectLink = record.DecodeConnectLink
)

// getConnectLink reads one connect link inside tx.
func getConnectLink(tx *bolt.Tx, id string) (*tokens.ConnectLink, error) {
	buf := tx.Bucket(bucketLinks).Get([]byte(id))
	if buf == nil {
		return nil, notFound("connect link", id)
	}
	return decodeConnectLink(id, buf)
}

// CreateConnectLink stores a new connect link: tokens.ErrConflict on a reused ID or
// hash. It sets l.CreatedAt from the clock when zero.
func (db *DB) CreateConnectLink(ctx context.Context, l *tokens.ConnectLink) error {
	if err := checkID("connect link", l.ID); err != nil {
		return err
	}
	if l.TokenHash == ([32]byte{}) {
		return fmt.Errorf("store: connect link %q has no token hash", l.ID)
	}
	c := *l
	err := db.update(ctx, func(tx *bolt.Tx) error {
		links, index := tx.Bucket(bucketLinks), tx.Bucket(bucketLinkIndex)
		if links.Get([]byte(c.ID)) != nil {
			return fmt.Errorf("connect link %q already exists: %w", c.ID, tokens.ErrConflict)
		}
		if index.Get(c.TokenHash[:]) != nil {
			return fmt.Errorf("connect link hash already in use: %w", tokens.ErrConflict)
		}
		if c.CreatedAt.IsZero() {
			c.CreatedAt = db.nowUTC()
		}
		buf, err := encodeConnectLink(&c)
		if err != nil {
			return err
		}
		if err := links.Put([]byte(c.ID), buf); err != nil {
			return err
		}
		return index.Put(c.TokenHash[:], []byte(c.ID))
	})
	if err != nil {
		return err
	}
	l.CreatedAt = c.CreatedAt
	return nil
}

// ConnectLink returns one connect link by ID (tokens.ErrNotFound if none).
func (db *DB) ConnectLink(ctx context.Context, id string) (*tokens.ConnectLink, error) {
	var l *tokens.ConnectLink
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		l, err = getConnectLink(tx, id)
		return err
	})
	return l, err
}

// ConnectLinkByHash returns the connect link whose token hashes to h
// (tokens.ErrNotFound if none). Used links are returned too (UsedAt set).
func (db *DB) ConnectLinkByHash(ctx context.Context, h [32]byte) (*tokens.ConnectLink, error) {
	var l *tokens.ConnectLink
	err := db.view(ctx, func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketLinkIndex).Get(h[:])
		if id == nil {
			return notFound("connect link", "")
		}
		var err error
		l, err = getConnectLink(tx, string(id))
		return err
	})
	return l, err
}

// UseConnectLink marks the link used (single use: UsedAt and AccountID set)
// and creates the account a with it, in one transaction: tokens.ErrConflict if it
// was already used or was revoked (or a.ID exists), tokens.ErrNotFound if the link does not exist.
// a is filled in as by CreateAccount. The link's expiry is the caller's to
// check.
func (db *DB) UseConnectLink(ctx context.Context, id string, a *tokens.Account) error {
	c := *a
	err := db.update(ctx, func(tx *bolt.Tx) error {
		l, err := getConnectLink(tx, id)
		if err != nil {
			return err
		}
		if l.UsedAt != nil {
			return fmt.Errorf("connect link %q was already used: %w", id, tokens.ErrConflict)
		}
		if l.RevokedAt != nil {
			return fmt.Errorf("connect link %q was revoked: %w", id, tokens.ErrConflict)
		}
		if err := db.putNewAccount(tx, &c); err != nil {
			return err
		}
		now := db.nowUTC()
		l.UsedAt, l.AccountID = &now, c.ID
		buf, err := encodeConnectLink(l)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketLinks).Put([]byte(id), buf)
	})
	if err != nil {
		return err
	}
	a.CreatedAt, a.UpdatedAt, a.Status = c.CreatedAt, c.UpdatedAt, c.Status
	return nil
}

// UseConnectLinkToReconnect marks the reconnect link used and applies fn to
// the account it names, in one transaction, and returns the stored
// account: tokens.ErrConflict if the link names another account, was used
// or was revoked; tokens.ErrNotFound if the link or the account does not
// exist. fn's error aborts everything and is returned as is.
func (db *DB) UseConnectLinkToReconnect(ctx context.Context, linkID, accountID string, fn func(*tokens.Account) error) (*tokens.Account, error) {
	var out *tokens.Account
	err := db.update(ctx, func(tx *bolt.Tx) error {
		l, err := getConnectLink(tx, linkID)
		if err != nil {
			return err
		}
		if err := checkReconnectLink(l, accountID); err != nil {
			return err
		}
		old, err := db.getAccount(tx, accountID)
		if err != nil {
			return err
		}
		a := *old
		if err := fn(&a); err != nil {
			return err
		}
		now := db.nowUTC()
		a.ID, a.CreatedAt, a.UpdatedAt = old.ID, old.CreatedAt, now
		buf, err := db.encodeAccount(&a)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketAccounts).Put([]byte(accountID), buf); err != nil {
			return err
		}
		l.UsedAt, l.AccountID = &now, accountID
		if buf, err = encodeConnectLink(l); err != nil {
			return err
		}
		if err := tx.Bucket(bucketLinks).Put([]byte(linkID), buf); err != nil {
			return err
		}
		out = &a
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkReconnectLink refuses a link that cannot reconnect accountID now.
func checkReconnectLink(l *tokens.ConnectLink, accountID string) error {
	switch {
	case l.ReconnectAccountID == "" || l.ReconnectAccountID != accountID:
		return fmt.Errorf("connect link %q does not reconnect account %q: %w", l.ID, accountID, tokens.ErrConflict)
	case l.UsedAt != nil:
		return fmt.Errorf("connect link %q was already used: %w", l.ID, tokens.ErrConflict)
	case l.RevokedAt != nil:
		return fmt.Errorf("connect link %q was revoked: %w", l.ID, tokens.ErrConflict)
	}
	return nil
}

// ConnectLinks lists connect links in ID order after `after`, in whatever
// state, and reports whether more follow.
func (db *DB) ConnectLinks(ctx context.Context, after string, limit int) ([]*tokens.ConnectLink, bool, error) {
	if err := checkLimit(limit); err != nil {
		return nil, false, err
	}
	var out []*tokens.ConnectLink
	var more bool
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		more, err = pageForward(tx.Bucket(bucketLinks), after, limit, func(k, v []byte) error {
			l, err := decodeConnectLink(string(k), v)
			if err == nil {
				out = append(out, l)
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

// RevokeConnectLink sets the link's RevokedAt to at in one transaction and
// returns the link: tokens.ErrNotFound if there is none, tokens.ErrConflict
// if it was used. A revoked link is returned unchanged.
func (db *DB) RevokeConnectLink(ctx context.Context, id string, at time.Time) (*tokens.ConnectLink, error) {
	var out *tokens.ConnectLink
	err := db.update(ctx, func(tx *bolt.Tx) error {
		l, err := getConnectLink(tx, id)
		if err != nil {
			return err
		}
		if l.UsedAt != nil {
			return fmt.Errorf("connect link %q was already used: %w", id, tokens.ErrConflict)
		}
		out = l
		if l.RevokedAt != nil {
			return nil
		}
		at = at.UTC()
		l.RevokedAt = &at
		buf, err := encodeConnectLink(l)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketLinks).Put([]byte(id), buf)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
