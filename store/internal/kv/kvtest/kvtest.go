// Package kvtest is the conformance suite of kv.Backend and kv.Tx: every
// backend (bbolt, etcd, memory) runs it, so that the Store rules, written
// once over Tx, mean the same on each.
package kvtest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/store/internal/kv"
)

// Factory returns a new, empty backend for one test.
type Factory func(t *testing.T) kv.Backend

// Run runs every case against backends that open makes.
func Run(t *testing.T, open Factory) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T, kv.Backend)
	}{
		{"GetPutDelete", testGetPutDelete},
		{"RollbackOnError", testRollback},
		{"ViewIsReadOnly", testViewIsReadOnly},
		{"Scan", testScan},
		{"CountAndDeleteRange", testCountAndDeleteRange},
		{"PutAfterDeleteRange", testPutAfterDeleteRange},
		{"BinaryKeys", testBinaryKeys},
		{"ConcurrentReadModifyWrite", testConcurrentReadModifyWrite},
		{"Batch", testBatch},
		{"CanceledContext", testCanceledContext},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

var ctx = context.Background()

// put commits key → value pairs (alternating) in one update.
func put(t *testing.T, b kv.Backend, tb kv.Table, kvs ...string) {
	t.Helper()
	require.NoError(t, b.Update(ctx, func(tx kv.Tx) error {
		for i := 0; i < len(kvs); i += 2 {
			if err := tx.Put(tb, kvs[i], []byte(kvs[i+1])); err != nil {
				return err
			}
		}
		return nil
	}))
}

// keys returns every key of tb in order.
func keys(t *testing.T, b kv.Backend, tb kv.Table) []string {
	t.Helper()
	var out []string
	require.NoError(t, b.View(ctx, func(tx kv.Tx) error {
		out = nil
		_, err := tx.Scan(tb, kv.Range{KeysOnly: true}, func(k string, _ []byte) error { out = append(out, k); return nil })
		return err
	}))
	return out
}

func get(t *testing.T, b kv.Backend, tb kv.Table, key string) (v []byte, ok bool) {
	t.Helper()
	require.NoError(t, b.View(ctx, func(tx kv.Tx) error {
		var err error
		if v, err = tx.Get(tb, key); err != nil {
			return err
		}
		ok, err = tx.Has(tb, key)
		return err
	}))
	return v, ok
}

func testGetPutDelete(t *testing.T, b kv.Backend) {
	require.NoError(t, b.Update(ctx, func(tx kv.Tx) error {
		v, err := tx.Get(kv.Accounts, "a")
		require.NoError(t, err)
		assert.Nil(t, v, "a missing key reads nil")
		require.NoError(t, tx.Put(kv.Accounts, "a", []byte("one")))
		require.NoError(t, tx.Put(kv.ServersByAccount, "a\x00s", nil))
		v, err = tx.Get(kv.Accounts, "a")
		require.NoError(t, err)
		assert.Equal(t, "one", string(v), "a transaction reads its own writes")
		ok, err := tx.Has(kv.ServersByAccount, "a\x00s")
		require.NoError(t, err)
		assert.True(t, ok, "an empty value exists")
		return nil
	}))
	v, ok := get(t, b, kv.Accounts, "a")
	assert.True(t, ok)
	assert.Equal(t, "one", string(v))
	_, ok = get(t, b, kv.ServersByAccount, "a\x00s")
	assert.True(t, ok, "an empty value is committed and exists")
	_, ok = get(t, b, kv.Servers, "a")
	assert.False(t, ok, "tables are apart")

	require.NoError(t, b.Update(ctx, func(tx kv.Tx) error {
		require.NoError(t, tx.Delete(kv.Accounts, "a"))
		require.NoError(t, tx.Delete(kv.Accounts, "never"), "deleting a missing key is no error")
		ok, err := tx.Has(kv.Accounts, "a")
		require.NoError(t, err)
		assert.False(t, ok, "a transaction sees its own delete")
		return nil
	}))
	_, ok = get(t, b, kv.Accounts, "a")
	assert.False(t, ok)
}

func testRollback(t *testing.T, b kv.Backend) {
	put(t, b, kv.Accounts, "kept", "v1")
	boom := errors.New("boom")
	err := b.Update(ctx, func(tx kv.Tx) error {
		require.NoError(t, tx.Put(kv.Accounts, "kept", []byte("v2")))
		require.NoError(t, tx.Put(kv.Accounts, "new", []byte("x")))
		require.NoError(t, tx.DeleteRange(kv.Audit, "", ""))
		return boom
	})
	assert.Same(t, boom, err, "fn's error comes back as is")
	v, _ := get(t, b, kv.Accounts, "kept")
	assert.Equal(t, "v1", string(v), "nothing of a failed transaction is committed")
	_, ok := get(t, b, kv.Accounts, "new")
	assert.False(t, ok)
}

func testViewIsReadOnly(t *testing.T, b kv.Backend) {
	err := b.View(ctx, func(tx kv.Tx) error { return tx.Put(kv.Accounts, "a", []byte("x")) })
	assert.Error(t, err)
	_, ok := get(t, b, kv.Accounts, "a")
	assert.False(t, ok)
}

func testScan(t *testing.T, b kv.Backend) {
	put(t, b, kv.Audit, "a", "A", "b", "B", "c", "C", "d", "D")
	put(t, b, kv.Accounts, "b2", "other table")
	tests := []struct {
		name string
		r    kv.Range
		want []string
		more bool
	}{
		{"all", kv.Range{}, []string{"a", "b", "c", "d"}, false},
		{"from a key", kv.Range{Start: "b"}, []string{"b", "c", "d"}, false},
		{"between keys", kv.Range{Start: "a\x00", End: "d"}, []string{"b", "c"}, false},
		{"limit", kv.Range{Limit: 2}, []string{"a", "b"}, true},
		{"limit reaching the end", kv.Range{Start: "c", Limit: 2}, []string{"c", "d"}, false},
		{"reverse", kv.Range{Reverse: true}, []string{"d", "c", "b", "a"}, false},
		{"reverse before a key", kv.Range{End: "c", Reverse: true, Limit: 1}, []string{"b"}, true},
		{"reverse before an unknown key", kv.Range{End: "bb", Reverse: true}, []string{"b", "a"}, false},
		{"empty range", kv.Range{Start: "x"}, nil, false},
		{"prefix", kv.Prefix("c"), []string{"c"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, checked := range []bool{false, true} {
				r := tt.r
				r.Unchecked = !checked
				var got []string
				var more bool
				// In an update too: a checked scan there is what etcd
				// compares at commit.
				run := b.View
				if checked {
					run = b.Update
				}
				require.NoError(t, run(ctx, func(tx kv.Tx) error {
					got = nil
					var err error
					more, err = tx.Scan(kv.Audit, r, func(k string, v []byte) error {
						assert.Equal(t, strings.ToUpper(k), string(v), "the value of %q", k)
						got = append(got, k)
						return nil
					})
					return err
				}))
				assert.Equal(t, tt.want, got)
				assert.Equal(t, tt.more, more)
			}
		})
	}
	t.Run("keys only", func(t *testing.T) {
		require.NoError(t, b.View(ctx, func(tx kv.Tx) error {
			_, err := tx.Scan(kv.Audit, kv.Range{KeysOnly: true}, func(_ string, v []byte) error {
				assert.Empty(t, v)
				return nil
			})
			return err
		}))
	})
	t.Run("stop", func(t *testing.T) {
		var got []string
		require.NoError(t, b.View(ctx, func(tx kv.Tx) error {
			_, err := tx.Scan(kv.Audit, kv.Range{}, func(k string, _ []byte) error {
				got = append(got, k)
				if k == "b" {
					return kv.ErrStopScan
				}
				return nil
			})
			return err
		}), "ErrStopScan is no error")
		assert.Equal(t, []string{"a", "b"}, got)
		stop := errors.New("stop")
		err := b.View(ctx, func(tx kv.Tx) error {
			_, err := tx.Scan(kv.Audit, kv.Range{}, func(string, []byte) error { return stop })
			return err
		})
		assert.Same(t, stop, err, "fn's error comes back as is")
	})
	t.Run("children of one parent", func(t *testing.T) {
		put(t, b, kv.GrantsByServer, "s\x00g1", "", "s\x00g2", "", "s2\x00g3", "", "s\x01", "")
		var got []string
		require.NoError(t, b.View(ctx, func(tx kv.Tx) error {
			_, err := tx.Scan(kv.GrantsByServer, kv.Prefix("s\x00"), func(k string, _ []byte) error { got = append(got, k); return nil })
			return err
		}))
		assert.Equal(t, []string{"s\x00g1", "s\x00g2"}, got)
	})
}

func testCountAndDeleteRange(t *testing.T, b kv.Backend) {
	count := func(tb kv.Table) int {
		var n int
		require.NoError(t, b.View(ctx, func(tx kv.Tx) error {
			var err error
			n, err = tx.Count(tb)
			return err
		}))
		return n
	}
	for _, tb := range []kv.Table{kv.Audit, kv.APITokens} { // the audit table may keep its count apart
		t.Run(tb.String(), func(t *testing.T) {
			assert.Zero(t, count(tb))
			for i := range 6 {
				put(t, b, tb, strconv.Itoa(i), "v")
			}
			put(t, b, tb, "3", "replaced")
			assert.Equal(t, 6, count(tb), "a replaced key counts once")
			require.NoError(t, b.Update(ctx, func(tx kv.Tx) error { return tx.Delete(tb, "0") }))
			require.NoError(t, b.Update(ctx, func(tx kv.Tx) error { return tx.Delete(tb, "0") }))
			assert.Equal(t, 5, count(tb), "a deleted key counts no more, once")
			require.NoError(t, b.Update(ctx, func(tx kv.Tx) error { return tx.DeleteRange(tb, "2", "4") }))
			assert.Equal(t, []string{"1", "4", "5"}, keys(t, b, tb), "[start, end) is deleted")
			assert.Equal(t, 3, count(tb))
			require.NoError(t, b.Update(ctx, func(tx kv.Tx) error { return tx.DeleteRange(tb, "4", "") }))
			assert.Equal(t, []string{"1"}, keys(t, b, tb), "to the end of the table")
			assert.Equal(t, 1, count(tb))
			require.NoError(t, b.Update(ctx, func(tx kv.Tx) error { return tx.DeleteRange(tb, "", "") }))
			assert.Empty(t, keys(t, b, tb), "the whole table")
			assert.Zero(t, count(tb))
		})
	}
}

func testPutAfterDeleteRange(t *testing.T, b kv.Backend) {
	put(t, b, kv.Audit, "a", "1", "b", "1", "c", "1", "d", "1")
	require.NoError(t, b.Update(ctx, func(tx kv.Tx) error {
		require.NoError(t, tx.Put(kv.Audit, "b", []byte("put before")))
		require.NoError(t, tx.DeleteRange(kv.Audit, "a", "d"))
		require.NoError(t, tx.Put(kv.Audit, "c", []byte("put after")))
		require.NoError(t, tx.Put(kv.Audit, "bb", []byte("new, after")))
		v, err := tx.Get(kv.Audit, "a")
		require.NoError(t, err)
		assert.Nil(t, v, "a transaction sees its own range delete")
		ok, err := tx.Has(kv.Audit, "b")
		require.NoError(t, err)
		assert.False(t, ok, "a put before the range delete is deleted")
		v, err = tx.Get(kv.Audit, "c")
		require.NoError(t, err)
		assert.Equal(t, "put after", string(v), "a put after it stays")
		return nil
	}))
	assert.Equal(t, []string{"bb", "c", "d"}, keys(t, b, kv.Audit), "writes take effect in the order they were made")
}

func testBinaryKeys(t *testing.T, b kv.Backend) {
	var h1, h2 [32]byte
	h1[0], h1[31] = 0x00, 0xff
	h2[0], h2[5] = 0xff, 0x00
	put(t, b, kv.ServerHashes, string(h1[:]), "s1", string(h2[:]), "s2")
	for h, want := range map[[32]byte]string{h1: "s1", h2: "s2"} {
		v, ok := get(t, b, kv.ServerHashes, string(h[:]))
		assert.True(t, ok)
		assert.Equal(t, want, string(v))
	}
	_, ok := get(t, b, kv.ServerHashes, string(h1[:31]))
	assert.False(t, ok, "a key is found whole only")
}

// testConcurrentReadModifyWrite: updates that read a key and write it
// back lose nothing however they interleave (a lock, or a retry on
// conflict).
func testConcurrentReadModifyWrite(t *testing.T, b kv.Backend) {
	put(t, b, kv.Accounts, "n", "0")
	const workers = 20
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			assert.NoError(t, b.Update(ctx, func(tx kv.Tx) error {
				v, err := tx.Get(kv.Accounts, "n")
				if err != nil {
					return err
				}
				n, err := strconv.Atoi(string(v))
				if err != nil {
					return err
				}
				return tx.Put(kv.Accounts, "n", []byte(strconv.Itoa(n+1)))
			}))
		})
	}
	wg.Wait()
	v, _ := get(t, b, kv.Accounts, "n")
	assert.Equal(t, strconv.Itoa(workers), string(v))
}

// testBatch: batched writes all commit, and one that fails fails alone.
func testBatch(t *testing.T, b kv.Backend) {
	const calls = 30
	boom := errors.New("boom")
	errs := make([]error, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			errs[i] = b.Batch(ctx, func(tx kv.Tx) error {
				if err := tx.Put(kv.Audit, fmt.Sprintf("%02d", i), []byte("x")); err != nil {
					return err
				}
				if i == 7 {
					return boom
				}
				return nil
			})
		})
	}
	wg.Wait()
	var want []string
	for i, err := range errs {
		if i == 7 {
			assert.Same(t, boom, err)
			continue
		}
		assert.NoError(t, err)
		want = append(want, fmt.Sprintf("%02d", i))
	}
	assert.Equal(t, want, keys(t, b, kv.Audit), "every batched write but the failed one")
}

func testCanceledContext(t *testing.T, b kv.Backend) {
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	called := false
	fn := func(kv.Tx) error { called = true; return nil }
	assert.ErrorIs(t, b.View(cctx, fn), context.Canceled)
	assert.ErrorIs(t, b.Update(cctx, fn), context.Canceled)
	assert.ErrorIs(t, b.Batch(cctx, fn), context.Canceled)
	assert.False(t, called, "nothing runs on an ended context")
}
