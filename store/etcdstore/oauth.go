package etcdstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// OAuth records, under the prefix:
//
//	oc/<client id>                  client JSON
//	og/<grant id>                   grant JSON (hashes of its tokens only)
//	i/gh/<hex sha256(token)>        grant id, for every hash the grant names
//	i/gs/<server id>\x00<grant id>  empty: the grants of one MCP server
//
// A grant, its hash index and its server index change in one etcd
// transaction. How many keys one transaction may touch is bounded by the
// cluster's --max-txn-ops: a grant names at most 3 +
// tokens.MaxUsedRefreshHashes hashes, and DeleteOAuthGrantsOf deletes
// every grant of a server at once (see the README on --max-txn-ops).

func (s *Store) oauthClientKey(id string) string { return s.p + "oc/" + id }
func (s *Store) grantKey(id string) string       { return s.p + "og/" + id }
func (s *Store) grantHashKey(h [32]byte) string {
	return s.p + "i/gh/" + fmt.Sprintf("%x", h[:])
}
func (s *Store) grantsOfPrefix(serverID string) string { return s.p + "i/gs/" + serverID + "\x00" }

// --- OAuth clients ---

// CreateOAuthClient stores a new dynamically registered client:
// tokens.ErrConflict on a reused ID. It sets c.CreatedAt when zero.
func (s *Store) CreateOAuthClient(ctx context.Context, c *tokens.OAuthClient) error {
	if err := record.CheckID("OAuth client", c.ID); err != nil {
		return err
	}
	var cp tokens.OAuthClient
	err := s.update(ctx, func(t *txn) error {
		cp = *c
		if ok, err := t.absent(s.oauthClientKey(cp.ID)); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("OAuth client %q already exists: %w", cp.ID, tokens.ErrConflict)
		}
		if cp.CreatedAt.IsZero() {
			cp.CreatedAt = s.nowUTC()
		}
		enc, err := record.EncodeOAuthClient(&cp)
		if err != nil {
			return err
		}
		t.put(s.oauthClientKey(cp.ID), enc)
		return nil
	})
	if err != nil {
		return err
	}
	c.CreatedAt = cp.CreatedAt
	return nil
}

