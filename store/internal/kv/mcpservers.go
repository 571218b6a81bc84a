package kv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// getServer reads one MCP server.
func getServer(tx Tx, id string) (*tokens.MCPServer, error) {
	return getRecord(tx, Servers, "mcp server", id, record.DecodeServer)
}

// putServer stores m (its indexes are the caller's).
func putServer(tx Tx, m *tokens.MCPServer) error {
	buf, err := record.EncodeServer(m)
	if err != nil {
		return err
	}
	return tx.Put(Servers, m.ID, buf)
}

// putNewServer stores a new server with its two index entries: its
// account must exist, its ID and token hash must be unused.
func (s *Store) putNewServer(tx Tx, m *tokens.MCPServer) error {
	if err := record.CheckID("mcp server", m.ID); err != nil {
		return err
	}
	if m.TokenHash == ([32]byte{}) {
		return fmt.Errorf("store: mcp server %q has no token hash", m.ID)
	}
	// Read, not Has: the account must still exist when this commits.
	if buf, err := tx.Get(Accounts, m.AccountID); err != nil {
		return err
	} else if buf == nil {
		return record.NotFound("account", m.AccountID)
	}
	if ok, err := tx.Has(Servers, m.ID); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("mcp server %q already exists: %w", m.ID, tokens.ErrConflict)
	}
	if ok, err := tx.Has(ServerHashes, hashKey(m.TokenHash)); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("mcp server token hash already in use: %w", tokens.ErrConflict)
	}
	now := s.nowUTC()
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	m.UpdatedAt = now
	if err := putServer(tx, m); err != nil {
		return err
	}
	if err := tx.Put(ServerHashes, hashKey(m.TokenHash), []byte(m.ID)); err != nil {
		return err
	}
	return tx.Put(ServersByAccount, childPrefix(m.AccountID)+m.ID, nil)
}

