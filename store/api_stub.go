package store

// THIS FILE IS THE CONTRACT OF THE STORE PACKAGE, written first so that the
// tokens and mcp packages can be built against it in parallel. The store
// implementation replaces these bodies (and may move them to other files)
// but keeps the signatures.

import (
	"context"
	"time"
)

// Options configures Open.
type Options struct {
	// Key is the 32-byte AES-256-GCM key that seals secrets.
	Key []byte
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DB is an open bigin-mcp database. It is safe for concurrent use.
type DB struct{}

// Open opens (creating if needed, mode 0600) the bbolt file at path. It fails
// with ErrWrongKey if the database was created with another key.
func Open(path string, opts Options) (*DB, error) { panic("unimplemented") }

// Close closes the database.
func (db *DB) Close() error { panic("unimplemented") }

// Path returns the database file's path.
func (db *DB) Path() string { panic("unimplemented") }

// Ping reports whether the database is open (for /readyz).
func (db *DB) Ping() error { panic("unimplemented") }

// LoadOrCreateKey returns the key from the base64 value b64 when it is not
// empty (it must decode to exactly 32 bytes), otherwise reads
// <dir>/secret.key, creating it (mode 0600, 32 random bytes, base64) when it
// does not exist.
func LoadOrCreateKey(dir, b64 string) ([]byte, error) { panic("unimplemented") }

// --- accounts ---

// CreateAccount stores a new account; a.ID must be set and unique.
func (db *DB) CreateAccount(ctx context.Context, a *Account) error { panic("unimplemented") }

// Account returns one account with its secrets unsealed.
func (db *DB) Account(ctx context.Context, id string) (*Account, error) { panic("unimplemented") }

// Accounts lists accounts in ID order after the ID `after` (exclusive; "" =
// from the start), at most limit of them, and reports whether more follow.
func (db *DB) Accounts(ctx context.Context, after string, limit int) ([]*Account, bool, error) {
	panic("unimplemented")
}

// UpdateAccount applies fn to the account inside one write transaction and
// stores the result. fn's error aborts the change and is returned as is.
func (db *DB) UpdateAccount(ctx context.Context, id string, fn func(*Account) error) (*Account, error) {
	panic("unimplemented")
}

// DeleteAccount deletes the account and all its MCP servers in one
// transaction and returns the servers it deleted.
func (db *DB) DeleteAccount(ctx context.Context, id string) ([]*MCPServer, error) {
	panic("unimplemented")
}

// --- MCP servers ---

// CreateMCPServer stores a new MCP server; its account must exist
// (ErrNotFound) and its TokenHash must be unused (ErrConflict).
func (db *DB) CreateMCPServer(ctx context.Context, s *MCPServer) error { panic("unimplemented") }

// MCPServer returns one MCP server by ID.
func (db *DB) MCPServer(ctx context.Context, id string) (*MCPServer, error) { panic("unimplemented") }

// MCPServerByTokenHash returns the MCP server whose token hashes to h.
func (db *DB) MCPServerByTokenHash(ctx context.Context, h [32]byte) (*MCPServer, error) {
	panic("unimplemented")
}

// MCPServers lists one account's MCP servers in ID order, paged like Accounts.
func (db *DB) MCPServers(ctx context.Context, accountID, after string, limit int) ([]*MCPServer, bool, error) {
	panic("unimplemented")
}

// ForEachMCPServer calls fn for every MCP server (to warm a cache).
func (db *DB) ForEachMCPServer(ctx context.Context, fn func(*MCPServer) error) error {
	panic("unimplemented")
}

// UpdateMCPServer applies fn inside one write transaction (the ID, account
// and token hash cannot change).
func (db *DB) UpdateMCPServer(ctx context.Context, id string, fn func(*MCPServer) error) (*MCPServer, error) {
	panic("unimplemented")
}

// DeleteMCPServer deletes one MCP server and its token-hash index entry.
func (db *DB) DeleteMCPServer(ctx context.Context, id string) (*MCPServer, error) {
	panic("unimplemented")
}

// DeleteExpiredMCPServers deletes every MCP server whose ExpiresAt is at or
// before now, in one transaction, and returns them.
func (db *DB) DeleteExpiredMCPServers(ctx context.Context, now time.Time) ([]*MCPServer, error) {
	panic("unimplemented")
}

// --- API tokens ---

// CreateAPIToken stores a new API token (ErrConflict on a reused hash).
func (db *DB) CreateAPIToken(ctx context.Context, t *APIToken) error { panic("unimplemented") }

// APITokens lists API tokens in ID order, paged like Accounts.
func (db *DB) APITokens(ctx context.Context, after string, limit int) ([]*APIToken, bool, error) {
	panic("unimplemented")
}

// APITokenByHash returns the API token whose value hashes to h.
func (db *DB) APITokenByHash(ctx context.Context, h [32]byte) (*APIToken, error) {
	panic("unimplemented")
}

// CountAPITokens returns how many API tokens exist.
func (db *DB) CountAPITokens(ctx context.Context) (int, error) { panic("unimplemented") }

// DeleteAPIToken deletes one API token; deleting the last one is ErrConflict.
func (db *DB) DeleteAPIToken(ctx context.Context, id string) error { panic("unimplemented") }

// --- connect links ---

// CreateConnectLink stores a new connect link.
func (db *DB) CreateConnectLink(ctx context.Context, l *ConnectLink) error { panic("unimplemented") }

// ConnectLinkByHash returns the connect link whose token hashes to h.
func (db *DB) ConnectLinkByHash(ctx context.Context, h [32]byte) (*ConnectLink, error) {
	panic("unimplemented")
}

// UseConnectLink marks the link used (single use) inside one transaction and
// creates the account with it: ErrConflict if it was already used, ErrNotFound
// if it does not exist. The link's expiry is the caller's to check.
func (db *DB) UseConnectLink(ctx context.Context, id string, a *Account) error {
	panic("unimplemented")
}

// --- audit ---

// AppendAudit records one entry. Concurrent appends are batched into few
// transactions (bbolt's Batch) so that auditing every tool call stays cheap.
func (db *DB) AppendAudit(ctx context.Context, e *AuditEntry) error { panic("unimplemented") }

// Audit lists audit entries, newest first, paged by entry ID.
func (db *DB) Audit(ctx context.Context, before string, limit int) ([]*AuditEntry, bool, error) {
	panic("unimplemented")
}
