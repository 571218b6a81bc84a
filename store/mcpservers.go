package store

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// forEachChunk is how many servers ForEachMCPServer reads per transaction.
const forEachChunk = 512

// The shared record form of a server.
var (
	cloneServer  = record.CloneServer
	encodeServer = record.EncodeServer
	decodeServer = record.DecodeServer
)

// accountPrefix is the mcp_by_account key prefix of one account.
func accountPrefix(accountID string) []byte {
	return append([]byte(accountID), 0)
}

// byAccountKey is the mcp_by_account key of one server.
func byAccountKey(accountID, serverID string) []byte {
	return append(accountPrefix(accountID), serverID...)
}

// hasPrefix reports whether k starts with p.
func hasPrefix(k, p []byte) bool { return bytes.HasPrefix(k, p) }

// getServer reads one MCP server inside tx.
func getServer(tx *bolt.Tx, id string) (*tokens.MCPServer, error) {
	buf := tx.Bucket(bucketServers).Get([]byte(id))
	if buf == nil {
		return nil, notFound("mcp server", id)
	}
	return decodeServer(id, buf)
}

// putNewServer stores a new server and its index entries inside tx.
func (db *DB) putNewServer(tx *bolt.Tx, s *tokens.MCPServer) error {
	if err := checkID("mcp server", s.ID); err != nil {
		return err
	}
	if s.TokenHash == ([32]byte{}) {
		return fmt.Errorf("store: mcp server %q has no token hash", s.ID)
	}
	if tx.Bucket(bucketAccounts).Get([]byte(s.AccountID)) == nil {
		return notFound("account", s.AccountID)
	}
	servers, index := tx.Bucket(bucketServers), tx.Bucket(bucketServerIndex)
	if servers.Get([]byte(s.ID)) != nil {
		return fmt.Errorf("mcp server %q already exists: %w", s.ID, tokens.ErrConflict)
	}
	if index.Get(s.TokenHash[:]) != nil {
		return fmt.Errorf("mcp server token hash already in use: %w", tokens.ErrConflict)
	}
	now := db.nowUTC()
	if s.CreatedAt.IsZero() {
		s.CreatedAt = now
	}
	s.UpdatedAt = now
	buf, err := encodeServer(s)
	if err != nil {
		return err
	}
	if err := servers.Put([]byte(s.ID), buf); err != nil {
		return err
	}
	if err := index.Put(s.TokenHash[:], []byte(s.ID)); err != nil {
		return err
	}
	return tx.Bucket(bucketServersByAcct).Put(byAccountKey(s.AccountID, s.ID), nil)
}

// deleteServer removes one server and its index entries inside tx.
func (db *DB) deleteServer(tx *bolt.Tx, id string) (*tokens.MCPServer, error) {
	s, err := getServer(tx, id)
	if err != nil {
		return nil, err
	}
	if err := tx.Bucket(bucketServers).Delete([]byte(id)); err != nil {
		return nil, err
	}
	if err := tx.Bucket(bucketServerIndex).Delete(s.TokenHash[:]); err != nil {
		return nil, err
	}
	if err := tx.Bucket(bucketServersByAcct).Delete(byAccountKey(s.AccountID, id)); err != nil {
		return nil, err
	}
	return s, nil
}

// CreateMCPServer stores a new MCP server; its account must exist
// (tokens.ErrNotFound), and its ID and TokenHash must be unused (tokens.ErrConflict). It
// sets s.CreatedAt (when zero) and s.UpdatedAt from the clock.
func (db *DB) CreateMCPServer(ctx context.Context, s *tokens.MCPServer) error {
	c := cloneServer(s)
	if err := db.update(ctx, func(tx *bolt.Tx) error { return db.putNewServer(tx, c) }); err != nil {
		return err
	}
	s.CreatedAt, s.UpdatedAt = c.CreatedAt, c.UpdatedAt
	return nil
}

// CreateMCPServers stores many new MCP servers in one transaction (an
// import, or a load test minting 100,000 URLs): all or none, with the same
// rules as CreateMCPServer.
func (db *DB) CreateMCPServers(ctx context.Context, servers []*tokens.MCPServer) error {
	cs := make([]*tokens.MCPServer, len(servers))
	for i, s := range servers {
		cs[i] = cloneServer(s)
	}
	err := db.update(ctx, func(tx *bolt.Tx) error {
		for _, c := range cs {
			if err := db.putNewServer(tx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, s := range servers {
		s.CreatedAt, s.UpdatedAt = cs[i].CreatedAt, cs[i].UpdatedAt
	}
	return nil
}

// MCPServer returns one MCP server by ID (tokens.ErrNotFound if it does not exist).
// It does not check ExpiresAt: an expired server is returned until the
// sweeper deletes it.
func (db *DB) MCPServer(ctx context.Context, id string) (*tokens.MCPServer, error) {
	var s *tokens.MCPServer
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		s, err = getServer(tx, id)
		return err
	})
	return s, err
}

// MCPServerByTokenHash returns the MCP server whose token hashes to h
// (tokens.ErrNotFound if none). Like MCPServer, it does not check ExpiresAt.
func (db *DB) MCPServerByTokenHash(ctx context.Context, h [32]byte) (*tokens.MCPServer, error) {
	var s *tokens.MCPServer
	err := db.view(ctx, func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketServerIndex).Get(h[:])
		if id == nil {
			return notFound("mcp server", "")
		}
		var err error
		s, err = getServer(tx, string(id))
		return err
	})
	return s, err
}