// deleteServer removes one server with its index entries and returns it.
func deleteServer(tx Tx, id string) (*tokens.MCPServer, error) {
	m, err := getServer(tx, id)
	if err != nil {
		return nil, err
	}
	for _, d := range []struct {
		t   Table
		key string
	}{
		{Servers, id},
		{ServerHashes, hashKey(m.TokenHash)},
		{ServersByAccount, childPrefix(m.AccountID) + id},
	} {
		if err := tx.Delete(d.t, d.key); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// CreateMCPServer stores a new MCP server (see tokens.MCPServerStore).
func (s *Store) CreateMCPServer(ctx context.Context, m *tokens.MCPServer) error {
	var c *tokens.MCPServer
	err := s.update(ctx, func(tx Tx) error { c = record.CloneServer(m); return s.putNewServer(tx, c) })
	if err != nil {
		return err
	}
	m.CreatedAt, m.UpdatedAt = c.CreatedAt, c.UpdatedAt
	return nil
}

// CreateMCPServers stores many new servers in one transaction, all or
// none, with CreateMCPServer's rules. Each writes three keys.
func (s *Store) CreateMCPServers(ctx context.Context, servers []*tokens.MCPServer) error {
	var cs []*tokens.MCPServer
	err := s.update(ctx, func(tx Tx) error {
		cs = make([]*tokens.MCPServer, len(servers))
		for i, m := range servers {
			cs[i] = record.CloneServer(m)
			if err := s.putNewServer(tx, cs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, m := range servers {
		m.CreatedAt, m.UpdatedAt = cs[i].CreatedAt, cs[i].UpdatedAt
	}
	return nil
}

// MCPServer returns one server by ID, expired or not.
func (s *Store) MCPServer(ctx context.Context, id string) (*tokens.MCPServer, error) {
	return viewOne(ctx, s, func(tx Tx) (*tokens.MCPServer, error) { return getServer(tx, id) })
}

// MCPServerByTokenHash returns the server whose token hashes to h,
// expired or not.
func (s *Store) MCPServerByTokenHash(ctx context.Context, h [32]byte) (*tokens.MCPServer, error) {
	return viewOne(ctx, s, func(tx Tx) (*tokens.MCPServer, error) {
		return byHash(tx, ServerHashes, "mcp server", h, getServer)
	})
}

// MCPServers lists one account's servers in ID order after `after`; an
// unknown account has none.
func (s *Store) MCPServers(ctx context.Context, accountID, after string, limit int) ([]*tokens.MCPServer, bool, error) {
	return children(ctx, s, ServersByAccount, accountID, after, limit, getServer)
}

// ForEachMCPServer calls fn for every server in ID order, stopping at
// fn's first error. Servers are read in chunks, each in its own read
// transaction, and fn runs outside any (it may call the Store), so the
// walk is not one snapshot.
func (s *Store) ForEachMCPServer(ctx context.Context, fn func(*tokens.MCPServer) error) error {
	after := ""
	for {
		chunk, more, err := records(ctx, s, Servers, after, forEachChunk, record.DecodeServer)
		if err != nil {
			return err
		}
		for _, m := range chunk {
			if err := fn(m); err != nil {
				return err
			}
		}
		if !more || len(chunk) == 0 {
			return nil
		}
		after = chunk[len(chunk)-1].ID
	}
}

// UpdateMCPServer applies fn to a copy of the server in one transaction
// and stores the result: ID, AccountID, TokenHash and CreatedAt cannot
// change, UpdatedAt is set.
func (s *Store) UpdateMCPServer(ctx context.Context, id string, fn func(*tokens.MCPServer) error) (*tokens.MCPServer, error) {
	var out *tokens.MCPServer
	err := s.update(ctx, func(tx Tx) error {
		old, err := getServer(tx, id)
		if err != nil {
			return err
		}
		m := record.CloneServer(old)
		if err := fn(m); err != nil {
			return err
		}
		m.ID, m.AccountID, m.TokenHash, m.CreatedAt = old.ID, old.AccountID, old.TokenHash, old.CreatedAt
		m.UpdatedAt = s.nowUTC()
		if err := putServer(tx, m); err != nil {
			return err
		}
		out = record.CloneServer(m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteMCPServer deletes one server with its index entries and returns
// it.
func (s *Store) DeleteMCPServer(ctx context.Context, id string) (*tokens.MCPServer, error) {
	var m *tokens.MCPServer
	err := s.update(ctx, func(tx Tx) error {
		var err error
		m, err = deleteServer(tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// DeleteMCPServersIfExpired deletes those of ids whose ExpiresAt is at or
// before now, with an "mcp_server.expire" audit entry (actor "system")
// each, in one transaction, and returns them. Expiry is checked inside
// the transaction: a server deleted or given a later expiry meanwhile is
// skipped, so overlapping sweepers delete each server once.
func (s *Store) DeleteMCPServersIfExpired(ctx context.Context, ids []string, now time.Time) ([]*tokens.MCPServer, error) {
	if len(ids) == 0 {
		return nil, ctx.Err()
	}
	trim := s.trimDue(len(ids))
	var deleted []*tokens.MCPServer
	err := s.update(ctx, func(tx Tx) error {
		deleted = nil
		at := s.nowUTC()
		for _, id := range ids {
			m, err := getServer(tx, id)
			if errors.Is(err, tokens.ErrNotFound) {
				continue // deleted meanwhile
			} else if err != nil {
				return err
			}
			if m.ExpiresAt == nil || m.ExpiresAt.After(now) {
				continue // extended meanwhile
			}
			if _, err := deleteServer(tx, id); err != nil {
				return err
			}
			e := &tokens.AuditEntry{
				Time: at, Actor: "system", Action: "mcp_server.expire",
				AccountID: m.AccountID, MCPServerID: m.ID, Outcome: "ok",
			}
			if err := putNewAudit(tx, e); err != nil {
				return err
			}
			deleted = append(deleted, m)
		}
		if trim && len(deleted) > 0 {
			return s.trimAudit(tx)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return deleted, nil
}
