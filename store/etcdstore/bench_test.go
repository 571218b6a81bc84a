package etcdstore_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/bigin-mcp/bigin-mcp/store/etcdstore"
	"github.com/bigin-mcp/bigin-mcp/store/etcdstore/etcdtest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/bigin-mcp/bigin-mcp/tokens/storetest"
)

// BenchmarkContention measures writes from three replicas (three Stores,
// each with its own client, on one prefix of a three-member cluster) and
// 16 goroutines at once, the way a busy deployment writes:
//
//   - UpdateMCPServer/hot: every writer updates one of 4 servers, so most
//     transactions conflict and retry;
//   - UpdateMCPServer/spread: every writer updates a server of its own
//     (no conflicts: the cost of one optimistic read-modify-write);
//   - AppendAudit: every writer audits (batched per replica);
//   - CreateMCPServer: every writer mints a URL on one shared account;
//   - mixed: the three kinds of write interleaved, one in three each.
//
// ns/op is wall time per operation across all writers (lower is more
// throughput); p50-ms and p99-ms are the latency one caller sees;
// conflicts/op counts the etcd transactions whose compares failed (each
// one a retry).
// Reproduce with
//
//	go test -run '^$' -bench Contention -benchtime 2000x ./store/etcdstore
func BenchmarkContention(b *testing.B) {
	ctx := context.Background()
	cluster := etcdtest.Start(b, 3)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	prefix := "/bench/" + uuid.NewString() + "/"
	var replicas []*etcdstore.Store
	var conflicts atomic.Int64
	for range 3 {
		c := cluster.Client(b)
		c.KV = countingKV{KV: c.KV, failed: &conflicts}
		s, err := etcdstore.Open(ctx, etcdstore.Options{Client: c, Prefix: prefix, Key: key})
		require.NoError(b, err)
		b.Cleanup(s.Release)
		replicas = append(replicas, s)
	}
	acct := storetest.Account(b, "bench")
	require.NoError(b, replicas[0].CreateAccount(ctx, acct))
	newServer := func() string {
		s := storetest.Server(b, acct.ID, "bench")
		require.NoError(b, replicas[0].CreateMCPServer(ctx, s))
		return s.ID
	}
	var hot []string
	for range 4 {
		hot = append(hot, newServer())
	}
	rename := func(s *tokens.MCPServer) error { s.Name = strconv.Itoa(len(s.Name) % 7); return nil }

	// op is one write by writer w (0…) through replica r.
	type op func(r *etcdstore.Store, w, i int) error
	update := func(ids func(w, i int) string) op {
		return func(r *etcdstore.Store, w, i int) error {
			_, err := r.UpdateMCPServer(ctx, ids(w, i), rename)
			return err
		}
	}
	audit := func(r *etcdstore.Store, w, i int) error {
		return r.AppendAudit(ctx, &tokens.AuditEntry{Actor: "bench", Action: "tool_call", Tool: "t", Outcome: "ok"})
	}
	create := func(r *etcdstore.Store, w, i int) error {
		return r.CreateMCPServer(ctx, storetest.Server(b, acct.ID, "minted"))
	}
	const writers = 16
	own := make([]string, writers)
	for w := range own {
		own[w] = newServer()
	}
	hotUpdate := update(func(w, i int) string { return hot[(w+i)%len(hot)] })
	cases := []struct {
		name string
		op   op
	}{
		{"UpdateMCPServer/hot", hotUpdate},
		{"UpdateMCPServer/spread", update(func(w, _ int) string { return own[w] })},
		{"AppendAudit", audit},
		{"CreateMCPServer", create},
		{"mixed", func(r *etcdstore.Store, w, i int) error {
			return []op{hotUpdate, audit, create}[(w+i)%3](r, w, i)
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var next atomic.Int64
			lat := make([][]time.Duration, writers)
			var wg sync.WaitGroup
			conflicts.Store(0)
			b.ResetTimer()
			for w := range writers {
				wg.Go(func() {
					r := replicas[w%len(replicas)]
					for i := 0; next.Add(1) <= int64(b.N); i++ {
						start := time.Now()
						if err := c.op(r, w, i); err != nil {
							b.Error(fmt.Errorf("writer %d: %w", w, err))
							return
						}
						lat[w] = append(lat[w], time.Since(start))
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(conflicts.Load())/float64(b.N), "conflicts/op")
			all := slices.Concat(lat...)
			slices.Sort(all)
			if len(all) > 0 {
				ms := func(q float64) float64 {
					return float64(all[int(q*float64(len(all)-1))]) / float64(time.Millisecond)
				}
				b.ReportMetric(ms(0.5), "p50-ms")
				b.ReportMetric(ms(0.99), "p99-ms")
			}
		})
	}
}

// countingKV counts the transactions whose compares failed.
type countingKV struct {
	clientv3.KV
	failed *atomic.Int64
}

func (k countingKV) Txn(ctx context.Context) clientv3.Txn {
	return countingTxn{Txn: k.KV.Txn(ctx), failed: k.failed}
}

type countingTxn struct {
	clientv3.Txn
	failed *atomic.Int64
}

func (t countingTxn) If(cs ...clientv3.Cmp) clientv3.Txn {
	return countingTxn{Txn: t.Txn.If(cs...), failed: t.failed}
}

func (t countingTxn) Then(ops ...clientv3.Op) clientv3.Txn {
	return countingTxn{Txn: t.Txn.Then(ops...), failed: t.failed}
}

func (t countingTxn) Else(ops ...clientv3.Op) clientv3.Txn {
	return countingTxn{Txn: t.Txn.Else(ops...), failed: t.failed}
}

func (t countingTxn) Commit() (*clientv3.TxnResponse, error) {
	resp, err := t.Txn.Commit()
	if err == nil && !resp.Succeeded {
		t.failed.Add(1)
	}
	return resp, err
}
