// Package kv is tokens.Store written once: every rule of every record
// (what a create checks, what a delete cascades to, the last API token,
// single-use connect links, expiry with its audit entry, audit
// retention) over a small transaction interface, Tx, that each backend
// provides: the bbolt file (package store), etcd (package
// store/etcdstore) and memory (package store/memstore). A backend maps
// tables to its own layout (bbolt buckets, etcd key prefixes) and runs
// transactions; it knows no rule.
//
// Adding a Store method is one method here, over Tx, and a case in
// tokens/storetest that every backend then runs; the backends get the
// method by embedding Store. A new kind of record is also a new Table,
// which each backend maps (a bbolt bucket, an etcd key prefix).
package kv

import (
	"context"
	"errors"
	"fmt"
)

// Table is one kind of key in a backend: a bbolt bucket, an etcd key
// prefix. Keys are byte strings ordered bytewise within their table.
type Table uint8

// The tables. Record tables hold a record's encoding (package record)
// under its ID; index tables hold an ID under a token's SHA-256 hash (32
// raw bytes: a backend that shows keys, as etcd does, encodes them), or
// an empty value under parent ID + "\x00" + child ID.
const (
	Accounts         Table = iota // account id → sealed account
	Servers                       // server id → server
	ServerHashes                  // token hash → server id
	ServersByAccount              // account id \x00 server id → empty
	APITokens                     // token id → API token
	APITokenHashes                // token hash → token id
	Links                         // link id → connect link
	LinkHashes                    // token hash → link id
	Audit                         // entry id (uuid v7: time order) → entry
	Cache                         // cache key → sealed value
	OAuthClients                  // client id → OAuth client
	OAuthGrants                   // grant id → OAuth grant
	GrantHashes                   // code or token hash → grant id
	GrantsByServer                // server id \x00 grant id → empty
	AuditByAccount                // account id ("" for none) \x00 entry id → empty
	IdempotencyKeys               // sha256(scope \x00 key) → idempotency record

	// NumTables is how many tables there are; a backend maps each.
	NumTables int = iota
)

var tableNames = [NumTables]string{
	"accounts", "mcp_servers", "mcp_token_index", "mcp_by_account",
	"api_tokens", "api_token_index", "connect_links", "connect_link_index",
	"audit", "cache", "oauth_clients", "oauth_grants", "oauth_grant_index",
	"oauth_grants_by_server", "audit_by_account", "idempotency_keys",
}

// String returns the table's name (its bbolt bucket's name).
func (t Table) String() string {
	if int(t) < NumTables {
		return tableNames[t]
	}
	return fmt.Sprintf("table(%d)", uint8(t))
}

// Range selects keys of one table for Scan: those in [Start, End), in
// key order (Reverse: from the last), at most Limit of them (0: all).
type Range struct {
	// Start is the first key ("" for the table's first); End is the
	// first key after the range ("" for past the table's last).
	Start, End string
	Limit      int
	Reverse    bool
	// KeysOnly tells the backend the values are not needed (fn gets
	// nil).
	KeysOnly bool
	// Unchecked marks a read the rule does not need to still hold at
	// commit: a cleanup (trimming or aging out the audit log) that is
	// right whatever others wrote meanwhile. An optimistic backend does
	// not check it, so it neither makes the transaction conflict nor
	// adds a compare per key (etcd bounds them with --max-txn-ops).
	Unchecked bool
}

// Prefix is the range of the keys that start with p.
func Prefix(p string) Range { return Range{Start: p, End: PrefixEnd(p)} }

// PrefixEnd is the first key after every key that starts with p ("" when
// there is none: every key from p on starts with it).
func PrefixEnd(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return ""
}

// ErrStopScan, returned by Scan's fn, ends the scan early without an error.
var ErrStopScan = errors.New("kv: stop the scan")

// ErrReadOnly is returned by a write in a View.
var ErrReadOnly = errors.New("kv: write in a read-only transaction")

// Tx is one transaction: what it reads is one consistent state, and what
// it writes is committed all together or not at all. A Tx is used by one
// goroutine, inside the function it was given to, never after.
//
// An optimistic backend (etcd) runs the function again when what it read
// changed before it could commit, so a rule must compute everything
// inside the function and reset what it collects at its start. Get and
// Has see the transaction's own writes; Scan and Count may or may not, so
// a rule does not scan what it has written.
type Tx interface {
	// Get returns the value under key, or nil when there is none. The
	// bytes are valid until the transaction ends and must not be
	// modified. A value may be empty: test existence with Has.
	Get(t Table, key string) ([]byte, error)
	// Has reports whether key exists. An optimistic backend may answer
	// "no" without reading and check it at commit, so a rule tests with
	// Has what it expects absent (a new record's ID or hash) and with Get
	// what it must read.
	Has(t Table, key string) (bool, error)
	// Scan calls fn with each key in r and its value (valid as Get's),
	// stopping at fn's first error (ErrStopScan: no error), and reports
	// whether keys in r follow the last one it read. Unless r is
	// Unchecked, the keys it read and the absence of others between them
	// hold at commit.
	Scan(t Table, r Range, fn func(key string, value []byte) error) (more bool, err error)
	// Count returns how many keys t holds. It is a statistic: it is not
	// checked at commit, so a rule uses it only where a stale count does
	// no harm (trimming the audit log, CountAPITokens).
	Count(t Table) (int, error)
	// Put stores value under key. The caller does not modify value
	// afterwards (bbolt keeps it until the commit).
	Put(t Table, key string, value []byte) error
	// Delete removes key; a missing key is not an error.
	Delete(t Table, key string) error
	// DeleteRange removes every key in [start, end) ("" end: to the
	// table's end), as one operation however many keys there are.
	DeleteRange(t Table, start, end string) error
}

// Backend runs transactions. A function given to Update or Batch commits
// when it returns nil, and is rolled back when it returns an error, which
// the call returns as is; either may run the function more than once. All
// three check ctx before they start.
type Backend interface {
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction and commits it durably
	// before it returns.
	Update(ctx context.Context, fn func(Tx) error) error
	// Batch is Update for small, frequent writes (audit entries): calls
	// that arrive together may share one transaction, each still
	// returning only once its writes are committed. A function that fails
	// fails only its own call.
	Batch(ctx context.Context, fn func(Tx) error) error
}
