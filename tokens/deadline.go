package tokens

import (
	"context"
	"errors"
	"time"
)

// Store calls made for a request end within a deadline: a shared store
// that stops answering (an etcd outage) would otherwise hold every
// request that reached it for the whole outage, however long, where the
// client should be told at once to come back (503 unavailable, with
// Retry-After). The request's context carries the deadline
// (WithStoreDeadline); the Service's calls, and those of a Store that
// BoundStore returned, apply it, each call on its own. Calls without one
// (startup, the sweeper, the change feed) run as they are.

type storeDeadlineKey struct{}

// WithStoreDeadline returns ctx under which every store call of the
// Service, and of a Store that BoundStore returned, must end within d; one
// still running at d is cut and fails with an *Error of code
// CodeUnavailable that Is ErrUnavailable. A d of zero or less leaves ctx
// as it is. A write cut at its deadline may still have been committed:
// the store did not say.
func WithStoreDeadline(ctx context.Context, d time.Duration) context.Context {
	if d <= 0 {
		return ctx
	}
	return context.WithValue(ctx, storeDeadlineKey{}, d)
}

// BoundStore returns s with each call bounded by the deadline its context
// carries (WithStoreDeadline). It is what the Service does with the Store
// it is given; the wiring gives it to the other request paths that reach
// the store (the Zoho clients' account reads, the audit of tool calls).
func BoundStore(s Store) Store {
	if b, ok := s.(boundStore); ok {
		return b
	}
	return boundStore{s}
}

// storeTimedOut is the error of a store call cut at its deadline.
func storeTimedOut(cause error) *Error {
	return &Error{
		Code:    CodeUnavailable,
		Message: "the store did not answer in time; try again shortly",
		Err:     errors.Join(ErrUnavailable, cause),
	}
}

