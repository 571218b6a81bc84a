package etcdstore

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/bigin-mcp/bigin-mcp/store/internal/kv"
)

// Audit entries are written through Batch: the appends that arrive
// together are committed in one etcd transaction, so auditing every tool
// call costs one Raft round per batch rather than per call. An append
// writes one key (and, every trimEvery appends, one range delete that
// trims the log), so a batch stays far below --max-txn-ops.

// maxBatch bounds the functions of one batch (etcd's --max-txn-ops
// defaults to 128).
const maxBatch = 100

// trimEvery is how many appends pass between two retention checks:
// counting the log is a range read over up to AuditRetention keys. (A
// variable so that a test can check retention without 500 appends.)
var trimEvery = 500

// batchTimeout bounds one batch's commit.
const batchTimeout = 10 * time.Second

type batchReq struct {
	ctx  context.Context
	fn   func(kv.Tx) error
	done chan error
}

// batcher commits batches from one goroutine.
type batcher struct {
	s       *Store
	reqs    chan batchReq
	stop    chan struct{}
	stopped chan struct{}
}

func newBatcher(s *Store) *batcher {
	b := &batcher{s: s, reqs: make(chan batchReq, 1024), stop: make(chan struct{}), stopped: make(chan struct{})}
	go b.run()
	return b
}

// errClosed is returned by batched writes after Close.
var errClosed = errors.New("etcdstore: closed")

// do queues fn and waits for its batch's outcome (or for ctx).
func (b *batcher) do(ctx context.Context, fn func(kv.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := batchReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case b.reqs <- r:
	case <-b.stop:
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

func (b *batcher) run() {
	defer close(b.stopped)
	for {
		var batch []batchReq
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

// errFailed stops a batch's transaction when one of its functions failed.
var errFailed = errors.New("etcdstore: a batched write failed")

// write commits one batch. Every caller gets the batch's outcome, except
// those whose context already ended, which get their own error, and a
// function that fails, which gets its error while the others are
// committed without it.
func (b *batcher) write(batch []batchReq) {
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		live = append(live, r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	for len(live) > 0 {
		failed, ferr := -1, error(nil)
		err := backend{b.s}.Update(ctx, func(t kv.Tx) error {
			for i, r := range live {
				if err := r.fn(t); err != nil {
					failed, ferr = i, err
					return errFailed
				}
			}
			return nil
		})
		if errors.Is(err, errFailed) {
			live[failed].done <- ferr
			live = slices.Delete(live, failed, failed+1)
			continue
		}
		for _, r := range live {
			r.done <- err
		}
		return
	}
}

func (b *batcher) close() {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	<-b.stopped
}
