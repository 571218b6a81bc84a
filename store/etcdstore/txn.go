package etcdstore

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// maxAttempts bounds how often a transaction is retried after another
// writer changed what it read.
const maxAttempts = 1000

// txn is one optimistic transaction: reads at one revision (the first
// read's), writes buffered, and a commit that succeeds only if nothing it
// read changed since. Reads see the transaction's own writes.
type txn struct {
	s      *Store
	ctx    context.Context
	rev    int64
	reads  map[string]int64 // key → ModRevision seen (0: absent)
	ranges [][2]string      // [start, end) ranges listed
	writes map[string]*string
	order  []string
	vals   map[string][]byte // values read, by key
	// careful makes absent read keys instead of assuming them absent
	// (set after a conflict, to find out which key is taken).
	careful bool
}

// update runs fn in a transaction, retrying it from scratch while another
// writer changes what it read. fn may run more than once.
func (s *Store) update(ctx context.Context, fn func(*txn) error) error {
	careful := false
	for range maxAttempts {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := &txn{s: s, ctx: ctx, reads: map[string]int64{}, writes: map[string]*string{}, vals: map[string][]byte{}, careful: careful}
		err := fn(t)
		if errors.Is(err, rpctypes.ErrCompacted) {
			continue // the snapshot revision was compacted under us
		}
		if err != nil {
			return err
		}
		ok, err := t.commit()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		careful = true
	}
	return errors.New("etcdstore: too much contention: the transaction kept conflicting")
}

// view runs fn on one snapshot.
func (s *Store) view(ctx context.Context, fn func(*txn) error) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := &txn{s: s, ctx: ctx, reads: map[string]int64{}, writes: map[string]*string{}, vals: map[string][]byte{}, careful: true}
		err := fn(t)
		if errors.Is(err, rpctypes.ErrCompacted) {
			continue
		}
		return err
	}
}

func (t *txn) snapshot() []clientv3.OpOption {
	if t.rev == 0 {
		return nil // the first read is linearizable and fixes the revision
	}
	return []clientv3.OpOption{clientv3.WithRev(t.rev)}
}

// get reads one key (nil when absent).
func (t *txn) get(key string) ([]byte, error) {
	if w, ok := t.writes[key]; ok {
		if w == nil {
			return nil, nil
		}
		return []byte(*w), nil
	}
	if _, ok := t.reads[key]; ok {
		return t.vals[key], nil
	}
	resp, err := t.s.c.Get(t.ctx, key, t.snapshot()...)
	if err != nil {
		return nil, wrap(t.ctx, err)
	}
	if t.rev == 0 {
		t.rev = resp.Header.Revision
	}
	if len(resp.Kvs) == 0 {
		t.reads[key] = 0
		return nil, nil
	}
	t.reads[key] = resp.Kvs[0].ModRevision
	t.vals[key] = resp.Kvs[0].Value
	return resp.Kvs[0].Value, nil
}

// absent reports whether key does not exist. On a first attempt it
// assumes so without a read, and the commit checks it (a bulk create then
// costs one round trip, not one per key); after a conflict it reads.
func (t *txn) absent(key string) (bool, error) {
	if !t.careful {
		if w, ok := t.writes[key]; ok {
			return w == nil, nil
		}
		if _, ok := t.reads[key]; !ok {
			t.reads[key] = 0
		}
		return t.vals[key] == nil, nil
	}
	buf, err := t.get(key)
	return buf == nil, err
}

// list reads keys in [start, end) in order, at most limit (0: all), and
// reports whether more follow. It does not see the transaction's own
// writes.
func (t *txn) list(start, end string, limit int64, keysOnly bool) ([]kv, bool, error) {
	opts := append(t.snapshot(), clientv3.WithRange(end), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if limit > 0 {
		opts = append(opts, clientv3.WithLimit(limit))
	}
	if keysOnly {
		opts = append(opts, clientv3.WithKeysOnly())
	}
	resp, err := t.s.c.Get(t.ctx, start, opts...)
	if err != nil {
		return nil, false, wrap(t.ctx, err)
	}
	if t.rev == 0 {
		t.rev = resp.Header.Revision
	}
	t.ranges = append(t.ranges, [2]string{start, end})
	out := make([]kv, len(resp.Kvs))
	for i, x := range resp.Kvs {
		out[i] = kv{key: string(x.Key), value: x.Value}
	}
	return out, resp.More, nil
}

// kv is one listed key.
type kv struct {
	key   string
	value []byte
}

func (t *txn) put(key string, value []byte) {
	v := string(value)
	if _, ok := t.writes[key]; !ok {
		t.order = append(t.order, key)
	}
	t.writes[key] = &v
}

func (t *txn) del(key string) {
	if _, ok := t.writes[key]; !ok {
		t.order = append(t.order, key)
	}
	t.writes[key] = nil
}

// commit writes everything if nothing read changed; false means retry.
func (t *txn) commit() (bool, error) {
	if len(t.order) == 0 {
		return true, nil
	}
	cmps := make([]clientv3.Cmp, 0, len(t.reads)+len(t.ranges))
	for k, rev := range t.reads {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", rev))
	}
	for _, r := range t.ranges {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(r[0]).WithRange(r[1]), "<", t.rev+1))
	}
	ops := make([]clientv3.Op, 0, len(t.order))
	for _, k := range t.order {
		if v := t.writes[k]; v != nil {
			ops = append(ops, clientv3.OpPut(k, *v))
		} else {
			ops = append(ops, clientv3.OpDelete(k))
		}
	}
	resp, err := t.s.c.Txn(t.ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return false, wrap(t.ctx, err)
	}
	return resp.Succeeded, nil
}

// wrap returns the context's error when it ended (so callers can test
// errors.Is(err, context.Canceled)), else err with where it came from.
func wrap(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return fmt.Errorf("etcd: %w", err)
}

// prefixEnd is the end of the range of keys starting with p.
func prefixEnd(p string) string { return clientv3.GetPrefixRangeEnd(p) }
