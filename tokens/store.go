package tokens

import (
	"context"
	"time"
)

// Store is where the policy keeps its records. Package store implements
// it on a bbolt file for one process, store/etcdstore on etcd for
// replicas and store/memstore in memory for tests, all three with one
// implementation of the rules (store/internal/kv); tokens/storetest holds
// the conformance suite every implementation must pass.
//
// What every implementation promises:
//   - Durability: a method that changes data returns only after the change
//     is committed; a crash afterwards loses nothing it acknowledged.
//   - Atomicity: each method is all or nothing. Methods documented as one
//     transaction (DeleteAccount, UseConnectLink,
//     UseConnectLinkToReconnect, RevokeConnectLink,
//     DeleteMCPServersIfExpired, CreateMCPServers, the Update methods)
//     never show a half-done change to any reader.
//   - Read-your-writes: once a change returns, every later call on the
//     same Store sees it. Other processes sharing a backend see it when
//     the backend says so; the in-memory index of Service assumes it is
//     told of every change (Service is the only writer of its Store, or a
//     backend that can tell it of others' writes must do so).
//   - Copies: records passed in are not kept, records returned are fresh
//     copies the caller owns.
//   - Secrets (ClientSecret, RefreshToken, AccessToken) are sealed at rest
//     and returned in the clear; tokens are kept only as hashes.
//   - Errors: ErrNotFound for a missing record, ErrConflict for a change
//     that breaks an invariant (a reused ID or token hash, deleting the
//     last API token, using a used connect link); callers test them with
//     errors.Is.
//   - Lists are in ID order (creation order, since IDs are uuid v7), paged
//     by an exclusive `after` ID ("" for the start) and a limit of at least
//     1, and report whether more follow.
type Store interface {
	AccountStore
	MCPServerStore
	APITokenStore
	ConnectLinkStore
	ConnectLinkAdminStore
	AuditStore
	AuditRetentionStore
	OAuthClientStore
	OAuthGrantStore
	CacheStore
	IdempotencyStore

	// Ping reports whether the store is usable (for /readyz).
	Ping() error
	// Close releases the store; no method may be called afterwards.
	Close() error
}

// AccountStore keeps integrated accounts.
type AccountStore interface {
	// CreateAccount stores a new account; a.ID must be set and unique
	// (ErrConflict otherwise). It sets a.CreatedAt (when zero) and
	// a.UpdatedAt, and a.Status to StatusActive when empty.
	CreateAccount(ctx context.Context, a *Account) error
	// Account returns one account with its secrets (ErrNotFound if none).
	Account(ctx context.Context, id string) (*Account, error)
	// Accounts lists accounts in ID order after `after`.
	Accounts(ctx context.Context, after string, limit int) ([]*Account, bool, error)
	// UpdateAccount applies fn to a copy of the account in one
	// transaction and stores the result. ID and CreatedAt cannot change;
	// UpdatedAt is set. fn's error aborts the change and is returned as
	// is; fn must not call the Store.
	UpdateAccount(ctx context.Context, id string, fn func(*Account) error) (*Account, error)
	// DeleteAccount deletes the account and all its MCP servers in one
	// transaction and returns the servers it deleted. Audit entries stay.
	DeleteAccount(ctx context.Context, id string) ([]*MCPServer, error)
}

// MCPServerStore keeps minted MCP URLs (by the hash of their token).
type MCPServerStore interface {
	// CreateMCPServer stores a new server: its account must exist
	// (ErrNotFound) and its ID and TokenHash must be unused (ErrConflict).
	// It sets s.CreatedAt (when zero) and s.UpdatedAt.
	CreateMCPServer(ctx context.Context, s *MCPServer) error
	// CreateMCPServers stores many new servers in one transaction, all or
	// none, with CreateMCPServer's rules.
	CreateMCPServers(ctx context.Context, servers []*MCPServer) error
	// MCPServer returns one server by ID (ErrNotFound if none), expired
	// or not.
	MCPServer(ctx context.Context, id string) (*MCPServer, error)
	// MCPServerByTokenHash returns the server whose token hashes to h
	// (ErrNotFound if none), expired or not.
	MCPServerByTokenHash(ctx context.Context, h [32]byte) (*MCPServer, error)
	// MCPServers lists one account's servers in ID order after `after`;
	// an unknown account has none.
	MCPServers(ctx context.Context, accountID, after string, limit int) ([]*MCPServer, bool, error)
	// ForEachMCPServer calls fn for every server in ID order, stopping at
	// fn's first error, which it returns. fn runs outside any transaction
	// (it may call the Store), so the walk is not one snapshot.
	ForEachMCPServer(ctx context.Context, fn func(*MCPServer) error) error
	// UpdateMCPServer applies fn to a copy of the server in one
	// transaction. ID, AccountID, TokenHash and CreatedAt cannot change;
	// UpdatedAt is set. fn's error aborts and is returned as is.
	UpdateMCPServer(ctx context.Context, id string, fn func(*MCPServer) error) (*MCPServer, error)
	// DeleteMCPServer deletes one server and returns it (ErrNotFound if
	// none).
	DeleteMCPServer(ctx context.Context, id string) (*MCPServer, error)
	// DeleteMCPServersIfExpired deletes those of ids whose ExpiresAt is at
	// or before now, recording an "mcp_server.expire" audit entry for
	// each, in one transaction, and returns them. Expiry is checked inside
	// the transaction, so two sweepers running at once delete each server
	// once.
	DeleteMCPServersIfExpired(ctx context.Context, ids []string, now time.Time) ([]*MCPServer, error)
}

