package kv

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// The audit table is keyed by entry ID. IDs are uuid v7 (time-ordered,
// and monotonic within one process), so key order is time order, and the
// oldest entries are the first keys.

// putNewAudit fills e's ID when empty and stores it.
func putNewAudit(tx Tx, e *tokens.AuditEntry) error {
	if e.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		e.ID = id.String()
	}
	buf, err := record.EncodeAudit(e)
	if err != nil {
		return err
	}
	return tx.Put(Audit, e.ID, buf)
}

// trimDue counts n appends and reports whether a retention check is due
// with them (Options.AuditTrimEvery).
func (s *Store) trimDue(n int) bool {
	if s.auditKeep <= 0 {
		return false
	}
	if s.trimEvery <= 1 {
		return true
	}
	after := s.appended.Add(int64(n))
	return after/s.trimEvery != (after-int64(n))/s.trimEvery
}

// trimAudit deletes the oldest entries beyond the retention bound. It is
// right whatever others write meanwhile (two stores trimming at once
// delete the same first keys), so it reads unchecked and never makes
// the appends it rides with conflict.
func (s *Store) trimAudit(tx Tx) error {
	n, err := tx.Count(Audit)
	if err != nil {
		return err
	}
	excess := n - s.auditKeep
	if excess <= 0 {
		return nil
	}
	var last string
	if _, err := tx.Scan(Audit, Range{Limit: excess, KeysOnly: true, Unchecked: true}, func(k string, _ []byte) error {
		last = k
		return nil
	}); err != nil || last == "" {
		return err
	}
	return tx.DeleteRange(Audit, "", last+"\x00")
}

// AppendAudit records one entry, filling e.ID (a uuid v7) and e.Time when
// empty, and returns once it is committed. Appends that arrive together
// share a transaction (Backend.Batch), so auditing every tool call stays
// cheap. IDs set by the caller should be uuid v7 too, since entries are
// ordered by ID. Only the newest Options.AuditRetention entries are kept;
// age is the sweeper's to enforce, through DeleteAuditBefore.
func (s *Store) AppendAudit(ctx context.Context, e *tokens.AuditEntry) error {
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
	if err := record.CheckID("audit entry", e.ID); err != nil {
		return err
	}
	if e.Time.IsZero() {
		e.Time = s.nowUTC()
	}
	buf, err := record.EncodeAudit(e)
	if err != nil {
		return err
	}
	trim := s.trimDue(1)
	return s.b.Batch(ctx, func(tx Tx) error {
		if err := tx.Put(Audit, e.ID, buf); err != nil {
			return err
		}
		if trim {
			return s.trimAudit(tx)
		}
		return nil
	})
}

// Audit lists entries newest first: those with an ID before `before`
// ("" for the newest), at most limit, and reports whether older ones
// follow.
func (s *Store) Audit(ctx context.Context, before string, limit int) ([]*tokens.AuditEntry, bool, error) {
	if err := record.CheckLimit(limit); err != nil {
		return nil, false, err
	}
	var out []*tokens.AuditEntry
	var more bool
	err := s.view(ctx, func(tx Tx) error {
		out = nil
		var err error
		more, err = tx.Scan(Audit, Range{End: before, Limit: limit, Reverse: true}, func(k string, v []byte) error {
			e, err := record.DecodeAudit(k, v)
			if err == nil {
				out = append(out, e)
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

// auditDeleteBatch is how many entries one transaction of
// DeleteAuditBefore reads and deletes at most, so that a first sweep over
// a long log neither holds a writer for long nor sends a large request.
const auditDeleteBatch = 1000

// auditTime is the one field DeleteAuditBefore decodes of an entry.
type auditTime struct {
	Time time.Time `json:"time"`
}

// DeleteAuditBefore deletes the entries whose Time is before t, oldest
// first, stopping at the first entry that is not before t (entries are
// appended in time order), and returns how many it deleted. Each
// transaction deletes at most auditDeleteBatch entries as one range. Its
// reads are unchecked (deleting is idempotent, so stores sweeping at
// once agree): an entry a store with a lagging clock appends inside the
// range meanwhile goes with it, at most seconds around the boundary.
func (s *Store) DeleteAuditBefore(ctx context.Context, t time.Time) (int, error) {
	total := 0
	for {
		n, done := 0, false
		err := s.update(ctx, func(tx Tx) error {
			n, done = 0, false
			var last string
			more, err := tx.Scan(Audit, Range{Limit: auditDeleteBatch, Unchecked: true}, func(k string, v []byte) error {
				var e auditTime
				if err := json.Unmarshal(v, &e); err != nil {
					return fmt.Errorf("decode audit entry %q: %w", k, err)
				}
				if !e.Time.Before(t) {
					done = true
					return ErrStopScan
				}
				last, n = k, n+1
				return nil
			})
			if err != nil {
				return err
			}
			done = done || !more
			if n == 0 {
				return nil
			}
			return tx.DeleteRange(Audit, "", last+"\x00")
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
