package kv

import (
	"context"
	"fmt"
	"time"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

func getLink(tx Tx, id string) (*tokens.ConnectLink, error) {
	return getRecord(tx, Links, "connect link", id, record.DecodeConnectLink)
}

func putLink(tx Tx, l *tokens.ConnectLink) error {
	buf, err := record.EncodeConnectLink(l)
	if err != nil {
		return err
	}
	return tx.Put(Links, l.ID, buf)
}

// usable refuses a link that was used or revoked: a link does one thing
// once, and never after it was withdrawn.
func usable(l *tokens.ConnectLink) error {
	switch {
	case l.UsedAt != nil:
		return fmt.Errorf("connect link %q was already used: %w", l.ID, tokens.ErrConflict)
	case l.RevokedAt != nil:
		return fmt.Errorf("connect link %q was revoked: %w", l.ID, tokens.ErrConflict)
	}
	return nil
}

// CreateConnectLink stores a new connect link: tokens.ErrConflict on a
// reused ID or hash. It sets l.CreatedAt when zero.
func (s *Store) CreateConnectLink(ctx context.Context, l *tokens.ConnectLink) error {
	if err := record.CheckID("connect link", l.ID); err != nil {
		return err
	}
	if l.TokenHash == ([32]byte{}) {
		return fmt.Errorf("store: connect link %q has no token hash", l.ID)
	}
	var c tokens.ConnectLink
	err := s.update(ctx, func(tx Tx) error {
		c = *l
		if c.CreatedAt.IsZero() {
			c.CreatedAt = s.nowUTC()
		}
		enc, err := record.EncodeConnectLink(&c)
		if err != nil {
			return err
		}
		return putNewHashed(tx, Links, LinkHashes, "connect link", c.ID, c.TokenHash, enc)
	})
	if err != nil {
		return err
	}
	l.CreatedAt = c.CreatedAt
	return nil
}

// ConnectLink returns one connect link by ID.
func (s *Store) ConnectLink(ctx context.Context, id string) (*tokens.ConnectLink, error) {
	return viewOne(ctx, s, func(tx Tx) (*tokens.ConnectLink, error) { return getLink(tx, id) })
}

// ConnectLinkByHash returns the connect link whose token hashes to h,
// used or not.
func (s *Store) ConnectLinkByHash(ctx context.Context, h [32]byte) (*tokens.ConnectLink, error) {
	return viewOne(ctx, s, func(tx Tx) (*tokens.ConnectLink, error) {
		return byHash(tx, LinkHashes, "connect link", h, getLink)
	})
}

// UseConnectLink marks the link used and creates the account a with it,
// in one transaction: tokens.ErrConflict if the link was used or revoked
// (or a.ID exists), tokens.ErrNotFound if there is no such link. a is
// filled in as by CreateAccount. The link's expiry is the caller's to
// check.
func (s *Store) UseConnectLink(ctx context.Context, id string, a *tokens.Account) error {
	var c tokens.Account
	err := s.update(ctx, func(tx Tx) error {
		c = *a
		l, err := getLink(tx, id)
		if err != nil {
			return err
		}
		if err := usable(l); err != nil {
			return err
		}
		if err := s.putNewAccount(tx, &c); err != nil {
			return err
		}
		now := s.nowUTC()
		l.UsedAt, l.AccountID = &now, c.ID
		return putLink(tx, l)
	})
	if err != nil {
		return err
	}
	a.CreatedAt, a.UpdatedAt, a.Status = c.CreatedAt, c.UpdatedAt, c.Status
	return nil
}

// UseConnectLinkToReconnect marks the reconnect link used and applies fn
// to the account it names, in one transaction, and returns the stored
// account: tokens.ErrConflict if the link names another account, was
// used or was revoked; tokens.ErrNotFound if the link or the account does
// not exist. fn's error aborts everything and is returned as is; fn may
// run more than once.
func (s *Store) UseConnectLinkToReconnect(ctx context.Context, linkID, accountID string, fn func(*tokens.Account) error) (*tokens.Account, error) {
	var out *tokens.Account
	err := s.update(ctx, func(tx Tx) error {
		l, err := getLink(tx, linkID)
		if err != nil {
			return err
		}
		if l.ReconnectAccountID == "" || l.ReconnectAccountID != accountID {
			return fmt.Errorf("connect link %q does not reconnect account %q: %w", linkID, accountID, tokens.ErrConflict)
		}
		if err := usable(l); err != nil {
			return err
		}
		if out, err = s.updateAccount(tx, accountID, fn); err != nil {
			return err
		}
		used := out.UpdatedAt
		l.UsedAt, l.AccountID = &used, accountID
		return putLink(tx, l)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ConnectLinks lists connect links in ID order after `after`, in
// whatever state.
func (s *Store) ConnectLinks(ctx context.Context, after string, limit int) ([]*tokens.ConnectLink, bool, error) {
	return records(ctx, s, Links, after, limit, record.DecodeConnectLink)
}

// RevokeConnectLink sets the link's RevokedAt in one transaction and
// returns the link: tokens.ErrNotFound if there is none,
// tokens.ErrConflict if it was used (the transactions of using and
// revoking a link exclude each other, so it is never both). A revoked
// link is returned unchanged.
func (s *Store) RevokeConnectLink(ctx context.Context, id string, at time.Time) (*tokens.ConnectLink, error) {
	var out *tokens.ConnectLink
	err := s.update(ctx, func(tx Tx) error {
		l, err := getLink(tx, id)
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
		at := at.UTC()
		l.RevokedAt = &at
		return putLink(tx, l)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
