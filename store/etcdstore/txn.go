package etcdstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/bigin-mcp/bigin-mcp/store/internal/kv"
)

// maxAttempts bounds how often a transaction is retried after another
// writer changed what it read.
const maxAttempts = 1000

// keyForm is how a table's keys are written in etcd: as they are, as hex
// (token hashes: no key name holds raw bytes), or as the hex SHA-256 of
// the key (cache keys name domains and ACME challenge tokens; they cannot
// be listed back).
type keyForm uint8

const (
	plain keyForm = iota
	hexed
	hashed
)

// layout is where each table lives under the prefix (the package
// comment's key layout).
var layout = [kv.NumTables]struct {
	dir  string
	form keyForm
}{
	kv.Accounts:         {"r/a/", plain},
	kv.Servers:          {"r/s/", plain},
	kv.ServerHashes:     {"i/sh/", hexed},
	kv.ServersByAccount: {"i/sa/", plain},
	kv.APITokens:        {"t/", plain},
	kv.APITokenHashes:   {"i/th/", hexed},
	kv.Links:            {"l/", plain},
	kv.LinkHashes:       {"i/lh/", hexed},
	kv.Audit:            {"audit/", plain},
	kv.Cache:            {"cache/", hashed},
	kv.OAuthClients:     {"oc/", plain},
	kv.OAuthGrants:      {"og/", plain},
	kv.GrantHashes:      {"i/gh/", hexed},
	kv.GrantsByServer:   {"i/gs/", plain},
	kv.AuditByAccount:   {"i/aa/", plain},
	kv.IdempotencyKeys:  {"ik/", hexed},
}

// dir is the key prefix of table tb.
func (s *Store) dir(tb kv.Table) string { return s.p + layout[tb].dir }

// key is the etcd key of key in tb. Hex keeps the order of keys.
func (s *Store) key(tb kv.Table, key string) string {
	switch layout[tb].form {
	case hexed:
		return s.dir(tb) + hex.EncodeToString([]byte(key))
	case hashed:
		h := sha256.Sum256([]byte(key))
		return s.dir(tb) + hex.EncodeToString(h[:])
	}
	return s.dir(tb) + key
}

// unkey is the table key of an etcd key of tb.
func (s *Store) unkey(tb kv.Table, k string) (string, error) {
	k = k[len(s.dir(tb)):]
	switch layout[tb].form {
	case hexed:
		b, err := hex.DecodeString(k)
		return string(b), err
	case hashed:
		return "", fmt.Errorf("etcdstore: the keys of %s are hashed; they cannot be listed", tb)
	}
	return k, nil
}

// bounds is the etcd range of r in tb.
func (s *Store) bounds(tb kv.Table, start, end string) (string, string) {
	if end == "" {
		return s.key(tb, start), prefixEnd(s.dir(tb))
	}
	return s.key(tb, start), s.key(tb, end)
}

// backend runs the Store's transactions on etcd.
type backend struct{ s *Store }

// View runs fn on one snapshot: the first read is linearizable and fixes
// the revision every later read is made at.
func (b backend) View(ctx context.Context, fn func(kv.Tx) error) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := fn(b.s.newTxn(ctx, true, true))
		if errors.Is(err, rpctypes.ErrCompacted) {
			continue // the snapshot revision was compacted under us
		}
		return err
	}
}

