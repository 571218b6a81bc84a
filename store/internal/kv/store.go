package kv

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
)

// Options configures a Store.
type Options struct {
	// Sealer seals account secrets and cached values.
	Sealer record.Sealer
	// Now is the clock of record timestamps; nil means time.Now.
	Now func() time.Time
	// AuditRetention is how many audit entries to keep (the oldest are
	// trimmed as new ones arrive); zero or negative means no limit.
	AuditRetention int
	// AuditTrimEvery is how many appends pass between two retention
	// checks: 1 (or less) checks every append, which suits a backend that
	// counts a table for free; more spreads the cost of counting.
	AuditTrimEvery int
}

// Store implements every method of tokens.Store except Ping and Close,
// which are the backend's: a backend embeds it.
type Store struct {
	b         Backend
	sealer    record.Sealer
	now       func() time.Time
	auditKeep int
	trimEvery int64
	appended  atomic.Int64 // audit entries written, for AuditTrimEvery
}

// New returns the Store of backend b.
func New(b Backend, opts Options) *Store {
	s := &Store{b: b, sealer: opts.Sealer, now: opts.Now, auditKeep: opts.AuditRetention, trimEvery: int64(max(opts.AuditTrimEvery, 1))}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

func (s *Store) nowUTC() time.Time { return s.now().UTC() }

// view runs fn in a read transaction.
func (s *Store) view(ctx context.Context, fn func(Tx) error) error { return s.b.View(ctx, fn) }

// update runs fn in a write transaction.
func (s *Store) update(ctx context.Context, fn func(Tx) error) error { return s.b.Update(ctx, fn) }

// forEachChunk is how many records ForEachMCPServer reads per transaction.
const forEachChunk = 512

// hashKey is the index key of a token hash.
func hashKey(h [32]byte) string { return string(h[:]) }

// childPrefix is the index prefix of a parent's children: parent id + NUL
// (IDs hold no NUL, so one parent's prefix is never another's).
func childPrefix(parentID string) string { return parentID + "\x00" }

// page reads, in one transaction, at most limit keys of t that start with
// prefix and come after prefix+after (after "" for the first), turning
// each into a T with the key less its prefix; it reports whether more
// follow. Index tables are read keys only, each record loaded by each.
func page[T any](ctx context.Context, s *Store, t Table, prefix, after string, limit int, keysOnly bool, each func(tx Tx, id string, v []byte) (T, error)) ([]T, bool, error) {
	if err := record.CheckLimit(limit); err != nil {
		return nil, false, err
	}
	var out []T
	var more bool
	err := s.view(ctx, func(tx Tx) error {
		out = nil
		r := Prefix(prefix)
		if after != "" {
			r.Start = prefix + after + "\x00" // the first key after prefix+after
		}
		r.Limit, r.KeysOnly = limit, keysOnly
		var err error
		more, err = tx.Scan(t, r, func(k string, v []byte) error {
			x, err := each(tx, strings.TrimPrefix(k, prefix), v)
			if err == nil {
				out = append(out, x)
			}
			return err
		})
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return out, more, nil
}

// records is page over a record table, decoding each value.
func records[T any](ctx context.Context, s *Store, t Table, after string, limit int, decode func(id string, v []byte) (T, error)) ([]T, bool, error) {
	return page(ctx, s, t, "", after, limit, false, func(_ Tx, id string, v []byte) (T, error) { return decode(id, v) })
}

// children lists the records an index names under parentID's prefix,
// each loaded with get in the same transaction.
func children[T any](ctx context.Context, s *Store, t Table, parentID, after string, limit int, get func(tx Tx, id string) (T, error)) ([]T, bool, error) {
	return page(ctx, s, t, childPrefix(parentID), after, limit, true, func(tx Tx, id string, _ []byte) (T, error) { return get(tx, id) })
}

// childIDs returns every child ID under parentID's prefix in t.
func childIDs(tx Tx, t Table, parentID string) ([]string, error) {
	prefix := childPrefix(parentID)
	r := Prefix(prefix)
	r.KeysOnly = true
	var ids []string
	_, err := tx.Scan(t, r, func(k string, _ []byte) error {
		ids = append(ids, k[len(prefix):])
		return nil
	})
	return ids, err
}

// getRecord reads one record of t and decodes it (ErrNotFound, naming
// kind, when there is none).
func getRecord[T any](tx Tx, t Table, kind, id string, decode func(id string, v []byte) (T, error)) (T, error) {
	var zero T
	buf, err := tx.Get(t, id)
	if err != nil {
		return zero, err
	}
	if buf == nil {
		return zero, record.NotFound(kind, id)
	}
	return decode(id, buf)
}

// byHash reads the record an index of hashes names (ErrNotFound, not
// naming the hash, when there is none).
func byHash[T any](tx Tx, index Table, kind string, h [32]byte, get func(tx Tx, id string) (T, error)) (T, error) {
	var zero T
	id, err := tx.Get(index, hashKey(h))
	if err != nil {
		return zero, err
	}
	if id == nil {
		return zero, record.NotFound(kind, "")
	}
	return get(tx, string(id))
}

// viewOne runs get in a read transaction and returns what it found.
func viewOne[T any](ctx context.Context, s *Store, get func(tx Tx) (T, error)) (T, error) {
	var out T
	err := s.view(ctx, func(tx Tx) error {
		var err error
		out, err = get(tx)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}