// APITokenStore keeps admin API tokens (by hash).
type APITokenStore interface {
	// CreateAPIToken stores a new token: ErrConflict on a reused ID or
	// hash. It sets t.CreatedAt when zero.
	CreateAPIToken(ctx context.Context, t *APIToken) error
	// APITokens lists tokens in ID order after `after`.
	APITokens(ctx context.Context, after string, limit int) ([]*APIToken, bool, error)
	// APITokenByHash returns the token whose value hashes to h
	// (ErrNotFound if none).
	APITokenByHash(ctx context.Context, h [32]byte) (*APIToken, error)
	// CountAPITokens returns how many tokens exist.
	CountAPITokens(ctx context.Context) (int, error)
	// DeleteAPIToken deletes one token (ErrNotFound if none); deleting
	// the last one is ErrConflict, so the admin API cannot lock itself out.
	DeleteAPIToken(ctx context.Context, id string) error
}

// ConnectLinkStore keeps connect links (by hash).
type ConnectLinkStore interface {
	// CreateConnectLink stores a new link: ErrConflict on a reused ID or
	// hash. It sets l.CreatedAt when zero.
	CreateConnectLink(ctx context.Context, l *ConnectLink) error
	// ConnectLink returns one link by ID (ErrNotFound if none).
	ConnectLink(ctx context.Context, id string) (*ConnectLink, error)
	// ConnectLinkByHash returns the link whose token hashes to h
	// (ErrNotFound if none), used or not.
	ConnectLinkByHash(ctx context.Context, h [32]byte) (*ConnectLink, error)
	// UseConnectLink marks the link used and creates the account a, in one
	// transaction: ErrConflict if the link was used already, was revoked
	// (RevokedAt set), or a.ID exists; ErrNotFound if there is no such
	// link. a is filled in as by CreateAccount. The link's expiry is the
	// caller's to check.
	UseConnectLink(ctx context.Context, id string, a *Account) error
	// UseConnectLinkToReconnect marks the reconnect link used and applies
	// fn to a copy of the account it names, in one transaction, and
	// returns the stored account. The link's ReconnectAccountID must be
	// accountID: ErrConflict if it is not, if the link was used already or
	// was revoked; ErrNotFound if there is no such link or account. fn's
	// error aborts the whole change (the link stays usable) and is
	// returned as is. As with UpdateAccount, ID and CreatedAt cannot
	// change and UpdatedAt is set; the link's UsedAt is set and its
	// AccountID becomes accountID. fn must not call the Store, and may be
	// called more than once (a backend may retry the transaction).
	UseConnectLinkToReconnect(ctx context.Context, linkID, accountID string, fn func(*Account) error) (*Account, error)
}

// ConnectLinkAdminStore is what the admin API needs beyond using links:
// listing them and withdrawing one before it is used.
type ConnectLinkAdminStore interface {
	// ConnectLinks lists links in ID order after `after`: usable, used,
	// expired and revoked ones alike.
	ConnectLinks(ctx context.Context, after string, limit int) ([]*ConnectLink, bool, error)
	// RevokeConnectLink sets the link's RevokedAt to at and returns the
	// link, in one transaction, so it is never both revoked and used:
	// ErrNotFound if there is no such link, ErrConflict if it was used.
	// Revoking a revoked link changes nothing and returns it as it is.
	RevokeConnectLink(ctx context.Context, id string, at time.Time) (*ConnectLink, error)
}