// boundCall returns the context of one store call: ctx with its store
// deadline, if it carries one.
func boundCall(ctx context.Context) (context.Context, context.CancelFunc) {
	d, ok := ctx.Value(storeDeadlineKey{}).(time.Duration)
	if !ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// overdue returns err, or storeTimedOut when the call's own deadline
// ended it (and not the end of the caller's context).
func overdue(ctx, call context.Context, err error) error {
	if err == nil || ctx.Err() != nil || !errors.Is(call.Err(), context.DeadlineExceeded) {
		return err
	}
	return storeTimedOut(err)
}

func call0(ctx context.Context, f func(context.Context) error) error {
	c, cancel := boundCall(ctx)
	defer cancel()
	return overdue(ctx, c, f(c))
}

func call1[T any](ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	c, cancel := boundCall(ctx)
	defer cancel()
	v, err := f(c)
	return v, overdue(ctx, c, err)
}

func call2[T any](ctx context.Context, f func(context.Context) (T, bool, error)) (T, bool, error) {
	c, cancel := boundCall(ctx)
	defer cancel()
	v, more, err := f(c)
	return v, more, overdue(ctx, c, err)
}

// boundStore is a Store whose calls keep to their context's store
// deadline. It declares every method of Store (a test holds it to that):
// one it only inherited would run unbounded.
type boundStore struct{ Store }

func (b boundStore) APITokenByHash(ctx context.Context, h [32]byte) (*APIToken, error) {
	return call1(ctx, func(c context.Context) (*APIToken, error) { return b.Store.APITokenByHash(c, h) })
}

func (b boundStore) APITokens(ctx context.Context, after string, limit int) ([]*APIToken, bool, error) {
	return call2(ctx, func(c context.Context) ([]*APIToken, bool, error) { return b.Store.APITokens(c, after, limit) })
}

func (b boundStore) Account(ctx context.Context, id string) (*Account, error) {
	return call1(ctx, func(c context.Context) (*Account, error) { return b.Store.Account(c, id) })
}

func (b boundStore) Accounts(ctx context.Context, after string, limit int) ([]*Account, bool, error) {
	return call2(ctx, func(c context.Context) ([]*Account, bool, error) { return b.Store.Accounts(c, after, limit) })
}

func (b boundStore) AppendAudit(ctx context.Context, e *AuditEntry) error {
	return call0(ctx, func(c context.Context) error { return b.Store.AppendAudit(c, e) })
}

func (b boundStore) Audit(ctx context.Context, before string, limit int) ([]*AuditEntry, bool, error) {
	return call2(ctx, func(c context.Context) ([]*AuditEntry, bool, error) { return b.Store.Audit(c, before, limit) })
}

func (b boundStore) CacheDelete(ctx context.Context, key string) error {
	return call0(ctx, func(c context.Context) error { return b.Store.CacheDelete(c, key) })
}

func (b boundStore) CacheGet(ctx context.Context, key string) ([]byte, error) {
	return call1(ctx, func(c context.Context) ([]byte, error) { return b.Store.CacheGet(c, key) })
}

func (b boundStore) CachePut(ctx context.Context, key string, value []byte) error {
	return call0(ctx, func(c context.Context) error { return b.Store.CachePut(c, key, value) })
}

func (b boundStore) ClaimIdempotencyKey(ctx context.Context, r *IdempotencyRecord) (*IdempotencyRecord, error) {
	return call1(ctx, func(c context.Context) (*IdempotencyRecord, error) { return b.Store.ClaimIdempotencyKey(c, r) })
}

func (b boundStore) FinishIdempotencyKey(ctx context.Context, r *IdempotencyRecord) error {
	return call0(ctx, func(c context.Context) error { return b.Store.FinishIdempotencyKey(c, r) })
}

func (b boundStore) ReleaseIdempotencyKey(ctx context.Context, scope, key, claimID string) error {
	return call0(ctx, func(c context.Context) error { return b.Store.ReleaseIdempotencyKey(c, scope, key, claimID) })
}

func (b boundStore) DeleteExpiredIdempotencyKeys(ctx context.Context, now time.Time) (int, error) {
	return call1(ctx, func(c context.Context) (int, error) { return b.Store.DeleteExpiredIdempotencyKeys(c, now) })
}

func (b boundStore) ConnectLink(ctx context.Context, id string) (*ConnectLink, error) {
	return call1(ctx, func(c context.Context) (*ConnectLink, error) { return b.Store.ConnectLink(c, id) })
}

func (b boundStore) ConnectLinkByHash(ctx context.Context, h [32]byte) (*ConnectLink, error) {
	return call1(ctx, func(c context.Context) (*ConnectLink, error) { return b.Store.ConnectLinkByHash(c, h) })
}

func (b boundStore) ConnectLinks(ctx context.Context, after string, limit int) ([]*ConnectLink, bool, error) {
	return call2(ctx, func(c context.Context) ([]*ConnectLink, bool, error) { return b.Store.ConnectLinks(c, after, limit) })
}

func (b boundStore) CountAPITokens(ctx context.Context) (int, error) {
	return call1(ctx, func(c context.Context) (int, error) { return b.Store.CountAPITokens(c) })
}

func (b boundStore) CreateAPIToken(ctx context.Context, t *APIToken) error {
	return call0(ctx, func(c context.Context) error { return b.Store.CreateAPIToken(c, t) })
}

func (b boundStore) CreateAccount(ctx context.Context, a *Account) error {
	return call0(ctx, func(c context.Context) error { return b.Store.CreateAccount(c, a) })
}

func (b boundStore) CreateConnectLink(ctx context.Context, l *ConnectLink) error {
	return call0(ctx, func(c context.Context) error { return b.Store.CreateConnectLink(c, l) })
}

func (b boundStore) CreateMCPServer(ctx context.Context, m *MCPServer) error {
	return call0(ctx, func(c context.Context) error { return b.Store.CreateMCPServer(c, m) })
}

func (b boundStore) CreateMCPServers(ctx context.Context, servers []*MCPServer) error {
	return call0(ctx, func(c context.Context) error { return b.Store.CreateMCPServers(c, servers) })
}

func (b boundStore) CreateOAuthClient(ctx context.Context, oc *OAuthClient) error {
	return call0(ctx, func(c context.Context) error { return b.Store.CreateOAuthClient(c, oc) })
}

func (b boundStore) CreateOAuthGrant(ctx context.Context, g *OAuthGrant) error {
	return call0(ctx, func(c context.Context) error { return b.Store.CreateOAuthGrant(c, g) })
}

func (b boundStore) DeleteAPIToken(ctx context.Context, id string) error {
	return call0(ctx, func(c context.Context) error { return b.Store.DeleteAPIToken(c, id) })
}

func (b boundStore) DeleteAccount(ctx context.Context, id string) ([]*MCPServer, error) {
	return call1(ctx, func(c context.Context) ([]*MCPServer, error) { return b.Store.DeleteAccount(c, id) })
}

func (b boundStore) DeleteAuditBefore(ctx context.Context, t time.Time) (int, error) {
	return call1(ctx, func(c context.Context) (int, error) { return b.Store.DeleteAuditBefore(c, t) })
}

func (b boundStore) DeleteMCPServer(ctx context.Context, id string) (*MCPServer, error) {
	return call1(ctx, func(c context.Context) (*MCPServer, error) { return b.Store.DeleteMCPServer(c, id) })
}

func (b boundStore) DeleteMCPServersIfExpired(ctx context.Context, ids []string, now time.Time) ([]*MCPServer, error) {
	return call1(ctx, func(c context.Context) ([]*MCPServer, error) { return b.Store.DeleteMCPServersIfExpired(c, ids, now) })
}

func (b boundStore) DeleteOAuthClient(ctx context.Context, id string) error {
	return call0(ctx, func(c context.Context) error { return b.Store.DeleteOAuthClient(c, id) })
}

func (b boundStore) DeleteIdleOAuthClients(ctx context.Context, t time.Time) (int, error) {
	return call1(ctx, func(c context.Context) (int, error) { return b.Store.DeleteIdleOAuthClients(c, t) })
}

func (b boundStore) DeleteOAuthGrant(ctx context.Context, id string) (*OAuthGrant, error) {
	return call1(ctx, func(c context.Context) (*OAuthGrant, error) { return b.Store.DeleteOAuthGrant(c, id) })
}

func (b boundStore) DeleteOAuthGrantsOf(ctx context.Context, serverID string) (int, error) {
	return call1(ctx, func(c context.Context) (int, error) { return b.Store.DeleteOAuthGrantsOf(c, serverID) })
}

func (b boundStore) ForEachMCPServer(ctx context.Context, fn func(*MCPServer) error) error {
	return call0(ctx, func(c context.Context) error { return b.Store.ForEachMCPServer(c, fn) })
}

func (b boundStore) MCPServer(ctx context.Context, id string) (*MCPServer, error) {
	return call1(ctx, func(c context.Context) (*MCPServer, error) { return b.Store.MCPServer(c, id) })
}

func (b boundStore) MCPServerByTokenHash(ctx context.Context, h [32]byte) (*MCPServer, error) {
	return call1(ctx, func(c context.Context) (*MCPServer, error) { return b.Store.MCPServerByTokenHash(c, h) })
}

func (b boundStore) MCPServers(ctx context.Context, accountID string, after string, limit int) ([]*MCPServer, bool, error) {
	return call2(ctx, func(c context.Context) ([]*MCPServer, bool, error) {
		return b.Store.MCPServers(c, accountID, after, limit)
	})
}

func (b boundStore) OAuthClient(ctx context.Context, id string) (*OAuthClient, error) {
	return call1(ctx, func(c context.Context) (*OAuthClient, error) { return b.Store.OAuthClient(c, id) })
}

func (b boundStore) OAuthGrant(ctx context.Context, id string) (*OAuthGrant, error) {
	return call1(ctx, func(c context.Context) (*OAuthGrant, error) { return b.Store.OAuthGrant(c, id) })
}

func (b boundStore) OAuthGrantByHash(ctx context.Context, h [32]byte) (*OAuthGrant, error) {
	return call1(ctx, func(c context.Context) (*OAuthGrant, error) { return b.Store.OAuthGrantByHash(c, h) })
}

func (b boundStore) OAuthGrants(ctx context.Context, serverID string, after string, limit int) ([]*OAuthGrant, bool, error) {
	return call2(ctx, func(c context.Context) ([]*OAuthGrant, bool, error) {
		return b.Store.OAuthGrants(c, serverID, after, limit)
	})
}

func (b boundStore) RevokeConnectLink(ctx context.Context, id string, at time.Time) (*ConnectLink, error) {
	return call1(ctx, func(c context.Context) (*ConnectLink, error) { return b.Store.RevokeConnectLink(c, id, at) })
}

func (b boundStore) UpdateAccount(ctx context.Context, id string, fn func(*Account) error) (*Account, error) {
	return call1(ctx, func(c context.Context) (*Account, error) { return b.Store.UpdateAccount(c, id, fn) })
}

func (b boundStore) UpdateMCPServer(ctx context.Context, id string, fn func(*MCPServer) error) (*MCPServer, error) {
	return call1(ctx, func(c context.Context) (*MCPServer, error) { return b.Store.UpdateMCPServer(c, id, fn) })
}

func (b boundStore) UpdateOAuthGrant(ctx context.Context, id string, fn func(*OAuthGrant) error) (*OAuthGrant, error) {
	return call1(ctx, func(c context.Context) (*OAuthGrant, error) { return b.Store.UpdateOAuthGrant(c, id, fn) })
}

func (b boundStore) UseConnectLink(ctx context.Context, id string, a *Account) error {
	return call0(ctx, func(c context.Context) error { return b.Store.UseConnectLink(c, id, a) })
}

func (b boundStore) UseConnectLinkToReconnect(ctx context.Context, linkID string, accountID string, fn func(*Account) error) (*Account, error) {
	return call1(ctx, func(c context.Context) (*Account, error) {
		return b.Store.UseConnectLinkToReconnect(c, linkID, accountID, fn)
	})
}
