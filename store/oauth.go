package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/bigin-mcp/bigin-mcp/tokens"
	bolt "go.etcd.io/bbolt"
)

// --- OAuth clients ---

// CreateOAuthClient stores a new dynamically registered client:
// tokens.ErrConflict on a reused ID. It sets c.CreatedAt when zero.
func (db *DB) CreateOAuthClient(ctx context.Context, c *tokens.OAuthClient) error {
	if err := checkID("OAuth client", c.ID); err != nil {
		return err
	}
	cp := *c
	cp.RedirectURIs = slices.Clone(c.RedirectURIs)
	err := db.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOAuthClients)
		if b.Get([]byte(cp.ID)) != nil {
			return fmt.Errorf("OAuth client %q already exists: %w", cp.ID, tokens.ErrConflict)
		}
		if cp.CreatedAt.IsZero() {
			cp.CreatedAt = db.nowUTC()
		}
		return putJSON(b, []byte(cp.ID), &cp)
	})
	if err != nil {
		return err
	}
	c.CreatedAt = cp.CreatedAt
	return nil
}

// OAuthClient returns one client (tokens.ErrNotFound if none).
func (db *DB) OAuthClient(ctx context.Context, id string) (*tokens.OAuthClient, error) {
	var c tokens.OAuthClient
	err := db.view(ctx, func(tx *bolt.Tx) error {
		buf := tx.Bucket(bucketOAuthClients).Get([]byte(id))
		if buf == nil {
			return notFound("OAuth client", id)
		}
		if err := json.Unmarshal(buf, &c); err != nil {
			return fmt.Errorf("decode OAuth client %q: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// DeleteOAuthClient deletes one client (tokens.ErrNotFound if none).
func (db *DB) DeleteOAuthClient(ctx context.Context, id string) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOAuthClients)
		if b.Get([]byte(id)) == nil {
			return notFound("OAuth client", id)
		}
		return b.Delete([]byte(id))
	})
}

// --- OAuth grants ---
//
// oauth_grants: grant id → tokens.OAuthGrant JSON
// oauth_grant_index: token hash → grant id (every hash the grant names)
// oauth_grants_by_server: server id \x00 grant id → nil

func grantServerKey(serverID, grantID string) []byte {
	return []byte(serverID + "\x00" + grantID)
}

func getGrant(tx *bolt.Tx, id string) (*tokens.OAuthGrant, error) {
	buf := tx.Bucket(bucketOAuthGrants).Get([]byte(id))
	if buf == nil {
		return nil, notFound("OAuth grant", id)
	}
	var g tokens.OAuthGrant
	if err := json.Unmarshal(buf, &g); err != nil {
		return nil, fmt.Errorf("decode OAuth grant %q: %w", id, err)
	}
	return &g, nil
}

// indexGrant points every hash of g at g, refusing a hash that another
// grant names.
func indexGrant(tx *bolt.Tx, g *tokens.OAuthGrant) error {
	idx := tx.Bucket(bucketOAuthGrantIndex)
	for _, h := range g.Hashes() {
		if cur := idx.Get(h[:]); cur != nil && string(cur) != g.ID {
			return fmt.Errorf("OAuth token hash already in use: %w", tokens.ErrConflict)
		}
		if err := idx.Put(h[:], []byte(g.ID)); err != nil {
			return err
		}
	}
	return nil
}

// unindexGrant drops the hashes of g that still point at it.
func unindexGrant(tx *bolt.Tx, g *tokens.OAuthGrant) error {
	idx := tx.Bucket(bucketOAuthGrantIndex)
	for _, h := range g.Hashes() {
		if cur := idx.Get(h[:]); cur != nil && string(cur) == g.ID {
			if err := idx.Delete(h[:]); err != nil {
				return err
			}
		}
	}
	return nil
}

// CreateOAuthGrant stores a new grant with its hash and server indexes.
func (db *DB) CreateOAuthGrant(ctx context.Context, g *tokens.OAuthGrant) error {
	if err := checkID("OAuth grant", g.ID); err != nil {
		return err
	}
	if err := checkID("MCP server", g.MCPServerID); err != nil {
		return err
	}
	cp := cloneGrant(g)
	err := db.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOAuthGrants)
		if b.Get([]byte(cp.ID)) != nil {
			return fmt.Errorf("OAuth grant %q already exists: %w", cp.ID, tokens.ErrConflict)
		}
		now := db.nowUTC()
		if cp.CreatedAt.IsZero() {
			cp.CreatedAt = now
		}
		cp.UpdatedAt = now
		if err := indexGrant(tx, cp); err != nil {
			return err
		}
		if err := tx.Bucket(bucketOAuthGrantsByServer).Put(grantServerKey(cp.MCPServerID, cp.ID), nil); err != nil {
			return err
		}
		return putJSON(b, []byte(cp.ID), cp)
	})
	if err != nil {
		return err
	}
	g.CreatedAt, g.UpdatedAt = cp.CreatedAt, cp.UpdatedAt
	return nil
}

