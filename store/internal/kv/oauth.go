package kv

import (
	"context"
	"fmt"
	"slices"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// A grant, its hash index (every hash it names, OAuthGrant.Hashes) and
// its per-server index change in one transaction. How many keys that is
// matters to etcd (--max-txn-ops): a grant names at most 3 +
// tokens.MaxUsedRefreshHashes hashes, and DeleteOAuthGrantsOf deletes
// every grant of a server at once.

// --- OAuth clients ---

// CreateOAuthClient stores a new dynamically registered client:
// tokens.ErrConflict on a reused ID. It sets c.CreatedAt when zero.
func (s *Store) CreateOAuthClient(ctx context.Context, c *tokens.OAuthClient) error {
	if err := record.CheckID("OAuth client", c.ID); err != nil {
		return err
	}
	var cp tokens.OAuthClient
	err := s.update(ctx, func(tx Tx) error {
		cp = *c
		cp.RedirectURIs = slices.Clone(c.RedirectURIs)
		if ok, err := tx.Has(OAuthClients, cp.ID); err != nil {
			return err
		} else if ok {
			return fmt.Errorf("OAuth client %q already exists: %w", cp.ID, tokens.ErrConflict)
		}
		if cp.CreatedAt.IsZero() {
			cp.CreatedAt = s.nowUTC()
		}
		enc, err := record.EncodeOAuthClient(&cp)
		if err != nil {
			return err
		}
		return tx.Put(OAuthClients, cp.ID, enc)
	})
	if err != nil {
		return err
	}
	c.CreatedAt = cp.CreatedAt
	return nil
}

// OAuthClient returns one client (tokens.ErrNotFound if none).
func (s *Store) OAuthClient(ctx context.Context, id string) (*tokens.OAuthClient, error) {
	return viewOne(ctx, s, func(tx Tx) (*tokens.OAuthClient, error) {
		return getRecord(tx, OAuthClients, "OAuth client", id, record.DecodeOAuthClient)
	})
}

// DeleteOAuthClient deletes one client (tokens.ErrNotFound if none).
func (s *Store) DeleteOAuthClient(ctx context.Context, id string) error {
	return s.update(ctx, func(tx Tx) error {
		if buf, err := tx.Get(OAuthClients, id); err != nil {
			return err
		} else if buf == nil {
			return record.NotFound("OAuth client", id)
		}
		return tx.Delete(OAuthClients, id)
	})
}

// ForEachOAuthClient calls fn for every registered client in ID order
// (for `bigin-mcp migrate`), stopping at fn's first error, which it
// returns. fn runs inside a read transaction and must not call the store.
func ForEachOAuthClient(ctx context.Context, s *Store, fn func(*tokens.OAuthClient) error) error {
	return s.view(ctx, func(tx Tx) error {
		_, err := tx.Scan(OAuthClients, Range{}, func(k string, v []byte) error {
			c, err := record.DecodeOAuthClient(k, v)
			if err != nil {
				return err
			}
			return fn(c)
		})
		return err
	})
}

// --- OAuth grants ---

func getGrant(tx Tx, id string) (*tokens.OAuthGrant, error) {
	return getRecord(tx, OAuthGrants, "OAuth grant", id, record.DecodeOAuthGrant)
}

func putGrant(tx Tx, g *tokens.OAuthGrant) error {
	buf, err := record.EncodeOAuthGrant(g)
	if err != nil {
		return err
	}
	return tx.Put(OAuthGrants, g.ID, buf)
}

// indexGrant points every hash of g that old (nil for a new grant) did
// not name at g, refusing one another grant names. The hashes old named
// point at g already: the index and the record change together.
func indexGrant(tx Tx, old, g *tokens.OAuthGrant) error {
	var had [][32]byte
	if old != nil {
		had = old.Hashes()
	}
	for _, h := range g.Hashes() {
		if slices.Contains(had, h) {
			continue
		}
		cur, err := tx.Get(GrantHashes, hashKey(h))
		if err != nil {
			return err
		}
		if cur != nil && string(cur) != g.ID {
			return fmt.Errorf("OAuth token hash already in use: %w", tokens.ErrConflict)
		}
		if err := tx.Put(GrantHashes, hashKey(h), []byte(g.ID)); err != nil {
			return err
		}
	}
	return nil
}

// unindexGrant drops the hashes of old that g (nil when the grant goes)
// no longer names.
func unindexGrant(tx Tx, old, g *tokens.OAuthGrant) error {
	var keep [][32]byte
	if g != nil {
		keep = g.Hashes()
	}
	for _, h := range old.Hashes() {
		if slices.Contains(keep, h) {
			continue
		}
		if err := tx.Delete(GrantHashes, hashKey(h)); err != nil {
			return err
		}
	}
	return nil
}

// deleteGrant removes a grant with its indexes.
func deleteGrant(tx Tx, g *tokens.OAuthGrant) error {
	if err := unindexGrant(tx, g, nil); err != nil {
		return err
	}
	if err := tx.Delete(GrantsByServer, childPrefix(g.MCPServerID)+g.ID); err != nil {
		return err
	}
	return tx.Delete(OAuthGrants, g.ID)
}

// CreateOAuthGrant stores a new grant with its hash and server indexes:
// tokens.ErrConflict on a reused ID or a hash another grant names. It
// sets g.CreatedAt (when zero) and g.UpdatedAt.
func (s *Store) CreateOAuthGrant(ctx context.Context, g *tokens.OAuthGrant) error {
	if err := record.CheckID("OAuth grant", g.ID); err != nil {
		return err
	}
	if err := record.CheckID("MCP server", g.MCPServerID); err != nil {
		return err
	}
	var cp *tokens.OAuthGrant
	err := s.update(ctx, func(tx Tx) error {
		cp = record.CloneOAuthGrant(g)
		if ok, err := tx.Has(OAuthGrants, cp.ID); err != nil {
			return err
		} else if ok {
			return fmt.Errorf("OAuth grant %q already exists: %w", cp.ID, tokens.ErrConflict)
		}
		now := s.nowUTC()
		if cp.CreatedAt.IsZero() {
			cp.CreatedAt = now
		}
		cp.UpdatedAt = now
		if err := indexGrant(tx, nil, cp); err != nil {
			return err
		}
		if err := tx.Put(GrantsByServer, childPrefix(cp.MCPServerID)+cp.ID, nil); err != nil {
			return err
		}
		return putGrant(tx, cp)
	})
	if err != nil {
		return err
	}
	g.CreatedAt, g.UpdatedAt = cp.CreatedAt, cp.UpdatedAt
	return nil
}

// OAuthGrant returns one grant by ID.
func (s *Store) OAuthGrant(ctx context.Context, id string) (*tokens.OAuthGrant, error) {
	return viewOne(ctx, s, func(tx Tx) (*tokens.OAuthGrant, error) { return getGrant(tx, id) })
}

// OAuthGrantByHash returns the grant that names h (index and record read
// in one transaction).
func (s *Store) OAuthGrantByHash(ctx context.Context, h [32]byte) (*tokens.OAuthGrant, error) {
	return viewOne(ctx, s, func(tx Tx) (*tokens.OAuthGrant, error) {
		return byHash(tx, GrantHashes, "OAuth grant", h, getGrant)
	})
}

// UpdateOAuthGrant applies fn to a copy of the grant and re-indexes its
// hashes, in one transaction: of two callers racing on one grant, the
// second runs fn on what the first committed.
func (s *Store) UpdateOAuthGrant(ctx context.Context, id string, fn func(*tokens.OAuthGrant) error) (*tokens.OAuthGrant, error) {
	var out *tokens.OAuthGrant
	err := s.update(ctx, func(tx Tx) error {
		old, err := getGrant(tx, id)
		if err != nil {
			return err
		}
		g := record.CloneOAuthGrant(old)
		if err := fn(g); err != nil {
			return err
		}
		g.ID, g.MCPServerID, g.CreatedAt = old.ID, old.MCPServerID, old.CreatedAt
		g.UpdatedAt = s.nowUTC()
		if err := unindexGrant(tx, old, g); err != nil {
			return err
		}
		if err := indexGrant(tx, old, g); err != nil {
			return err
		}
		if err := putGrant(tx, g); err != nil {
			return err
		}
		out = record.CloneOAuthGrant(g)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// OAuthGrants lists one server's grants in ID order after `after`; an
// unknown server has none.
func (s *Store) OAuthGrants(ctx context.Context, serverID, after string, limit int) ([]*tokens.OAuthGrant, bool, error) {
	return children(ctx, s, GrantsByServer, serverID, after, limit, getGrant)
}

// DeleteOAuthGrant deletes one grant with its hashes and returns it.
func (s *Store) DeleteOAuthGrant(ctx context.Context, id string) (*tokens.OAuthGrant, error) {
	var g *tokens.OAuthGrant
	err := s.update(ctx, func(tx Tx) error {
		var err error
		if g, err = getGrant(tx, id); err != nil {
			return err
		}
		return deleteGrant(tx, g)
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// DeleteOAuthGrantsOf deletes every grant of one server in one
// transaction and returns how many there were.
func (s *Store) DeleteOAuthGrantsOf(ctx context.Context, serverID string) (int, error) {
	n := 0
	err := s.update(ctx, func(tx Tx) error {
		n = 0
		ids, err := childIDs(tx, GrantsByServer, serverID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			g, err := getGrant(tx, id)
			if err != nil {
				return err
			}
			if err := deleteGrant(tx, g); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