// Update runs fn as an optimistic transaction, like etcd's STM: reads at
// one revision, writes buffered, and a commit that succeeds only if
// nothing it read changed since; otherwise fn runs again from scratch.
func (b backend) Update(ctx context.Context, fn func(kv.Tx) error) error {
	careful := false
	for range maxAttempts {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := b.s.newTxn(ctx, false, careful)
		err := fn(t)
		if errors.Is(err, rpctypes.ErrCompacted) {
			continue
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

// Batch hands fn to the batcher (batch.go), which commits the functions
// that arrive together in one transaction.
func (b backend) Batch(ctx context.Context, fn func(kv.Tx) error) error {
	return b.s.batch.do(ctx, fn)
}

// txn is one optimistic transaction (a kv.Tx). Reads see its own writes
// except Scan and Count, which read etcd only.
type txn struct {
	s        *Store
	ctx      context.Context
	readOnly bool
	// careful makes Has read keys instead of assuming them absent (set
	// after a conflict, to find out which key is taken).
	careful bool
	rev     int64            // the snapshot's revision (0: nothing read yet)
	cmp     map[string]int64 // key → ModRevision it must still have (0: absent)
	vals    map[string][]byte
	ranges  [][2]string // [start, end): no key in it may change
	writes  map[string]*string
	order   []string
	dels    [][2]string // ranges deleted, [start, end)
}

func (s *Store) newTxn(ctx context.Context, readOnly, careful bool) *txn {
	return &txn{s: s, ctx: ctx, readOnly: readOnly, careful: careful,
		cmp: map[string]int64{}, vals: map[string][]byte{}, writes: map[string]*string{}}
}

func (t *txn) snapshot() []clientv3.OpOption {
	if t.rev == 0 {
		return nil // the first read is linearizable and fixes the revision
	}
	return []clientv3.OpOption{clientv3.WithRev(t.rev)}
}

// own reports what this transaction wrote at k: known is false when it
// wrote nothing there.
func (t *txn) own(k string) (v []byte, exists, known bool) {
	if w, ok := t.writes[k]; ok {
		if w == nil {
			return nil, false, true
		}
		return []byte(*w), true, true
	}
	for _, d := range t.dels {
		if d[0] <= k && k < d[1] {
			return nil, false, true
		}
	}
	return nil, false, false
}

// read reads k at the snapshot.
func (t *txn) read(k string) ([]byte, error) {
	resp, err := t.s.c.Get(t.ctx, k, t.snapshot()...)
	if err != nil {
		return nil, wrap(t.ctx, err)
	}
	if t.rev == 0 {
		t.rev = resp.Header.Revision
	}
	var v []byte
	var rev int64
	if len(resp.Kvs) > 0 {
		v, rev = resp.Kvs[0].Value, resp.Kvs[0].ModRevision
	}
	t.cmp[k], t.vals[k] = rev, v
	return v, nil
}

func (t *txn) Get(tb kv.Table, key string) ([]byte, error) {
	k := t.s.key(tb, key)
	if v, _, known := t.own(k); known {
		return v, nil
	}
	if v, ok := t.vals[k]; ok {
		return v, nil
	}
	if rev, ok := t.cmp[k]; ok && rev == 0 {
		return nil, nil // assumed absent; the commit checks it
	}
	return t.read(k)
}

// Has reports whether key exists. On a first attempt it assumes a key it
// has not read is absent, without a read, and the commit checks it (a
// bulk create then costs one round trip, not one per key); after a
// conflict it reads.
func (t *txn) Has(tb kv.Table, key string) (bool, error) {
	k := t.s.key(tb, key)
	if _, exists, known := t.own(k); known {
		return exists, nil
	}
	if rev, ok := t.cmp[k]; ok {
		return rev != 0, nil
	}
	if !t.careful {
		t.cmp[k] = 0
		return false, nil
	}
	_, err := t.read(k)
	return t.cmp[k] != 0, err
}

// Scan reads r at the snapshot in one request. Unless r is Unchecked, the
// commit checks every key it returned and that no key appeared in the
// part of r it covered.
func (t *txn) Scan(tb kv.Table, r kv.Range, fn func(key string, value []byte) error) (bool, error) {
	start, end := t.s.bounds(tb, r.Start, r.End)
	order := clientv3.SortAscend
	if r.Reverse {
		order = clientv3.SortDescend
	}
	opts := append(t.snapshot(), clientv3.WithRange(end), clientv3.WithSort(clientv3.SortByKey, order))
	if r.Limit > 0 {
		opts = append(opts, clientv3.WithLimit(int64(r.Limit)))
	}
	if r.KeysOnly {
		opts = append(opts, clientv3.WithKeysOnly())
	}
	resp, err := t.s.c.Get(t.ctx, start, opts...)
	if err != nil {
		return false, wrap(t.ctx, err)
	}
	if t.rev == 0 {
		t.rev = resp.Header.Revision
	}
	if !r.Unchecked && !t.readOnly {
		// Only the part read is checked: a key that appears past the
		// last one read when more followed changes nothing read.
		covered := [2]string{start, end}
		if n := len(resp.Kvs); resp.More && n > 0 {
			last := string(resp.Kvs[n-1].Key)
			if r.Reverse {
				covered[0] = last
			} else {
				covered[1] = last + "\x00"
			}
		}
		t.ranges = append(t.ranges, covered)
		for _, x := range resp.Kvs {
			if _, ok := t.cmp[string(x.Key)]; !ok {
				t.cmp[string(x.Key)] = x.ModRevision
			}
		}
	}
	for _, x := range resp.Kvs {
		key, err := t.s.unkey(tb, string(x.Key))
		if err != nil {
			return false, err
		}
		if err := fn(key, x.Value); err != nil {
			if errors.Is(err, kv.ErrStopScan) {
				return true, nil
			}
			return false, err
		}
	}
	return resp.More, nil
}

// Count counts the keys of tb at the snapshot, unchecked.
func (t *txn) Count(tb kv.Table) (int, error) {
	start, end := t.s.bounds(tb, "", "")
	resp, err := t.s.c.Get(t.ctx, start, append(t.snapshot(), clientv3.WithRange(end), clientv3.WithCountOnly())...)
	if err != nil {
		return 0, wrap(t.ctx, err)
	}
	if t.rev == 0 {
		t.rev = resp.Header.Revision
	}
	return int(resp.Count), nil
}

func (t *txn) write(k string, v *string) error {
	if t.readOnly {
		return kv.ErrReadOnly
	}
	if _, ok := t.writes[k]; !ok {
		t.order = append(t.order, k)
	}
	t.writes[k] = v
	return nil
}

func (t *txn) Put(tb kv.Table, key string, value []byte) error {
	v := string(value)
	return t.write(t.s.key(tb, key), &v)
}

func (t *txn) Delete(tb kv.Table, key string) error {
	return t.write(t.s.key(tb, key), nil)
}

// DeleteRange is one etcd range delete: its keys count as one operation
// against --max-txn-ops.
func (t *txn) DeleteRange(tb kv.Table, start, end string) error {
	if t.readOnly {
		return kv.ErrReadOnly
	}
	s, e := t.s.bounds(tb, start, end)
	for k, v := range t.writes {
		if v != nil && s <= k && k < e {
			t.writes[k] = nil // written earlier, deleted now
		}
	}
	t.dels = append(t.dels, [2]string{s, e})
	return nil
}

// commit writes everything if nothing read changed; false means retry.
func (t *txn) commit() (bool, error) {
	if len(t.order) == 0 && len(t.dels) == 0 {
		return true, nil
	}
	cmps := make([]clientv3.Cmp, 0, len(t.cmp)+len(t.ranges))
	for k, rev := range t.cmp {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", rev))
	}
	for _, r := range t.ranges {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(r[0]).WithRange(r[1]), "<", t.rev+1))
	}
	ops := make([]clientv3.Op, 0, len(t.order)+len(t.dels))
	var puts []string
	for _, k := range t.order {
		if v := t.writes[k]; v != nil {
			ops = append(ops, clientv3.OpPut(k, *v))
			puts = append(puts, k)
		} else {
			ops = append(ops, clientv3.OpDelete(k))
		}
	}
	// etcd refuses a put inside a range the same transaction deletes: a
	// key put after its range was deleted splits the range around it.
	slices.Sort(puts)
	for _, d := range t.dels {
		from := d[0]
		i, _ := slices.BinarySearch(puts, d[0])
		for ; i < len(puts) && puts[i] < d[1]; i++ {
			if from < puts[i] {
				ops = append(ops, clientv3.OpDelete(from, clientv3.WithRange(puts[i])))
			}
			from = puts[i] + "\x00"
		}
		if from < d[1] {
			ops = append(ops, clientv3.OpDelete(from, clientv3.WithRange(d[1])))
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
