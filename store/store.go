package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/bigin-mcp/bigin-mcp/store/internal/kv"
	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// SchemaVersion is the on-disk layout version this package writes. Open
// refuses a database with a newer version rather than misreading it.
const SchemaVersion = 1

// DefaultLockTimeout is how long Open waits for another process to release
// the database file before failing with ErrLocked.
const DefaultLockTimeout = time.Second

// DefaultAuditRetention is how many audit entries are kept when
// Options.AuditRetention is zero; older ones are trimmed as new ones arrive.
// It is a bound on the file's size (an entry is a few hundred bytes), a
// safety net behind the time-based retention the sweeper enforces
// (DeleteAuditBefore), high enough that a busy server keeps its entries
// for the configured time.
const DefaultAuditRetention = 1_000_000

// DefaultAuditRetentionPerAccount is how many audit entries of each
// account are kept when Options.AuditRetentionPerAccount is zero: a tenth
// of the whole log, so ten accounts' worth fill it before the global
// bound trims anyone's.
const DefaultAuditRetentionPerAccount = DefaultAuditRetention / 10

// Bucket names. Each is a top-level bbolt bucket.
var (
	bucketMeta          = []byte("meta")               // schema_version, key_check
	bucketAccounts      = []byte("accounts")           // account id → diskAccount JSON
	bucketServers       = []byte("mcp_servers")        // server id → diskServer JSON
	bucketServerIndex   = []byte("mcp_token_index")    // sha256(token) → server id
	bucketServersByAcct = []byte("mcp_by_account")     // account id \x00 server id → nil
	bucketAPITokens     = []byte("api_tokens")         // token id → diskAPIToken JSON
	bucketAPITokenIndex = []byte("api_token_index")    // sha256(token) → token id
	bucketLinks         = []byte("connect_links")      // link id → diskConnectLink JSON
	bucketLinkIndex     = []byte("connect_link_index") // sha256(token) → link id
	bucketAudit         = []byte("audit")              // entry id (uuid v7) → tokens.AuditEntry JSON
	bucketCache         = []byte("cache")              // key → sealed value (ACME keys and certificates)

	bucketOAuthClients        = []byte("oauth_clients")          // client id → tokens.OAuthClient JSON
	bucketOAuthGrants         = []byte("oauth_grants")           // grant id → tokens.OAuthGrant JSON
	bucketOAuthGrantIndex     = []byte("oauth_grant_index")      // sha256(code or token) → grant id
	bucketOAuthGrantsByServer = []byte("oauth_grants_by_server") // server id \x00 grant id → nil
	bucketAuditByAccount      = []byte("audit_by_account")       // account id \x00 entry id → nil
	bucketIdempotencyKeys     = []byte("idempotency_keys")       // sha256(scope \x00 key) → tokens.IdempotencyRecord JSON

	allBuckets = [][]byte{
		bucketMeta, bucketAccounts, bucketServers, bucketServerIndex,
		bucketServersByAcct, bucketAPITokens, bucketAPITokenIndex,
		bucketLinks, bucketLinkIndex, bucketAudit, bucketCache,
		bucketOAuthClients, bucketOAuthGrants, bucketOAuthGrantIndex, bucketOAuthGrantsByServer,
		bucketAuditByAccount,
		bucketIdempotencyKeys,
	}

	metaSchemaVersion = []byte("schema_version")
	metaKeyCheck      = []byte("key_check")

	// buckets is where each table of the Store's rules lives.
	buckets = [kv.NumTables][]byte{
		kv.Accounts:         bucketAccounts,
		kv.Servers:          bucketServers,
		kv.ServerHashes:     bucketServerIndex,
		kv.ServersByAccount: bucketServersByAcct,
		kv.APITokens:        bucketAPITokens,
		kv.APITokenHashes:   bucketAPITokenIndex,
		kv.Links:            bucketLinks,
		kv.LinkHashes:       bucketLinkIndex,
		kv.Audit:            bucketAudit,
		kv.Cache:            bucketCache,
		kv.OAuthClients:     bucketOAuthClients,
		kv.OAuthGrants:      bucketOAuthGrants,
		kv.GrantHashes:      bucketOAuthGrantIndex,
		kv.GrantsByServer:   bucketOAuthGrantsByServer,
		kv.AuditByAccount:   bucketAuditByAccount,
		kv.IdempotencyKeys:  bucketIdempotencyKeys,
	}
)

// Options configures Open.
type Options struct {
	// Key is the 32-byte AES-256-GCM key that seals secrets.
	Key []byte
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// LockTimeout is how long to wait for another process to release the
	// file; zero means DefaultLockTimeout.
	LockTimeout time.Duration
	// AuditRetention is how many audit entries to keep (the oldest are
	// trimmed); zero means DefaultAuditRetention, negative means no limit.
	AuditRetention int
	// AuditRetentionPerAccount is how many audit entries to keep of each
	// integrated account (and of the entries of no account): an
	// account's oldest are trimmed as its new ones arrive, never
	// another's. Zero means DefaultAuditRetentionPerAccount, negative
	// means no limit.
	AuditRetentionPerAccount int
	// auditAccountTrimEvery is kv.Options.AuditAccountTrimEvery (tests
	// check every append).
	auditAccountTrimEvery int
	// NoSync skips fsync on commit: a crash of the machine may then lose
	// acknowledged changes. Only for tests that do not test durability.
	NoSync bool
	// BatchDelay is how long an audit entry waits for others to share its
	// commit; zero means bbolt's default (10 ms). Writes that follow one
	// another (the admin API's) each wait it in full: tests, which make
	// thousands, set it short.
	BatchDelay time.Duration
}

