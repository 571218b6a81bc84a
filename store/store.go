package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
	"github.com/bigin-mcp/bigin-mcp/tokens"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
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

	allBuckets = [][]byte{
		bucketMeta, bucketAccounts, bucketServers, bucketServerIndex,
		bucketServersByAcct, bucketAPITokens, bucketAPITokenIndex,
		bucketLinks, bucketLinkIndex, bucketAudit, bucketCache,
		bucketOAuthClients, bucketOAuthGrants, bucketOAuthGrantIndex, bucketOAuthGrantsByServer,
	}

	metaSchemaVersion = []byte("schema_version")
	metaKeyCheck      = []byte("key_check")
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
	// NoSync skips fsync on commit: a crash of the machine may then lose
	// acknowledged changes. Only for tests that do not test durability.
	NoSync bool
}

// DB is an open bigin-mcp database. It is safe for concurrent use. Every
// method that changes data commits one bbolt transaction (fsynced) before it
// returns, and every record it returns is a fresh copy owned by the caller.
// DB implements the policy.s Store.
var _ tokens.Store = (*DB)(nil)

type DB struct {
	bolt      *bolt.DB
	path      string
	sealer    record.Sealer
	now       func() time.Time
	auditKeep int
}

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
	db := &DB{bolt: bdb, path: path, sealer: s, now: opts.Now, auditKeep: opts.AuditRetention}
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
	if db.now == nil {
		db.now = time.Now
	}
	if db.auditKeep == 0 {
		db.auditKeep = DefaultAuditRetention
	}
	if err := bdb.Update(db.initialize); err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
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

// update runs fn in one write transaction after checking ctx.
func (db *DB) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.Update(fn)
}

// view runs fn in one read transaction after checking ctx.
func (db *DB) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.View(fn)
}

// nowUTC reads the clock.
func (db *DB) nowUTC() time.Time { return db.now().UTC() }

// The record rules every backend shares.
var (
	checkID    = record.CheckID
	checkLimit = record.CheckLimit
	notFound   = record.NotFound
)

// putJSON marshals v under key in bucket b.
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	buf, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, buf)
}

// pageForward walks b in key order from after (exclusive) and calls fn with
// up to limit values; it reports whether more keys follow. fn's bytes are
// only valid inside the transaction.
func pageForward(b *bolt.Bucket, after string, limit int, fn func(k, v []byte) error) (bool, error) {
	c := b.Cursor()
	var k, v []byte
	if after == "" {
		k, v = c.First()
	} else {
		k, v = c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, v = c.Next()
		}
	}
	for n := 0; k != nil; k, v = c.Next() {
		if n == limit {
			return true, nil
		}
		if err := fn(k, v); err != nil {
			return false, err
		}
		n++
	}
	return false, nil
}
