package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// The audit bucket is keyed by entry ID. IDs are uuid v7 (time-ordered, and
// monotonic within one process), so key order is time order. The bucket's
// sequence counter holds the number of entries, so retention trims without
// counting.

// putAudit stores e inside tx and trims the oldest entries beyond the
// retention bound.
func (db *DB) putAudit(tx *bolt.Tx, e *tokens.AuditEntry) error {
	b := tx.Bucket(bucketAudit)
	key := []byte(e.ID)
	n := b.Sequence()
	if b.Get(key) == nil {
		n++
	}
	if err := putJSON(b, key, e); err != nil {
		return err
	}
	if db.auditKeep > 0 {
		c := b.Cursor()
		for ; n > uint64(db.auditKeep); n-- {
			k, _ := c.First()
			if k == nil {
				n = 0
				break
			}
			if err := c.Delete(); err != nil {
				return err
			}
		}
	}
	return b.SetSequence(n)
}

// AppendAudit records one entry. Concurrent appends are batched into few
// transactions (bbolt's Batch) so that auditing every tool call stays cheap;
// each call still returns only once its entry is committed. It fills e.ID
// with a new uuid v7 and e.Time from the clock when they are empty. IDs set
// by the caller should be uuid v7 too, since entries are ordered by ID.
// Only the newest Options.AuditRetention entries are kept (1,000,000 by
// default); older ones are trimmed as new ones arrive. Age is the
// sweeper's to enforce, through DeleteAuditBefore.
func (db *DB) AppendAudit(ctx context.Context, e *tokens.AuditEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		e.ID = id.String()
	}
	if err := checkID("audit entry", e.ID); err != nil {
		return err
	}
	if e.Time.IsZero() {
		e.Time = db.nowUTC()
	}
	c := *e
	// Batch may run the function more than once; it is idempotent.
	return db.bolt.Batch(func(tx *bolt.Tx) error { return db.putAudit(tx, &c) })
}

// Audit lists audit entries newest first: those with an ID before `before`
// (exclusive; "" = from the newest), at most limit, and reports whether
// older ones follow.
func (db *DB) Audit(ctx context.Context, before string, limit int) ([]*tokens.AuditEntry, bool, error) {
	if err := checkLimit(limit); err != nil {
		return nil, false, err
	}
	var out []*tokens.AuditEntry
	more := false
	err := db.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		var k, v []byte
		if before == "" {
			k, v = c.Last()
		} else if k, _ = c.Seek([]byte(before)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil; k, v = c.Prev() {
			if len(out) == limit {
				more = true
				return nil
			}
			var e tokens.AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode audit entry %q: %w", k, err)
			}
			out = append(out, &e)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, more, nil
}

// auditDeleteBatch is how many entries one transaction of
// DeleteAuditBefore deletes at most, so that a first sweep over a long
// log does not hold the writer for long.
const auditDeleteBatch = 1000

// auditTime is the one field DeleteAuditBefore decodes of an entry.
type auditTime struct {
	Time time.Time `json:"time"`
}

// DeleteAuditBefore deletes the entries whose Time is before t, oldest
// first, stopping at the first entry that is not before t (entries are
// appended in time order). It commits every auditDeleteBatch entries.
func (db *DB) DeleteAuditBefore(ctx context.Context, t time.Time) (int, error) {
	total := 0
	for {
		n, done := 0, false
		err := db.update(ctx, func(tx *bolt.Tx) error {
			n, done = 0, false
			b := tx.Bucket(bucketAudit)
			c := b.Cursor()
			for k, v := c.First(); ; k, v = c.First() {
				if k == nil {
					done = true
					break
				}
				var e auditTime
				if err := json.Unmarshal(v, &e); err != nil {
					return fmt.Errorf("decode audit entry %q: %w", k, err)
				}
				if !e.Time.Before(t) {
					done = true
					break
				}
				if n == auditDeleteBatch {
					break
				}
				if err := c.Delete(); err != nil {
					return err
				}
				n++
			}
			if seq := b.Sequence(); n > 0 {
				return b.SetSequence(seq - min(seq, uint64(n)))
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if done {
			return total, nil
		}
	}
}
