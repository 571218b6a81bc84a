package kv

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// The audit table is keyed by entry ID. IDs are uuid v7 (time-ordered,
// and monotonic within one process), so key order is time order, and the
// oldest entries are the first keys. AuditByAccount indexes the entries
// by account (account ID \x00 entry ID; "" for the entries of no
// account), so each account's entries can be counted and its oldest
// trimmed (Options.AuditPerAccount) without reading anyone else's.
// Entries written before the index existed are not in it: they age out
// with the log's retention. Index keys of entries that the global bound
// trimmed are trimmed as their account's oldest in turn.

// auditAccountKey is the AuditByAccount key of an entry.
func auditAccountKey(accountID, entryID string) string { return childPrefix(accountID) + entryID }

// accountTrims decides when an account's entries are counted against
// the bound per account: every `every` appends of that account in this
// process.
type accountTrims struct {
	keep, every int

	mu       sync.Mutex
	appended map[string]int // per account, since its last check
}

// due counts an append of account's and reports whether its bound is to
// be checked now.
func (a *accountTrims) due(account string) bool {
	if a.keep <= 0 {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.appended[account]++
	if a.appended[account] < a.every {
		return false
	}
	delete(a.appended, account)
	return true
}

// redo marks account's check due again at its next append (a check that
// failed).
func (a *accountTrims) redo(account string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.appended[account] = a.every
}

// auditTrimBatch is how many entries one transaction of trimAccount
// deletes at most: each is a key of its own (etcd's --max-txn-ops
// defaults to 128).
const auditTrimBatch = 100

// trimAccount deletes the oldest entries of account beyond the bound per
// account, auditTrimBatch per transaction. Like trimAudit it reads
// unchecked: stores trimming one account at once delete the same oldest
// keys.
func (s *Store) trimAccount(ctx context.Context, account string) error {
	prefix := childPrefix(account)
	r := Prefix(prefix)
	r.KeysOnly, r.Unchecked = true, true
	count := func(tx Tx) (int, error) {
		n := 0
		_, err := tx.Scan(AuditByAccount, r, func(string, []byte) error { n++; return nil })
		return n, err
	}
	// Counted first in a read transaction: most checks find nothing to
	// trim and need not take the writer.
	n, err := viewOne(ctx, s, count)
	if err != nil || n <= s.accounts.keep {
		return err
	}
	for {
		done := false
		err := s.update(ctx, func(tx Tx) error {
			done = false
			n, err := count(tx)
			if err != nil {
				return err
			}
			excess := n - s.accounts.keep
			if excess <= 0 {
				done = true
				return nil
			}
			oldest := r
			oldest.Limit = min(excess, auditTrimBatch)
			var ids []string
			if _, err := tx.Scan(AuditByAccount, oldest, func(k string, _ []byte) error {
				ids = append(ids, k[len(prefix):])
				return nil
			}); err != nil || len(ids) == 0 {
				return err
			}
			for _, id := range ids {
				if err := tx.Delete(Audit, id); err != nil {
					return err
				}
			}
			done = excess <= auditTrimBatch
			return tx.DeleteRange(AuditByAccount, prefix, prefix+ids[len(ids)-1]+"\x00")
		})
		if err != nil || done {
			return err
		}
	}
}

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
	return putAudit(tx, e, buf)
}

// putAudit stores an entry encoded as buf, with its index key.
func putAudit(tx Tx, e *tokens.AuditEntry, buf []byte) error {
	if err := tx.Put(Audit, e.ID, buf); err != nil {
		return err
	}
	return tx.Put(AuditByAccount, auditAccountKey(e.AccountID, e.ID), nil)
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
// ordered by ID. Only the newest Options.AuditRetention entries are kept,
// and the newest Options.AuditPerAccount of each account (checked after
// the append has committed, every AuditAccountTrimEvery appends of the
// account); age is the sweeper's to enforce, through DeleteAuditBefore.
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
	err = s.b.Batch(ctx, func(tx Tx) error {
		if err := putAudit(tx, e, buf); err != nil {
			return err
		}
		if trim {
			return s.trimAudit(tx)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The entry is committed: a trim that fails is tried again at the
	// account's next append rather than reported as a failed append.
	if s.accounts.due(e.AccountID) {
		if err := s.trimAccount(context.WithoutCancel(ctx), e.AccountID); err != nil {
			s.accounts.redo(e.AccountID)
		}
	}
	return nil
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

// auditTime is what DeleteAuditBefore decodes of an entry.
type auditTime struct {
	Time      time.Time `json:"time"`
	AccountID string    `json:"account_id"`
}

// auditDeleteAccounts is how many accounts' index ranges one transaction
// of DeleteAuditBefore deletes at most (one delete each).
const auditDeleteAccounts = 100

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
			lastOf := map[string]string{} // account → its last entry deleted
			more, err := tx.Scan(Audit, Range{Limit: auditDeleteBatch, Unchecked: true}, func(k string, v []byte) error {
				var e auditTime
				if err := json.Unmarshal(v, &e); err != nil {
					return fmt.Errorf("decode audit entry %q: %w", k, err)
				}
				if !e.Time.Before(t) {
					done = true
					return ErrStopScan
				}
				if _, seen := lastOf[e.AccountID]; !seen && len(lastOf) == auditDeleteAccounts {
					return ErrStopScan // the rest in the next transaction
				}
				last, n, lastOf[e.AccountID] = k, n+1, k
				return nil
			})
			if err != nil {
				return err
			}
			done = done || !more
			if n == 0 {
				return nil
			}
			// An account's entries up to its last one here are all
			// deleted (the oldest go first), so its index keys up to that
			// one go in one range.
			for account, id := range lastOf {
				p := childPrefix(account)
				if err := tx.DeleteRange(AuditByAccount, p, p+id+"\x00"); err != nil {
					return err
				}
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
