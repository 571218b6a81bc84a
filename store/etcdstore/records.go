package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// --- accounts ---

func (s *Store) getAccount(t *txn, id string) (*tokens.Account, error) {
	buf, err := t.get(s.accountKey(id))
	if err != nil {
		return nil, err
	}
	if buf == nil {
		return nil, record.NotFound("account", id)
	}
	return s.sealer.DecodeAccount(id, buf)
}

// putNewAccount stores a new account in t, filling a's timestamps and
// default status.
func (s *Store) putNewAccount(t *txn, a *tokens.Account) error {
	if err := record.CheckID("account", a.ID); err != nil {
		return err
	}
	buf, err := t.get(s.accountKey(a.ID))
	if err != nil {
		return err
	}
	if buf != nil {
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
	enc, err := s.sealer.EncodeAccount(a)
	if err != nil {
		return err
	}
	t.put(s.accountKey(a.ID), enc)
	return nil
}

// CreateAccount stores a new account (see tokens.AccountStore).
func (s *Store) CreateAccount(ctx context.Context, a *tokens.Account) error {
	var c tokens.Account
	err := s.update(ctx, func(t *txn) error { c = *a; return s.putNewAccount(t, &c) })
	if err != nil {
		return err
	}
	a.CreatedAt, a.UpdatedAt, a.Status = c.CreatedAt, c.UpdatedAt, c.Status
	return nil
}

// Account returns one account with its secrets unsealed.
func (s *Store) Account(ctx context.Context, id string) (*tokens.Account, error) {
	var a *tokens.Account
	err := s.view(ctx, func(t *txn) error {
		var err error
		a, err = s.getAccount(t, id)
		return err
	})
	return a, err
}

// page lists the records under prefix after `after`, decoding each.
func page[T any](ctx context.Context, s *Store, prefix, after string, limit int, decode func(id string, v []byte) (T, error)) ([]T, bool, error) {
	return scan(ctx, s, prefix, after, limit, false, func(_ *txn, id string, v []byte) (T, error) { return decode(id, v) })
}

// pageIndex lists the records an index names: the ids kept as keys under
// prefix after `after`, each record loaded with get in the same read.
func pageIndex[T any](ctx context.Context, s *Store, prefix, after string, limit int, get func(t *txn, id string) (T, error)) ([]T, bool, error) {
	return scan(ctx, s, prefix, after, limit, true, func(t *txn, id string, _ []byte) (T, error) { return get(t, id) })
}

// scan reads at most limit keys under prefix after `after` in one read,
// turning each into a T.
func scan[T any](ctx context.Context, s *Store, prefix, after string, limit int, keysOnly bool, each func(t *txn, id string, v []byte) (T, error)) ([]T, bool, error) {
	if err := record.CheckLimit(limit); err != nil {
		return nil, false, err
	}
	var out []T
	var more bool
	err := s.view(ctx, func(t *txn) error {
		out = nil
		start := prefix
		if after != "" {
			start = prefix + after + "\x00"
		}
		kvs, m, err := t.list(start, prefixEnd(prefix), int64(limit), keysOnly)
		if err != nil {
			return err
		}
		more = m
		for _, x := range kvs {
			v, err := each(t, strings.TrimPrefix(x.key, prefix), x.value)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, more, nil
}

// Accounts lists accounts in ID order after `after`.
func (s *Store) Accounts(ctx context.Context, after string, limit int) ([]*tokens.Account, bool, error) {
	return page(ctx, s, s.p+"r/a/", after, limit, s.sealer.DecodeAccount)
}

// UpdateAccount applies fn to a copy of the account in one transaction.
func (s *Store) UpdateAccount(ctx context.Context, id string, fn func(*tokens.Account) error) (*tokens.Account, error) {
	var out *tokens.Account
	err := s.update(ctx, func(t *txn) error {
		old, err := s.getAccount(t, id)
		if err != nil {
			return err
		}
		a := *old
		if err := fn(&a); err != nil {
			return err
		}
		a.ID, a.CreatedAt = old.ID, old.CreatedAt
		a.UpdatedAt = s.nowUTC()
		enc, err := s.sealer.EncodeAccount(&a)
		if err != nil {
			return err
		}
		t.put(s.accountKey(id), enc)
		c := a
		out = &c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteAccount deletes the account and its MCP servers in one
// transaction.
func (s *Store) DeleteAccount(ctx context.Context, id string) ([]*tokens.MCPServer, error) {
	var deleted []*tokens.MCPServer
	err := s.update(ctx, func(t *txn) error {
		deleted = nil
		buf, err := t.get(s.accountKey(id))
		if err != nil {
			return err
		}
		if buf == nil {
			return record.NotFound("account", id)
		}
		prefix := s.byAccountPrefix(id)
		kvs, _, err := t.list(prefix, prefixEnd(prefix), 0, true)
		if err != nil {
			return err
		}
		for _, x := range kvs {
			m, err := s.deleteServer(t, strings.TrimPrefix(x.key, prefix))
			if err != nil {
				return err
			}
			deleted = append(deleted, m)
		}
		t.del(s.accountKey(id))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return deleted, nil
}

// --- MCP servers ---

func (s *Store) getServer(t *txn, id string) (*tokens.MCPServer, error) {
	buf, err := t.get(s.serverKey(id))
	if err != nil {
		return nil, err
	}
	if buf == nil {
		return nil, record.NotFound("mcp server", id)
	}
	return record.DecodeServer(id, buf)
}

func (s *Store) putNewServer(t *txn, m *tokens.MCPServer) error {
	if err := record.CheckID("mcp server", m.ID); err != nil {
		return err
	}
	if m.TokenHash == ([32]byte{}) {
		return fmt.Errorf("store: mcp server %q has no token hash", m.ID)
	}
	if buf, err := t.get(s.accountKey(m.AccountID)); err != nil {
		return err
	} else if buf == nil {
		return record.NotFound("account", m.AccountID)
	}
	if ok, err := t.absent(s.serverKey(m.ID)); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("mcp server %q already exists: %w", m.ID, tokens.ErrConflict)
	}
	if ok, err := t.absent(s.serverHashKey(m.TokenHash)); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("mcp server token hash already in use: %w", tokens.ErrConflict)
	}
	now := s.nowUTC()
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	m.UpdatedAt = now
	enc, err := record.EncodeServer(m)
	if err != nil {
		return err
	}
	t.put(s.serverKey(m.ID), enc)
	t.put(s.serverHashKey(m.TokenHash), []byte(m.ID))
	t.put(s.byAccountPrefix(m.AccountID)+m.ID, nil)
	return nil
}

func (s *Store) deleteServer(t *txn, id string) (*tokens.MCPServer, error) {
	m, err := s.getServer(t, id)
	if err != nil {
		return nil, err
	}
	t.del(s.serverKey(id))
	t.del(s.serverHashKey(m.TokenHash))
	t.del(s.byAccountPrefix(m.AccountID) + id)
	return m, nil
}

// CreateMCPServer stores a new MCP server (see tokens.MCPServerStore).
func (s *Store) CreateMCPServer(ctx context.Context, m *tokens.MCPServer) error {
	var c *tokens.MCPServer
	err := s.update(ctx, func(t *txn) error { c = record.CloneServer(m); return s.putNewServer(t, c) })
	if err != nil {
		return err
	}
	m.CreatedAt, m.UpdatedAt = c.CreatedAt, c.UpdatedAt
	return nil
}

// CreateMCPServers stores many new servers in one transaction. Each takes
// three keys and the transaction compares three more, so the cluster's
// --max-txn-ops bounds how many one call may create (about 20 with etcd's
// default of 128).
func (s *Store) CreateMCPServers(ctx context.Context, servers []*tokens.MCPServer) error {
	var cs []*tokens.MCPServer
	err := s.update(ctx, func(t *txn) error {
		cs = make([]*tokens.MCPServer, len(servers))
		for i, m := range servers {
			cs[i] = record.CloneServer(m)
			if err := s.putNewServer(t, cs[i]); err != nil {
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
	var m *tokens.MCPServer
	err := s.view(ctx, func(t *txn) error {
		var err error
		m, err = s.getServer(t, id)
		return err
	})
	return m, err
}

// MCPServerByTokenHash returns the server whose token hashes to h.
func (s *Store) MCPServerByTokenHash(ctx context.Context, h [32]byte) (*tokens.MCPServer, error) {
	var m *tokens.MCPServer
	err := s.view(ctx, func(t *txn) error {
		id, err := t.get(s.serverHashKey(h))
		if err != nil {
			return err
		}
		if id == nil {
			return record.NotFound("mcp server", "")
		}
		m, err = s.getServer(t, string(id))
		return err
	})
	return m, err
}

// MCPServers lists one account's servers in ID order after `after`.
func (s *Store) MCPServers(ctx context.Context, accountID, after string, limit int) ([]*tokens.MCPServer, bool, error) {
	return pageIndex(ctx, s, s.byAccountPrefix(accountID), after, limit, s.getServer)
}

// forEachChunk is how many servers ForEachMCPServer reads per request.
const forEachChunk = 512

// ForEachMCPServer calls fn for every server in ID order, in chunks (not
// one snapshot).
func (s *Store) ForEachMCPServer(ctx context.Context, fn func(*tokens.MCPServer) error) error {
	after := ""
	for {
		chunk, more, err := page(ctx, s, s.p+"r/s/", after, forEachChunk, record.DecodeServer)
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

// UpdateMCPServer applies fn to a copy of the server in one transaction.
func (s *Store) UpdateMCPServer(ctx context.Context, id string, fn func(*tokens.MCPServer) error) (*tokens.MCPServer, error) {
	var out *tokens.MCPServer
	err := s.update(ctx, func(t *txn) error {
		old, err := s.getServer(t, id)
		if err != nil {
			return err
		}
		m := record.CloneServer(old)
		if err := fn(m); err != nil {
			return err
		}
		m.ID, m.AccountID, m.TokenHash, m.CreatedAt = old.ID, old.AccountID, old.TokenHash, old.CreatedAt
		m.UpdatedAt = s.nowUTC()
		enc, err := record.EncodeServer(m)
		if err != nil {
			return err
		}
		t.put(s.serverKey(id), enc)
		out = record.CloneServer(m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteMCPServer deletes one server and returns it.
func (s *Store) DeleteMCPServer(ctx context.Context, id string) (*tokens.MCPServer, error) {
	var m *tokens.MCPServer
	err := s.update(ctx, func(t *txn) error {
		var err error
		m, err = s.deleteServer(t, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// DeleteMCPServersIfExpired deletes those of ids that have expired at
// now, with an "mcp_server.expire" audit entry each, in one transaction;
// expiry is checked inside it, so overlapping sweepers delete each server
// once.
func (s *Store) DeleteMCPServersIfExpired(ctx context.Context, ids []string, now time.Time) ([]*tokens.MCPServer, error) {
	if len(ids) == 0 {
		return nil, ctx.Err()
	}
	var deleted []*tokens.MCPServer
	err := s.update(ctx, func(t *txn) error {
		deleted = nil
		at := s.nowUTC()
		for _, id := range ids {
			m, err := s.getServer(t, id)
			if err != nil {
				if errors.Is(err, tokens.ErrNotFound) {
					continue // deleted meanwhile
				}
				return err
			}
			if m.ExpiresAt == nil || m.ExpiresAt.After(now) {
				continue // extended meanwhile
			}
			if _, err := s.deleteServer(t, id); err != nil {
				return err
			}
			eid, err := uuid.NewV7()
			if err != nil {
				return err
			}
			e := &tokens.AuditEntry{
				ID: eid.String(), Time: at, Actor: "system", Action: "mcp_server.expire",
				AccountID: m.AccountID, MCPServerID: m.ID, Outcome: "ok",
			}
			enc, err := record.EncodeAudit(e)
			if err != nil {
				return err
			}
			t.put(s.auditKey(e.ID), enc)
			deleted = append(deleted, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return deleted, nil
}

// --- API tokens ---

// CreateAPIToken stores a new API token.
func (s *Store) CreateAPIToken(ctx context.Context, at *tokens.APIToken) error {
	if err := record.CheckID("api token", at.ID); err != nil {
		return err
	}
	if at.TokenHash == ([32]byte{}) {
		return fmt.Errorf("store: api token %q has no token hash", at.ID)
	}
	var c tokens.APIToken
	err := s.update(ctx, func(t *txn) error {
		c = *at
		if c.CreatedAt.IsZero() {
			c.CreatedAt = s.nowUTC()
		}
		enc, err := record.EncodeAPIToken(&c)
		if err != nil {
			return err
		}
		return putNewHashed(t, "api token", c.ID, s.apiTokenKey(c.ID), s.apiTokenHashKey(c.TokenHash), enc)
	})
	if err != nil {
		return err
	}
	at.CreatedAt = c.CreatedAt
	return nil
}

// APITokens lists API tokens in ID order after `after`.
func (s *Store) APITokens(ctx context.Context, after string, limit int) ([]*tokens.APIToken, bool, error) {
	return page(ctx, s, s.p+"t/", after, limit, record.DecodeAPIToken)
}

// APITokenByHash returns the token whose value hashes to h.
func (s *Store) APITokenByHash(ctx context.Context, h [32]byte) (*tokens.APIToken, error) {
	var out *tokens.APIToken
	err := s.view(ctx, func(t *txn) error {
		id, err := t.get(s.apiTokenHashKey(h))
		if err != nil {
			return err
		}
		if id == nil {
			return record.NotFound("api token", "")
		}
		buf, err := t.get(s.apiTokenKey(string(id)))
		if err != nil {
			return err
		}
		if buf == nil {
			return record.NotFound("api token", "")
		}
		out, err = record.DecodeAPIToken(string(id), buf)
		return err
	})
	return out, err
}

// CountAPITokens returns how many API tokens exist.
func (s *Store) CountAPITokens(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	resp, err := s.c.Get(ctx, s.p+"t/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, wrap(ctx, err)
	}
	return int(resp.Count), nil
}

// DeleteAPIToken deletes one API token; deleting the last one is a
// conflict.
func (s *Store) DeleteAPIToken(ctx context.Context, id string) error {
	return s.update(ctx, func(t *txn) error {
		buf, err := t.get(s.apiTokenKey(id))
		if err != nil {
			return err
		}
		if buf == nil {
			return record.NotFound("api token", id)
		}
		at, err := record.DecodeAPIToken(id, buf)
		if err != nil {
			return err
		}
		kvs, _, err := t.list(s.p+"t/", prefixEnd(s.p+"t/"), 2, true)
		if err != nil {
			return err
		}
		if len(kvs) < 2 {
			return fmt.Errorf("api token %q is the last one; create another before deleting it: %w", id, tokens.ErrConflict)
		}
		t.del(s.apiTokenHashKey(at.TokenHash))
		t.del(s.apiTokenKey(id))
		return nil
	})
}

// --- connect links ---

func (s *Store) getLink(t *txn, id string) (*tokens.ConnectLink, error) {
	buf, err := t.get(s.linkKey(id))
	if err != nil {
		return nil, err
	}
	if buf == nil {
		return nil, record.NotFound("connect link", id)
	}
	return record.DecodeConnectLink(id, buf)
}

// CreateConnectLink stores a new connect link.
func (s *Store) CreateConnectLink(ctx context.Context, l *tokens.ConnectLink) error {
	if err := record.CheckID("connect link", l.ID); err != nil {
		return err
	}
	if l.TokenHash == ([32]byte{}) {
		return fmt.Errorf("store: connect link %q has no token hash", l.ID)
	}
	var c tokens.ConnectLink
	err := s.update(ctx, func(t *txn) error {
		c = *l
		if c.CreatedAt.IsZero() {
			c.CreatedAt = s.nowUTC()
		}
		enc, err := record.EncodeConnectLink(&c)
		if err != nil {
			return err
		}
		return putNewHashed(t, "connect link", c.ID, s.linkKey(c.ID), s.linkHashKey(c.TokenHash), enc)
	})
	if err != nil {
		return err
	}
	l.CreatedAt = c.CreatedAt
	return nil
}

// ConnectLink returns one link by ID.
func (s *Store) ConnectLink(ctx context.Context, id string) (*tokens.ConnectLink, error) {
	var l *tokens.ConnectLink
	err := s.view(ctx, func(t *txn) error {
		var err error
		l, err = s.getLink(t, id)
		return err
	})
	return l, err
}

// ConnectLinkByHash returns the link whose token hashes to h.
func (s *Store) ConnectLinkByHash(ctx context.Context, h [32]byte) (*tokens.ConnectLink, error) {
	var l *tokens.ConnectLink
	err := s.view(ctx, func(t *txn) error {
		id, err := t.get(s.linkHashKey(h))
		if err != nil {
			return err
		}
		if id == nil {
			return record.NotFound("connect link", "")
		}
		l, err = s.getLink(t, string(id))
		return err
	})
	return l, err
}

// UseConnectLink marks the link used and creates the account, in one
// transaction.
func (s *Store) UseConnectLink(ctx context.Context, id string, a *tokens.Account) error {
	var c tokens.Account
	err := s.update(ctx, func(t *txn) error {
		c = *a
		l, err := s.getLink(t, id)
		if err != nil {
			return err
		}
		if l.UsedAt != nil {
			return fmt.Errorf("connect link %q was already used: %w", id, tokens.ErrConflict)
		}
		if l.RevokedAt != nil {
			return fmt.Errorf("connect link %q was revoked: %w", id, tokens.ErrConflict)
		}
		if err := s.putNewAccount(t, &c); err != nil {
			return err
		}
		now := s.nowUTC()
		l.UsedAt, l.AccountID = &now, c.ID
		enc, err := record.EncodeConnectLink(l)
		if err != nil {
			return err
		}
		t.put(s.linkKey(id), enc)
		return nil
	})
	if err != nil {
		return err
	}
	a.CreatedAt, a.UpdatedAt, a.Status = c.CreatedAt, c.UpdatedAt, c.Status
	return nil
}

// UseConnectLinkToReconnect marks the reconnect link used and applies fn
// to the account it names, in one transaction (fn may run again when the
// transaction is retried).
func (s *Store) UseConnectLinkToReconnect(ctx context.Context, linkID, accountID string, fn func(*tokens.Account) error) (*tokens.Account, error) {
	var out *tokens.Account
	err := s.update(ctx, func(t *txn) error {
		out = nil
		l, err := s.getLink(t, linkID)
		if err != nil {
			return err
		}
		switch {
		case l.ReconnectAccountID == "" || l.ReconnectAccountID != accountID:
			return fmt.Errorf("connect link %q does not reconnect account %q: %w", linkID, accountID, tokens.ErrConflict)
		case l.UsedAt != nil:
			return fmt.Errorf("connect link %q was already used: %w", linkID, tokens.ErrConflict)
		case l.RevokedAt != nil:
			return fmt.Errorf("connect link %q was revoked: %w", linkID, tokens.ErrConflict)
		}
		old, err := s.getAccount(t, accountID)
		if err != nil {
			return err
		}
		a := *old
		if err := fn(&a); err != nil {
			return err
		}
		now := s.nowUTC()
		a.ID, a.CreatedAt, a.UpdatedAt = old.ID, old.CreatedAt, now
		enc, err := s.sealer.EncodeAccount(&a)
		if err != nil {
			return err
		}
		t.put(s.accountKey(accountID), enc)
		l.UsedAt, l.AccountID = &now, accountID
		if enc, err = record.EncodeConnectLink(l); err != nil {
			return err
		}
		t.put(s.linkKey(linkID), enc)
		out = &a
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ConnectLinks lists connect links in ID order after `after`, in whatever
// state.
func (s *Store) ConnectLinks(ctx context.Context, after string, limit int) ([]*tokens.ConnectLink, bool, error) {
	return page(ctx, s, s.p+"l/", after, limit, record.DecodeConnectLink)
}

// RevokeConnectLink sets the link's RevokedAt in one transaction, which
// UseConnectLink's transaction conflicts with, so a link is never both
// revoked and used. A revoked link is returned unchanged.
func (s *Store) RevokeConnectLink(ctx context.Context, id string, at time.Time) (*tokens.ConnectLink, error) {
	var out *tokens.ConnectLink
	err := s.update(ctx, func(t *txn) error {
		l, err := s.getLink(t, id)
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
		enc, err := record.EncodeConnectLink(l)
		if err != nil {
			return err
		}
		t.put(s.linkKey(id), enc)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// putNewHashed puts a new record found by its token's hash: the record
// under key and its id under hashKey, refusing (ErrConflict) a record that
// exists or a hash already in use.
func putNewHashed(t *txn, kind, id, key, hashKey string, enc []byte) error {
	if buf, err := t.get(key); err != nil {
		return err
	} else if buf != nil {
		return fmt.Errorf("%s %q already exists: %w", kind, id, tokens.ErrConflict)
	}
	if buf, err := t.get(hashKey); err != nil {
		return err
	} else if buf != nil {
		return fmt.Errorf("%s hash already in use: %w", kind, tokens.ErrConflict)
	}
	t.put(key, enc)
	t.put(hashKey, []byte(id))
	return nil
}