// rules is the one implementation of the Store's rules, shared with every
// backend; DB gives it bbolt transactions.
type rules = kv.Store

// DB is an open bigin-mcp database: the tokens.Store rules (package
// store/internal/kv) over one bbolt file. It has every method of
// tokens.Store, documented there. It is safe for concurrent use. Every
// method that changes data commits one bbolt transaction (fsynced) before
// it returns, and every record it returns is a fresh copy owned by the
// caller.
type DB struct {
	*rules
	bolt   *bolt.DB
	path   string
	sealer record.Sealer
}

var _ tokens.Store = (*DB)(nil)

// Open opens (creating if needed, mode 0600) the bbolt file at path. It fails
// with ErrWrongKey if the database was created with another key, with
// ErrLocked if another process has it open, and when the key is not 32 bytes
// or the file's schema is newer than this binary understands.
func Open(path string, opts Options) (*DB, error) {
	s, err := record.NewSealer(opts.Key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, NoSync: opts.NoSync})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("open database %s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if opts.BatchDelay > 0 {
		bdb.MaxBatchDelay = opts.BatchDelay
	}
	db := &DB{bolt: bdb, path: path, sealer: s}
	// The key is checked in a read transaction first: a database that
	// another key sealed is refused before anything is written to it.
	if err := bdb.View(db.checkKey); err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// bbolt only sets the mode when it creates the file; tighten an
	// existing file that is readable by others.
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			_ = bdb.Close()
			return nil, fmt.Errorf("open database %s: restrict mode to 0600: %w", path, err)
		}
	}
	if err := bdb.Update(db.initialize); err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	keep := opts.AuditRetention
	if keep == 0 {
		keep = DefaultAuditRetention
	}
	perAccount := opts.AuditRetentionPerAccount
	if perAccount == 0 {
		perAccount = DefaultAuditRetentionPerAccount
	}
	// The audit bucket counts its entries (its sequence), so retention is
	// checked on every append at no cost.
	db.rules = kv.New(backend{bdb}, kv.Options{Sealer: s, Now: opts.Now, AuditRetention: keep, AuditTrimEvery: 1,
		AuditPerAccount: perAccount, AuditAccountTrimEvery: opts.auditAccountTrimEvery})
	return db, nil
}

// initialize creates missing buckets, checks the schema version and checks
// (or, on a new database, records) the secret key.
func (db *DB) initialize(tx *bolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	if v := meta.Get(metaSchemaVersion); v != nil {
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return fmt.Errorf("unreadable schema version %q", v)
		}
		if n > SchemaVersion {
			return fmt.Errorf("database schema version %d is newer than this bigin-mcp supports (%d); run a newer bigin-mcp", n, SchemaVersion)
		}
	} else if err := meta.Put(metaSchemaVersion, []byte(strconv.Itoa(SchemaVersion))); err != nil {
		return err
	}
	if meta.Get(metaKeyCheck) != nil {
		return db.checkKey(tx)
	}
	sealed, err := db.sealer.KeyCheck()
	if err != nil {
		return err
	}
	return meta.Put(metaKeyCheck, sealed)
}

// checkKey fails with ErrWrongKey when the database records a key check
// that the key does not open; a new database (no check yet) passes.
func (db *DB) checkKey(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return nil
	}
	v := meta.Get(metaKeyCheck)
	if v == nil {
		return nil
	}
	if !db.sealer.CheckKey(v) {
		return ErrWrongKey
	}
	return nil
}

// Close closes the database. Every acknowledged change is already on disk;
// Close only releases the file.
func (db *DB) Close() error { return db.bolt.Close() }

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Ping reports whether the database is open (for /readyz).
func (db *DB) Ping() error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return errors.New("store: meta bucket missing")
		}
		return nil
	})
}

// ForEachCache calls fn with every cached key and its unsealed value, in
// key order (for `bigin-mcp migrate`), stopping at fn's first error. fn
// runs inside a read transaction and must not call the DB.
func (db *DB) ForEachCache(ctx context.Context, fn func(key string, value []byte) error) error {
	return kv.ForEachCache(ctx, db.rules, fn)
}

// ForEachOAuthClient calls fn for every registered client in ID order
// (for `bigin-mcp migrate`), stopping at fn's first error. fn runs inside
// a read transaction and must not call the DB.
func (db *DB) ForEachOAuthClient(ctx context.Context, fn func(*tokens.OAuthClient) error) error {
	return kv.ForEachOAuthClient(ctx, db.rules, fn)
}
