package store

import (
	"bytes"
	"context"
	"errors"

	bolt "go.etcd.io/bbolt"

	"github.com/bigin-mcp/bigin-mcp/store/internal/kv"
)

// backend runs the Store's transactions as bbolt transactions: one
// writer at a time, readers on a snapshot, every commit fsynced (unless
// Options.NoSync).
type backend struct{ db *bolt.DB }

func (b backend) View(ctx context.Context, fn func(kv.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.db.View(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (b backend) Update(ctx context.Context, fn func(kv.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.db.Update(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

// Batch is bbolt's Batch: concurrent calls share a transaction (and its
// fsync); a failing function is run again alone.
func (b backend) Batch(ctx context.Context, fn func(kv.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.db.Batch(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

// boltTx is a kv.Tx: a table is a bucket, a key its bytes. The audit
// bucket's sequence holds its number of entries, kept here on every put
// and delete, so Count(kv.Audit) costs nothing however long the log.
type boltTx struct{ tx *bolt.Tx }

func (t boltTx) bucket(tb kv.Table) *bolt.Bucket { return t.tx.Bucket(buckets[tb]) }

// counted reports whether tb's sequence is its number of keys.
func counted(tb kv.Table) bool { return tb == kv.Audit }

func (t boltTx) Get(tb kv.Table, key string) ([]byte, error) {
	return t.bucket(tb).Get([]byte(key)), nil
}

// has looks key up with a cursor: Get answers nil for an empty value
// written in the same transaction.
func has(b *bolt.Bucket, key []byte) bool {
	k, _ := b.Cursor().Seek(key)
	return k != nil && bytes.Equal(k, key)
}

func (t boltTx) Has(tb kv.Table, key string) (bool, error) {
	return has(t.bucket(tb), []byte(key)), nil
}

func (t boltTx) Scan(tb kv.Table, r kv.Range, fn func(key string, value []byte) error) (bool, error) {
	c := t.bucket(tb).Cursor()
	var k, v []byte
	next := c.Next
	inRange := func(k []byte) bool { return k != nil && (r.End == "" || string(k) < r.End) }
	switch {
	case r.Reverse:
		next = c.Prev
		inRange = func(k []byte) bool { return k != nil && string(k) >= r.Start }
		if r.End == "" {
			k, v = c.Last()
		} else if k, _ = c.Seek([]byte(r.End)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
	case r.Start == "":
		k, v = c.First()
	default:
		k, v = c.Seek([]byte(r.Start))
	}
	for n := 0; inRange(k); k, v = next() {
		if r.Limit > 0 && n == r.Limit {
			return true, nil
		}
		if r.KeysOnly {
			v = nil
		}
		if err := fn(string(k), v); err != nil {
			if errors.Is(err, kv.ErrStopScan) {
				return true, nil
			}
			return false, err
		}
		n++
	}
	return false, nil
}

func (t boltTx) Count(tb kv.Table) (int, error) {
	b := t.bucket(tb)
	if counted(tb) {
		return int(b.Sequence()), nil
	}
	return b.Stats().KeyN, nil
}

func (t boltTx) Put(tb kv.Table, key string, value []byte) error {
	b, k := t.bucket(tb), []byte(key)
	if counted(tb) && !has(b, k) {
		if err := b.SetSequence(b.Sequence() + 1); err != nil {
			return err
		}
	}
	return b.Put(k, value)
}

func (t boltTx) Delete(tb kv.Table, key string) error {
	b, k := t.bucket(tb), []byte(key)
	if counted(tb) && has(b, k) {
		if err := b.SetSequence(b.Sequence() - min(b.Sequence(), 1)); err != nil {
			return err
		}
	}
	return b.Delete(k)
}

func (t boltTx) DeleteRange(tb kv.Table, start, end string) error {
	b := t.bucket(tb)
	c := b.Cursor()
	n := uint64(0)
	// Seek again after each delete: a bbolt cursor's Next skips a key
	// after Delete.
	for k, _ := c.Seek([]byte(start)); k != nil && (end == "" || string(k) < end); k, _ = c.Seek([]byte(start)) {
		if err := c.Delete(); err != nil {
			return err
		}
		n++
	}
	if counted(tb) && n > 0 {
		return b.SetSequence(b.Sequence() - min(b.Sequence(), n))
	}
	return nil
}