// OAuthGrant returns one grant by ID.
func (db *DB) OAuthGrant(ctx context.Context, id string) (*tokens.OAuthGrant, error) {
	var g *tokens.OAuthGrant
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		g, err = getGrant(tx, id)
		return err
	})
	return g, err
}

// OAuthGrantByHash returns the grant that names h.
func (db *DB) OAuthGrantByHash(ctx context.Context, h [32]byte) (*tokens.OAuthGrant, error) {
	var g *tokens.OAuthGrant
	err := db.view(ctx, func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketOAuthGrantIndex).Get(h[:])
		if id == nil {
			return notFound("OAuth grant", "")
		}
		var err error
		g, err = getGrant(tx, string(id))
		return err
	})
	return g, err
}

// UpdateOAuthGrant applies fn to a copy of the grant and re-indexes its
// hashes, in one transaction.
func (db *DB) UpdateOAuthGrant(ctx context.Context, id string, fn func(*tokens.OAuthGrant) error) (*tokens.OAuthGrant, error) {
	var out *tokens.OAuthGrant
	err := db.update(ctx, func(tx *bolt.Tx) error {
		old, err := getGrant(tx, id)
		if err != nil {
			return err
		}
		g := cloneGrant(old)
		if err := fn(g); err != nil {
			return err
		}
		g.ID, g.MCPServerID, g.CreatedAt = old.ID, old.MCPServerID, old.CreatedAt
		g.UpdatedAt = db.nowUTC()
		if err := unindexGrant(tx, old); err != nil {
			return err
		}
		if err := indexGrant(tx, g); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bucketOAuthGrants), []byte(id), g); err != nil {
			return err
		}
		out = cloneGrant(g)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// OAuthGrants lists one server's grants in ID order after `after`.
func (db *DB) OAuthGrants(ctx context.Context, serverID, after string, limit int) ([]*tokens.OAuthGrant, bool, error) {
	if err := checkLimit(limit); err != nil {
		return nil, false, err
	}
	var out []*tokens.OAuthGrant
	var more bool
	err := db.view(ctx, func(tx *bolt.Tx) error {
		prefix := []byte(serverID + "\x00")
		c := tx.Bucket(bucketOAuthGrantsByServer).Cursor()
		start := prefix
		if after != "" {
			start = grantServerKey(serverID, after)
		}
		for k, _ := c.Seek(start); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			gid := string(k[len(prefix):])
			if after != "" && gid <= after {
				continue
			}
			if len(out) == limit {
				more = true
				return nil
			}
			g, err := getGrant(tx, gid)
			if err != nil {
				return err
			}
			out = append(out, g)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, more, nil
}

// deleteGrant removes a grant and its indexes inside tx.
func deleteGrant(tx *bolt.Tx, g *tokens.OAuthGrant) error {
	if err := unindexGrant(tx, g); err != nil {
		return err
	}
	if err := tx.Bucket(bucketOAuthGrantsByServer).Delete(grantServerKey(g.MCPServerID, g.ID)); err != nil {
		return err
	}
	return tx.Bucket(bucketOAuthGrants).Delete([]byte(g.ID))
}

// DeleteOAuthGrant deletes one grant with its hashes and returns it.
func (db *DB) DeleteOAuthGrant(ctx context.Context, id string) (*tokens.OAuthGrant, error) {
	var g *tokens.OAuthGrant
	err := db.update(ctx, func(tx *bolt.Tx) error {
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
// transaction.
func (db *DB) DeleteOAuthGrantsOf(ctx context.Context, serverID string) (int, error) {
	n := 0
	err := db.update(ctx, func(tx *bolt.Tx) error {
		prefix := []byte(serverID + "\x00")
		var ids []string
		c := tx.Bucket(bucketOAuthGrantsByServer).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			ids = append(ids, string(k[len(prefix):]))
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

func cloneGrant(g *tokens.OAuthGrant) *tokens.OAuthGrant {
	cp := *g
	cp.UsedRefreshHashes = slices.Clone(g.UsedRefreshHashes)
	if g.CodeUsedAt != nil {
		t := *g.CodeUsedAt
		cp.CodeUsedAt = &t
	}
	return &cp
}

// ForEachOAuthClient calls fn for every registered client in ID order
// (for `bigin-mcp migrate`), stopping at fn's first error. fn runs inside
// a read transaction and must not call the DB.
func (db *DB) ForEachOAuthClient(ctx context.Context, fn func(*tokens.OAuthClient) error) error {
	return db.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOAuthClients).ForEach(func(k, v []byte) error {
			var c tokens.OAuthClient
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("decode OAuth client %q: %w", k, err)
			}
			return fn(&c)
		})
	})
}
