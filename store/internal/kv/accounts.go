package kv

import (
	"context"
	"fmt"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// getAccount reads one account, its secrets unsealed.
func (s *Store) getAccount(tx Tx, id string) (*tokens.Account, error) {
	return getRecord(tx, Accounts, "account", id, s.sealer.DecodeAccount)
}

// putAccount seals a's secrets and stores it.
func (s *Store) putAccount(tx Tx, a *tokens.Account) error {
	buf, err := s.sealer.EncodeAccount(a)
	if err != nil {
		return err
	}
	return tx.Put(Accounts, a.ID, buf)
}

// putNewAccount stores a new account, filling its timestamps and default
// status on a (the caller's copy).
func (s *Store) putNewAccount(tx Tx, a *tokens.Account) error {
	if err := record.CheckID("account", a.ID); err != nil {
		return err
	}
	if ok, err := tx.Has(Accounts, a.ID); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("account %q already exists: %w", a.ID, tokens.ErrConflict)
	}
	now := s.nowUTC()
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now
	}
	a.UpdatedAt = now
	if a.Status == "" {
		a.Status = tokens.StatusActive
	}
	return s.putAccount(tx, a)
}

// updateAccount applies fn to a copy of the stored account and stores the
// result: ID and CreatedAt cannot change, UpdatedAt is set.
func (s *Store) updateAccount(tx Tx, id string, fn func(*tokens.Account) error) (*tokens.Account, error) {
	old, err := s.getAccount(tx, id)
	if err != nil {
		return nil, err
	}
	a := *old
	if err := fn(&a); err != nil {
		return nil, err
	}
	a.ID, a.CreatedAt = old.ID, old.CreatedAt
	a.UpdatedAt = s.nowUTC()
	if err := s.putAccount(tx, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// CreateAccount stores a new account (see tokens.AccountStore): a.ID must
// be set and unique. It sets a.CreatedAt (when zero), a.UpdatedAt and,
// when empty, a.Status. ClientSecret, RefreshToken and AccessToken are
// sealed before they are written.
func (s *Store) CreateAccount(ctx context.Context, a *tokens.Account) error {
	var c tokens.Account
	err := s.update(ctx, func(tx Tx) error { c = *a; return s.putNewAccount(tx, &c) })
	if err != nil {
		return err
	}
	a.CreatedAt, a.UpdatedAt, a.Status = c.CreatedAt, c.UpdatedAt, c.Status
	return nil
}

// Account returns one account with its secrets unsealed
// (tokens.ErrNotFound if there is none).
func (s *Store) Account(ctx context.Context, id string) (*tokens.Account, error) {
	return viewOne(ctx, s, func(tx Tx) (*tokens.Account, error) { return s.getAccount(tx, id) })
}

// Accounts lists accounts in ID order after `after`, secrets unsealed.
func (s *Store) Accounts(ctx context.Context, after string, limit int) ([]*tokens.Account, bool, error) {
	return records(ctx, s, Accounts, after, limit, s.sealer.DecodeAccount)
}

// UpdateAccount applies fn to a copy of the account in one transaction
// and stores the result (see tokens.AccountStore).
func (s *Store) UpdateAccount(ctx context.Context, id string, fn func(*tokens.Account) error) (*tokens.Account, error) {
	var out *tokens.Account
	err := s.update(ctx, func(tx Tx) error {
		var err error
		out, err = s.updateAccount(tx, id, fn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteAccount deletes the account and all its MCP servers in one
// transaction and returns the servers it deleted. Audit entries stay.
func (s *Store) DeleteAccount(ctx context.Context, id string) ([]*tokens.MCPServer, error) {
	var deleted []*tokens.MCPServer
	err := s.update(ctx, func(tx Tx) error {
		deleted = nil
		if buf, err := tx.Get(Accounts, id); err != nil {
			return err
		} else if buf == nil {
			return record.NotFound("account", id)
		}
		ids, err := childIDs(tx, ServersByAccount, id)
		if err != nil {
			return err
		}
		for _, sid := range ids {
			m, err := deleteServer(tx, sid)
			if err != nil {
				return err
			}
			deleted = append(deleted, m)
		}
		return tx.Delete(Accounts, id)
	})
	if err != nil {
		return nil, err
	}
	return deleted, nil
}