// OAuthClient returns one client (tokens.ErrNotFound if none).
func (s *Store) OAuthClient(ctx context.Context, id string) (*tokens.OAuthClient, error) {
	var out *tokens.OAuthClient
	err := s.view(ctx, func(t *txn) error {
		buf, err := t.get(s.oauthClientKey(id))
		if err != nil {
			return err
		}
		if buf == nil {
			return record.NotFound("OAuth client", id)
		}
		out, err = record.DecodeOAuthClient(id, buf)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteOAuthClient deletes one client (tokens.ErrNotFound if none).
func (s *Store) DeleteOAuthClient(ctx context.Context, id string) error {
	return s.update(ctx, func(t *txn) error {
		buf, err := t.get(s.oauthClientKey(id))
		if err != nil {
			return err
		}
		if buf == nil {
			return record.NotFound("OAuth client", id)
		}
		t.del(s.oauthClientKey(id))
		return nil
	})
}

// --- OAuth grants ---

func (s *Store) getGrant(t *txn, id string) (*tokens.OAuthGrant, error) {
	buf, err := t.get(s.grantKey(id))
	if err != nil {
		return nil, err
	}
	if buf == nil {
		return nil, record.NotFound("OAuth grant", id)
	}
	return record.DecodeOAuthGrant(id, buf)
}

// indexGrant points every hash of g that old (nil for a new grant) did
// not name at g, refusing one another grant names. Hashes old named point
// at g already: the index and the record change together.
func (s *Store) indexGrant(t *txn, old, g *tokens.OAuthGrant) error {
	had := map[[32]byte]bool{}
	if old != nil {
		for _, h := range old.Hashes() {
			had[h] = true
		}
	}
	for _, h := range g.Hashes() {
		if had[h] {
			continue
		}
		cur, err := t.get(s.grantHashKey(h))
		if err != nil {
			return err
		}
		if cur != nil && string(cur) != g.ID {
			return fmt.Errorf("OAuth token hash already in use: %w", tokens.ErrConflict)
		}
		t.put(s.grantHashKey(h), []byte(g.ID))
	}
	return nil
}

// unindexGrant drops the hashes of old that g (nil when the grant goes)
// no longer names.
func (s *Store) unindexGrant(t *txn, old, g *tokens.OAuthGrant) {
	keep := map[[32]byte]bool{}
	if g != nil {
		for _, h := range g.Hashes() {
			keep[h] = true
		}
	}
	for _, h := range old.Hashes() {
		if !keep[h] {
			t.del(s.grantHashKey(h))
		}
	}
}

// deleteGrant removes a grant with its indexes inside t.
func (s *Store) deleteGrant(t *txn, g *tokens.OAuthGrant) {
	s.unindexGrant(t, g, nil)
	t.del(s.grantsOfPrefix(g.MCPServerID) + g.ID)
	t.del(s.grantKey(g.ID))
}

// CreateOAuthGrant stores a new grant with its hash and server indexes,
// in one transaction.
func (s *Store) CreateOAuthGrant(ctx context.Context, g *tokens.OAuthGrant) error {
	if err := record.CheckID("OAuth grant", g.ID); err != nil {
		return err
	}
	if err := record.CheckID("MCP server", g.MCPServerID); err != nil {
		return err
	}
	var cp *tokens.OAuthGrant
	err := s.update(ctx, func(t *txn) error {
		cp = record.CloneOAuthGrant(g)
		buf, err := t.get(s.grantKey(cp.ID))
		if err != nil {
			return err
		}
		if buf != nil {
			return fmt.Errorf("OAuth grant %q already exists: %w", cp.ID, tokens.ErrConflict)
		}
		now := s.nowUTC()
		if cp.CreatedAt.IsZero() {
			cp.CreatedAt = now
		}
		cp.UpdatedAt = now
		if err := s.indexGrant(t, nil, cp); err != nil {
			return err
		}
		enc, err := record.EncodeOAuthGrant(cp)
		if err != nil {
			return err
		}
		t.put(s.grantsOfPrefix(cp.MCPServerID)+cp.ID, nil)
		t.put(s.grantKey(cp.ID), enc)
		return nil
	})
	if err != nil {
		return err
	}
	g.CreatedAt, g.UpdatedAt = cp.CreatedAt, cp.UpdatedAt
	return nil
}

// OAuthGrant returns one grant by ID.
func (s *Store) OAuthGrant(ctx context.Context, id string) (*tokens.OAuthGrant, error) {
	var g *tokens.OAuthGrant
	err := s.view(ctx, func(t *txn) error {
		var err error
		g, err = s.getGrant(t, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// OAuthGrantByHash returns the grant that names h (index and record read
// at one revision).
func (s *Store) OAuthGrantByHash(ctx context.Context, h [32]byte) (*tokens.OAuthGrant, error) {
	var g *tokens.OAuthGrant
	err := s.view(ctx, func(t *txn) error {
		id, err := t.get(s.grantHashKey(h))
		if err != nil {
			return err
		}
		if id == nil {
			return record.NotFound("OAuth grant", "")
		}
		g, err = s.getGrant(t, string(id))
		return err
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// UpdateOAuthGrant applies fn to a copy of the grant and re-indexes its
// hashes, in one transaction: a second caller racing on the same grant
// conflicts and runs fn again on the record the first one committed.
func (s *Store) UpdateOAuthGrant(ctx context.Context, id string, fn func(*tokens.OAuthGrant) error) (*tokens.OAuthGrant, error) {
	var out *tokens.OAuthGrant
	err := s.update(ctx, func(t *txn) error {
		old, err := s.getGrant(t, id)
		if err != nil {
			return err
		}
		g := record.CloneOAuthGrant(old)
		if err := fn(g); err != nil {
			return err
		}
		g.ID, g.MCPServerID, g.CreatedAt = old.ID, old.MCPServerID, old.CreatedAt
		g.UpdatedAt = s.nowUTC()
		s.unindexGrant(t, old, g)
		if err := s.indexGrant(t, old, g); err != nil {
			return err
		}
		enc, err := record.EncodeOAuthGrant(g)
		if err != nil {
			return err
		}
		t.put(s.grantKey(id), enc)
		out = record.CloneOAuthGrant(g)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// OAuthGrants lists one server's grants in ID order after `after`.
func (s *Store) OAuthGrants(ctx context.Context, serverID, after string, limit int) ([]*tokens.OAuthGrant, bool, error) {
	return pageIndex(ctx, s, s.grantsOfPrefix(serverID), after, limit, s.getGrant)
}

// DeleteOAuthGrant deletes one grant with its hashes, in one transaction,
// and returns it.
func (s *Store) DeleteOAuthGrant(ctx context.Context, id string) (*tokens.OAuthGrant, error) {
	var g *tokens.OAuthGrant
	err := s.update(ctx, func(t *txn) error {
		var err error
		if g, err = s.getGrant(t, id); err != nil {
			return err
		}
		s.deleteGrant(t, g)
		return nil
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
	err := s.update(ctx, func(t *txn) error {
		n = 0
		prefix := s.grantsOfPrefix(serverID)
		kvs, _, err := t.list(prefix, prefixEnd(prefix), 0, true)
		if err != nil {
			return err
		}
		for _, x := range kvs {
			g, err := s.getGrant(t, strings.TrimPrefix(x.key, prefix))
			if err != nil {
				return err
			}
			s.deleteGrant(t, g)
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
