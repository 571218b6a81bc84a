// Package memstore keeps bigin-mcp's records in memory: a tokens.Store
// with the same rules as the bbolt file and etcd (it is the same
// implementation, package store/internal/kv, over a map) and nothing to
// set up, for tests of the policy that need neither a disk nor a
// cluster. Nothing survives Close, so it is never a server's store.
package memstore

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/bigin-mcp/bigin-mcp/store/internal/kv"
	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// DefaultAuditRetention is how many audit entries are kept when
// Options.AuditRetention is zero.
const DefaultAuditRetention = 100_000

// ErrClosed is returned by every method after Close.
var ErrClosed = errors.New("memstore: closed")

// Options configures New. The zero value is a store with a random key and
// the real clock.
type Options struct {
	// Key is the 32-byte key that seals secrets, as the other stores do
	// (nil: a random one).
	Key []byte
	// Now is the clock of record timestamps; nil means time.Now.
	Now func() time.Time
	// AuditRetention is how many audit entries to keep (the oldest are
	// trimmed as new ones arrive); zero means DefaultAuditRetention,
	// negative means no limit.
	AuditRetention int
}

// rules is the one implementation of the Store's rules.
type rules = kv.Store

// Store is bigin-mcp's records in memory. It has every method of
// tokens.Store, documented there. It is safe for concurrent use; writers
// take turns, readers share.
type Store struct {
	*rules
	mem *backend
}

var _ tokens.Store = (*Store)(nil)

// New returns an empty store. It fails only on a key that is not 32
// bytes.
func New(opts Options) (*Store, error) {
	key := opts.Key
	if key == nil {
		key = make([]byte, record.KeySize)
		_, _ = rand.Read(key)
	}
	sealer, err := record.NewSealer(key)
	if err != nil {
		return nil, err
	}
	keep := opts.AuditRetention
	if keep == 0 {
		keep = DefaultAuditRetention
	}
	b := &backend{}
	for i := range b.tables {
		b.tables[i].vals = map[string][]byte{}
	}
	return &Store{
		rules: kv.New(b, kv.Options{Sealer: sealer, Now: opts.Now, AuditRetention: keep}),
		mem:   b,
	}, nil
}

// Ping reports whether the store is open.
func (s *Store) Ping() error {
	s.mem.mu.RLock()
	defer s.mem.mu.RUnlock()
	if s.mem.closed {
		return ErrClosed
	}
	return nil
}

// Close drops every record; every later call fails with ErrClosed.
func (s *Store) Close() error {
	s.mem.mu.Lock()
	defer s.mem.mu.Unlock()
	s.mem.closed = true
	s.mem.tables = [kv.NumTables]table{}
	return nil
}

// backend is the kv.Backend: one lock, writers one at a time, each
// write transaction applied in place with an undo log for its rollback.
type backend struct {
	mu     sync.RWMutex
	closed bool
	tables [kv.NumTables]table
}

// table is one table: its keys in order, and their values.
type table struct {
	keys []string
	vals map[string][]byte
}

// bounds returns the indexes of keys in [start, end).
func (t *table) bounds(start, end string) (int, int) {
	lo, _ := slices.BinarySearch(t.keys, start)
	hi := len(t.keys)
	if end != "" {
		hi, _ = slices.BinarySearch(t.keys, end)
	}
	return lo, max(lo, hi)
}

func (b *backend) View(ctx context.Context, fn func(kv.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	return fn(&tx{b: b})
}

func (b *backend) Update(ctx context.Context, fn func(kv.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	t := &tx{b: b, write: true}
	if err := fn(t); err != nil {
		t.rollback()
		return err
	}
	return nil
}

// Batch is Update: a write in memory costs too little to share.
func (b *backend) Batch(ctx context.Context, fn func(kv.Tx) error) error { return b.Update(ctx, fn) }

// tx is one transaction; a write transaction logs what it replaced.
type tx struct {
	b     *backend
	write bool
	undo  []undo
}

// undo is a key's state before a write: its value, or none.
type undo struct {
	t   kv.Table
	key string
	val []byte
	had bool
}

func (t *tx) Get(tb kv.Table, key string) ([]byte, error) {
	return t.b.tables[tb].vals[key], nil
}

func (t *tx) Has(tb kv.Table, key string) (bool, error) {
	_, ok := t.b.tables[tb].vals[key]
	return ok, nil
}

func (t *tx) Scan(tb kv.Table, r kv.Range, fn func(key string, value []byte) error) (bool, error) {
	tab := &t.b.tables[tb]
	lo, hi := tab.bounds(r.Start, r.End)
	n := hi - lo
	if r.Limit > 0 {
		n = min(n, r.Limit)
	}
	// What fn sees is fixed before it runs: the keys it visits do not
	// move if fn's caller writes later in the transaction.
	var keys []string
	if r.Reverse {
		keys = slices.Clone(tab.keys[hi-n : hi])
		slices.Reverse(keys)
	} else {
		keys = slices.Clone(tab.keys[lo : lo+n])
	}
	more := n < hi-lo
	for _, k := range keys {
		var v []byte
		if !r.KeysOnly {
			v = tab.vals[k]
		}
		if err := fn(k, v); err != nil {
			if errors.Is(err, kv.ErrStopScan) {
				return true, nil
			}
			return false, err
		}
	}
	return more, nil
}

func (t *tx) Count(tb kv.Table) (int, error) { return len(t.b.tables[tb].keys), nil }

func (t *tx) Put(tb kv.Table, key string, value []byte) error {
	if !t.write {
		return kv.ErrReadOnly
	}
	tab := &t.b.tables[tb]
	old, had := tab.vals[key]
	t.undo = append(t.undo, undo{tb, key, old, had})
	if !had {
		i, _ := slices.BinarySearch(tab.keys, key)
		tab.keys = slices.Insert(tab.keys, i, key)
	}
	tab.vals[key] = append([]byte{}, value...)
	return nil
}

func (t *tx) Delete(tb kv.Table, key string) error {
	if !t.write {
		return kv.ErrReadOnly
	}
	tab := &t.b.tables[tb]
	old, had := tab.vals[key]
	if !had {
		return nil
	}
	t.undo = append(t.undo, undo{tb, key, old, true})
	i, _ := slices.BinarySearch(tab.keys, key)
	tab.keys = slices.Delete(tab.keys, i, i+1)
	delete(tab.vals, key)
	return nil
}

func (t *tx) DeleteRange(tb kv.Table, start, end string) error {
	if !t.write {
		return kv.ErrReadOnly
	}
	tab := &t.b.tables[tb]
	lo, hi := tab.bounds(start, end)
	for _, k := range tab.keys[lo:hi] {
		t.undo = append(t.undo, undo{tb, k, tab.vals[k], true})
		delete(tab.vals, k)
	}
	tab.keys = slices.Delete(tab.keys, lo, hi)
	return nil
}

// rollback puts back what the transaction changed, newest first.
func (t *tx) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		u := t.undo[i]
		tab := &t.b.tables[u.t]
		j, found := slices.BinarySearch(tab.keys, u.key)
		switch {
		case u.had && !found:
			tab.keys = slices.Insert(tab.keys, j, u.key)
		case !u.had && found:
			tab.keys = slices.Delete(tab.keys, j, j+1)
		}
		if u.had {
			tab.vals[u.key] = u.val
		} else {
			delete(tab.vals, u.key)
		}
	}
}
