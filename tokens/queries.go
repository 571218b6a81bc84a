package tokens

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Account returns one integrated account (not found when there is none).
func (s *Service) Account(ctx context.Context, id string) (*Account, error) {
	a, err := s.db.Account(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, errNoAccount
	}
	if err != nil {
		return nil, fmt.Errorf("load account: %w", err)
	}
	return a, nil
}

// Accounts lists integrated accounts in creation order after the ID
// `after`, and reports whether more follow.
func (s *Service) Accounts(ctx context.Context, after string, limit int) ([]*Account, bool, error) {
	list, more, err := s.db.Accounts(ctx, after, limit)
	if err != nil {
		return nil, false, fmt.Errorf("list accounts: %w", err)
	}
	return list, more, nil
}

// MCPServers lists an account's live MCP servers in creation order after
// the ID `after`. Expired servers the sweeper has not deleted yet are left
// out; last is the ID the next page continues after (it may be an expired
// server's), and more reports whether such a page exists.
func (s *Service) MCPServers(ctx context.Context, accountID, after string, limit int) (list []*MCPServer, last string, more bool, err error) {
	if _, err := s.Account(ctx, accountID); err != nil {
		return nil, "", false, err
	}
	all, more, err := s.db.MCPServers(ctx, accountID, after, limit)
	if err != nil {
		return nil, "", false, fmt.Errorf("list MCP servers: %w", err)
	}
	now := s.now()
	for _, m := range all {
		last = m.ID
		if !expired(m, now) {
			list = append(list, m)
		}
	}
	return list, last, more, nil
}

// APITokens lists API tokens (never their values) in creation order after
// the ID `after`.
func (s *Service) APITokens(ctx context.Context, after string, limit int) ([]*APIToken, bool, error) {
	list, more, err := s.db.APITokens(ctx, after, limit)
	if err != nil {
		return nil, false, fmt.Errorf("list API tokens: %w", err)
	}
	return list, more, nil
}

// Now is the Service's clock.
func (s *Service) Now() time.Time { return s.now() }

// AccountInfo returns what a call on behalf of an integrated account needs
// to know of it (no secrets), from the in-memory index; not found when
// there is no such account.
func (s *Service) AccountInfo(ctx context.Context, id string) (*AccountInfo, error) {
	if info := s.indexedAccount(id); info != nil {
		return info, nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.ensureAccount(ctx, id); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, errNoAccount
		}
		return nil, fmt.Errorf("load account: %w", err)
	}
	if info := s.indexedAccount(id); info != nil {
		return info, nil
	}
	return nil, errNoAccount
}

func (s *Service) indexedAccount(id string) *AccountInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if ae := s.accounts[id]; ae != nil {
		return ae.info
	}
	return nil
}