// AuditStore keeps the audit log.
type AuditStore interface {
	// AppendAudit records one entry, filling e.ID (a uuid v7) and e.Time
	// when empty. It returns once the entry is committed. Retention may
	// trim the oldest entries.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// Audit lists entries newest first, those with an ID before `before`
	// ("" for the newest), and reports whether older ones follow.
	Audit(ctx context.Context, before string, limit int) ([]*AuditEntry, bool, error)
}

// MaxCacheKey and MaxCacheValue bound what CacheStore holds: keys are
// short names, values are small blobs such as a certificate chain.
const (
	MaxCacheKey   = 512
	MaxCacheValue = 1 << 20
)

// CacheStore is a small key/value store for what the server caches across
// restarts and shares between replicas of one backend, such as ACME
// account keys and certificates. Values may hold private keys: they are
// sealed at rest like the other secrets and returned in the clear.
type CacheStore interface {
	// CacheGet returns the value under key (ErrNotFound if there is none).
	CacheGet(ctx context.Context, key string) ([]byte, error)
	// CachePut stores value under key, replacing any previous value. A key
	// must be 1 to MaxCacheKey bytes without NUL, a value at most
	// MaxCacheValue bytes; others are refused with an error.
	CachePut(ctx context.Context, key string, value []byte) error
	// CacheDelete removes key; removing a missing key is not an error.
	CacheDelete(ctx context.Context, key string) error
}

// AuditRetentionStore ages out the audit log.
type AuditRetentionStore interface {
	// DeleteAuditBefore deletes the entries whose Time is before t and
	// returns how many it deleted. Entries are appended in time order, so
	// an implementation may walk them oldest first (ID order) and stop at
	// the first one that is not before t. It may commit in several
	// transactions; a failure part way keeps what was deleted so far.
	DeleteAuditBefore(ctx context.Context, t time.Time) (int, error)
}

// IdempotencyRecord is a write called with an idempotency key: claimed
// while the first call runs, then its outcome, kept so that a retry with
// the same key gets that outcome instead of writing again.
type IdempotencyRecord struct {
	// Scope is whose keys these are: one MCP URL ("mcp:<server id>"), or
	// one API token on one account on the REST face
	// ("rest:<token id>:<account id>"). Key is the caller's key.
	Scope string `json:"scope"`
	Key   string `json:"key"`
	// ClaimID names the call that claimed the key, so that only it
	// finishes or releases the claim.
	ClaimID string `json:"claim_id"`
	// Tool and Fingerprint (hex SHA-256 of the tool and its other
	// arguments) tell a retry from another call reusing the key.
	Tool        string `json:"tool"`
	Fingerprint string `json:"fingerprint"`
	// Done is false while the claiming call runs, true once Result holds
	// its outcome: the structured result's JSON, a tool error (isError)
	// when Failed, with Text the text a model reads.
	Done   bool   `json:"done"`
	Result []byte `json:"result,omitempty"`
	Failed bool   `json:"failed,omitempty"`
	Text   string `json:"text,omitempty"`
	// CreatedAt is when the key was claimed; from ExpiresAt on the record
	// is gone for every reader (a claim expires soon after its call would
	// have timed out, an outcome a day after it was stored).
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// MaxIdempotencyKey bounds an idempotency key, in bytes.
const MaxIdempotencyKey = 64

// IdempotencyStore keeps the outcomes of writes called with an
// idempotency key, shared by every replica of a backend.
type IdempotencyStore interface {
	// ClaimIdempotencyKey stores r, a claim (Done false), unless a record
	// of r.Scope and r.Key exists whose ExpiresAt is after r.CreatedAt:
	// then it stores nothing and returns a copy of that record with
	// ErrConflict. An expired record is replaced. Scope and Key must be
	// non-empty, Key at most MaxIdempotencyKey bytes.
	ClaimIdempotencyKey(ctx context.Context, r *IdempotencyRecord) (*IdempotencyRecord, error)
	// FinishIdempotencyKey replaces the claim of r.Scope and r.Key with r
	// (its outcome), in one transaction, if the stored record is the claim
	// r.ClaimID made: ErrNotFound if there is none, ErrConflict if another
	// claim holds the key.
	FinishIdempotencyKey(ctx context.Context, r *IdempotencyRecord) error
	// ReleaseIdempotencyKey deletes the record of scope and key if it is
	// the claim claimID made and not yet finished (the call ended without
	// an outcome to keep, so a retry may write); otherwise it does
	// nothing.
	ReleaseIdempotencyKey(ctx context.Context, scope, key, claimID string) error
	// DeleteExpiredIdempotencyKeys deletes the records whose ExpiresAt is
	// at or before now and returns how many it deleted. It may commit in
	// several transactions.
	DeleteExpiredIdempotencyKeys(ctx context.Context, now time.Time) (int, error)
}
