package etcdstore

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Audit entries live in etcd under audit/, keyed by their uuid v7 ID (so
// key order is time order), and never grow without bound: once every
// trimEvery appends, the writer counts them and deletes the oldest beyond
// the retention bound. Appends that arrive together are written in one
// etcd transaction, so auditing every tool call costs one Raft round per
// batch rather than per call.

// maxBatch bounds the puts of one audit transaction (etcd's --max-txn-ops
// defaults to 128).
const maxBatch = 100

// trimEvery is how many appends pass between two retention checks.
const trimEvery = 500

type auditReq struct {
	ctx  context.Context
	e    *tokens.AuditEntry
	done chan error
}

// auditBatcher writes appends in batches from one goroutine.
type auditBatcher struct {
	s       *Store
	reqs    chan auditReq
	stop    chan struct{}
	stopped chan struct{}
	since   int // appends since the last trim
}

func newAuditBatcher(s *Store) *auditBatcher {
	b := &auditBatcher{s: s, reqs: make(chan auditReq, 1024), stop: make(chan struct{}), stopped: make(chan struct{})}
	go b.run()
	return b
}

// errClosed is returned by appends after Close.
var errClosed = errors.New("etcdstore: closed")

func (b *auditBatcher) run() {
	defer close(b.stopped)
	for {
		var batch []auditReq
		select {
		case r := <-b.reqs:
			batch = append(batch, r)
		case <-b.stop:
			for {
				select {
				case r := <-b.reqs:
					r.done <- errClosed
				default:
					return
				}
			}
		}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			default:
				break more
			}
		}
		b.write(batch)
	}
}

// write commits one batch; every caller gets the batch's outcome, except
// those whose context already ended, which get their own error.
func (b *auditBatcher) write(batch []auditReq) {
	ops := make([]clientv3.Op, 0, len(batch))
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		enc, err := record.EncodeAudit(r.e)
		if err != nil {
			r.done <- err
			continue
		}
		ops = append(ops, clientv3.OpPut(b.s.auditKey(r.e.ID), string(enc)))
		live = append(live, r)
	}
	if len(ops) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, err := b.s.c.Txn(ctx).Then(ops...).Commit()
	cancel()
	if err != nil {
		err = wrap(context.Background(), err)
	}
	for _, r := range live {
		r.done <- err
	}
	if err == nil {
		b.since += len(live)
		if b.since >= trimEvery && b.s.auditKeep > 0 {
			b.since = 0
			if terr := b.s.trimAudit(); terr != nil {
				b.s.logger.Warn("trim the audit log", "err", terr)
			}
		}
	}
}

func (b *auditBatcher) close() {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	<-b.stopped
}

// trimAudit deletes the oldest entries beyond the retention bound.
// Replicas trimming at once delete the same keys: deleting is idempotent.
func (s *Store) trimAudit() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prefix := s.p + "audit/"
	cnt, err := s.c.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return err
	}
	excess := cnt.Count - int64(s.auditKeep)
	if excess <= 0 {
		return nil
	}
	// The key of the newest entry to drop bounds the range deleted.
	last, err := s.c.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly(),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend), clientv3.WithLimit(excess),
		clientv3.WithRev(cnt.Header.Revision))
	if err != nil || len(last.Kvs) == 0 {
		return err
	}
	end := string(last.Kvs[len(last.Kvs)-1].Key) + "\x00"
	_, err = s.c.Delete(ctx, prefix, clientv3.WithRange(end))
	return err
}

// AppendAudit records one entry, filling e.ID (uuid v7) and e.Time when
// empty, and returns once it is committed. Only the newest
// Options.AuditRetention entries are kept.
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
	c := *e
	r := auditReq{ctx: ctx, e: &c, done: make(chan error, 1)}
	select {
	case s.audit.reqs <- r:
	case <-s.audit.stop:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Audit lists entries newest first, those with an ID before `before`.
func (s *Store) Audit(ctx context.Context, before string, limit int) ([]*tokens.AuditEntry, bool, error) {
	if err := record.CheckLimit(limit); err != nil {
		return nil, false, err
	}
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	prefix := s.p + "audit/"
	end := prefixEnd(prefix)
	if before != "" {
		end = prefix + before
	}
	resp, err := s.c.Get(ctx, prefix, clientv3.WithRange(end),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend), clientv3.WithLimit(int64(limit)))
	if err != nil {
		return nil, false, wrap(ctx, err)
	}
	out := make([]*tokens.AuditEntry, 0, len(resp.Kvs))
	for _, x := range resp.Kvs {
		e, err := record.DecodeAudit(string(x.Key[len(prefix):]), x.Value)
		if err != nil {
			return nil, false, err
		}
		out = append(out, e)
	}
	return out, resp.More, nil
}

// auditDeleteBatch bounds how many entries one DeleteAuditBefore pass reads
// and deletes.
const auditDeleteBatch = 500

// DeleteAuditBefore deletes the entries whose Time is before t, oldest
// first (keys are uuid v7, so key order is time order), in passes of at
// most auditDeleteBatch entries, each one range delete; it stops at the
// first entry that is not before t and returns how many it deleted.
// Replicas deleting at once delete the same keys: deleting is idempotent.
func (s *Store) DeleteAuditBefore(ctx context.Context, t time.Time) (int, error) {
	prefix := s.p + "audit/"
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		resp, err := s.c.Get(ctx, prefix, clientv3.WithPrefix(),
			clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend), clientv3.WithLimit(auditDeleteBatch))
		if err != nil {
			return total, wrap(ctx, err)
		}
		n, done := 0, len(resp.Kvs) == 0
		var last string
		for _, x := range resp.Kvs {
			e, err := record.DecodeAudit(string(x.Key[len(prefix):]), x.Value)
			if err != nil {
				return total, err
			}
			if !e.Time.Before(t) {
				done = true
				break
			}
			last, n = string(x.Key), n+1
		}
		if n > 0 {
			// The range from the first key to last. Entries are appended in
			// time order; one a replica with a lagging clock appends inside
			// the range meanwhile goes with it, at most seconds around the
			// retention boundary.
			if _, err := s.c.Delete(ctx, prefix, clientv3.WithRange(last+"\x00")); err != nil {
				return total, wrap(ctx, err)
			}
			total += n
		}
		if done || !resp.More {
			return total, nil
		}
	}
}