// MCPServers lists one account's MCP servers in ID order (creation order
// when IDs are uuid v7), paged like Accounts. An account without servers, or
// one that does not exist, gives an empty list.
func (db *DB) MCPServers(ctx context.Context, accountID, after string, limit int) ([]*tokens.MCPServer, bool, error) {
	if err := checkLimit(limit); err != nil {
		return nil, false, err
	}
	prefix := accountPrefix(accountID)
	var out []*tokens.MCPServer
	more := false
	err := db.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketServersByAcct).Cursor()
		var k []byte
		if after == "" {
			k, _ = c.Seek(prefix)
		} else {
			start := byAccountKey(accountID, after)
			if k, _ = c.Seek(start); k != nil && bytes.Equal(k, start) {
				k, _ = c.Next()
			}
		}
		for ; k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
			if len(out) == limit {
				more = true
				return nil
			}
			s, err := getServer(tx, string(k[len(prefix):]))
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, more, nil
}

// ForEachMCPServer calls fn for every MCP server in ID order (to warm a
// cache), stopping at fn's first error, which it returns. Servers are read
// in chunks, each in its own read transaction, and fn runs outside any
// transaction (so it may call the DB); the walk is therefore not one
// snapshot: servers created or deleted meanwhile may or may not be seen.
func (db *DB) ForEachMCPServer(ctx context.Context, fn func(*tokens.MCPServer) error) error {
	after := ""
	for {
		var chunk []*tokens.MCPServer
		var more bool
		err := db.view(ctx, func(tx *bolt.Tx) error {
			var err error
			more, err = pageForward(tx.Bucket(bucketServers), after, forEachChunk, func(k, v []byte) error {
				s, err := decodeServer(string(k), v)
				if err == nil {
					chunk = append(chunk, s)
				}
				return err
			})
			return err
		})
		if err != nil {
			return err
		}
		for _, s := range chunk {
			if err := fn(s); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
		after = chunk[len(chunk)-1].ID
	}
}

// UpdateMCPServer applies fn to a copy of the server inside one write
// transaction and stores the result. ID, AccountID, TokenHash and CreatedAt
// cannot change; UpdatedAt is set from the clock. fn's error aborts the
// change and is returned as is. fn must not call the DB.
func (db *DB) UpdateMCPServer(ctx context.Context, id string, fn func(*tokens.MCPServer) error) (*tokens.MCPServer, error) {
	var out *tokens.MCPServer
	err := db.update(ctx, func(tx *bolt.Tx) error {
		old, err := getServer(tx, id)
		if err != nil {
			return err
		}
		s := cloneServer(old)
		if err := fn(s); err != nil {
			return err
		}
		s.ID, s.AccountID, s.TokenHash, s.CreatedAt = old.ID, old.AccountID, old.TokenHash, old.CreatedAt
		s.UpdatedAt = db.nowUTC()
		buf, err := encodeServer(s)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketServers).Put([]byte(id), buf); err != nil {
			return err
		}
		out = cloneServer(s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteMCPServer deletes one MCP server and its index entries, and returns
// it (tokens.ErrNotFound if it does not exist).
func (db *DB) DeleteMCPServer(ctx context.Context, id string) (*tokens.MCPServer, error) {
	var s *tokens.MCPServer
	err := db.update(ctx, func(tx *bolt.Tx) error {
		var err error
		s, err = db.deleteServer(tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// DeleteMCPServersIfExpired deletes those of the servers ids names whose
// ExpiresAt is at or before now, in one write transaction, records an audit
// entry ("mcp_server.expire", actor "system") for each in the same
// transaction, and returns the deleted servers. Expiry is checked inside the
// transaction: a server deleted or given a later expiry meanwhile is
// skipped.
func (db *DB) DeleteMCPServersIfExpired(ctx context.Context, ids []string, now time.Time) ([]*tokens.MCPServer, error) {
	if len(ids) == 0 {
		return nil, ctx.Err()
	}
	var deleted []*tokens.MCPServer
	err := db.update(ctx, func(tx *bolt.Tx) error {
		deleted = nil
		at := db.nowUTC()
		for _, id := range ids {
			s, err := getServer(tx, id)
			if err != nil {
				continue // deleted meanwhile
			}
			if s.ExpiresAt == nil || s.ExpiresAt.After(now) {
				continue // extended meanwhile
			}
			if _, err := db.deleteServer(tx, id); err != nil {
				return err
			}
			eid, err := uuid.NewV7()
			if err != nil {
				return err
			}
			e := &tokens.AuditEntry{
				ID:          eid.String(),
				Time:        at,
				Actor:       "system",
				Action:      "mcp_server.expire",
				AccountID:   s.AccountID,
				MCPServerID: s.ID,
				Outcome:     "ok",
			}
			if err := db.putAudit(tx, e); err != nil {
				return err
			}
			deleted = append(deleted, s)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return deleted, nil
}
