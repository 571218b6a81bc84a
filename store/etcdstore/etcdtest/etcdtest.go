// Package etcdtest starts real etcd clusters for tests: members of
// go.etcd.io/etcd/server/v3/embed, in this process, on loopback ports,
// each with its own data directory, so a test can stop and restart
// members as an operator would.
package etcdtest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// startTimeout bounds how long a cluster may take to elect a leader; the
// machine running the tests may be busy.
const startTimeout = 60 * time.Second

// stopTimeout bounds how long stopping a member may take; one that does
// not stop in time fails the test rather than hang it.
const stopTimeout = 30 * time.Second

// Cluster is a running test cluster.
type Cluster struct {
	t       tb
	mu      sync.Mutex
	members []*member
}

type member struct {
	cfg  *embed.Config
	etcd *embed.Etcd // nil while stopped
	// life ends when the running process stops: the streams it serves
	// end with it, as a crashed process's connections would.
	life  atomic.Pointer[context.Context]
	crash context.CancelFunc
}

// begin starts a new process lifetime of the member.
func (m *member) begin() {
	if m.crash != nil {
		m.crash() // the last lifetime, if a start failed, ends here
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.life.Store(&ctx)
	m.crash = cancel
}

// streams is a gRPC stream interceptor that ends the member's open
// streams (watches, lease keep-alives) when its process stops, answering
// Unavailable as a reset connection does, so clients move to another
// member at once and the member's shutdown does not wait for them.
func (m *member) streams(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	life := *m.life.Load()
	ctx, cancel := context.WithCancel(ss.Context())
	defer cancel()
	defer context.AfterFunc(life, cancel)()
	err := handler(srv, lifeStream{ServerStream: ss, ctx: ctx})
	if life.Err() != nil {
		return status.Error(codes.Unavailable, "etcdtest: member stopped")
	}
	return err
}

type lifeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s lifeStream) Context() context.Context { return s.ctx }

// Start starts a cluster of n members and stops it when the test ends.
// Its ports are picked free but bound only when the members start, so a
// start that loses a port to another process is tried again on new ones.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	return startRetrying(t, n)
}

func startRetrying(t tb, n int) *Cluster {
	t.Helper()
	var err error
	for range 5 {
		var c *Cluster
		if c, err = start(t, n); err == nil {
			return c
		}
		t.Logf("etcd cluster did not start (trying new ports): %v", err)
	}
	require.NoError(t, err, "start etcd cluster")
	return nil
}

func start(t tb, n int) (*Cluster, error) {
	dir := t.TempDir()
	c := &Cluster{t: t}
	var initial []string
	for i := range n {
		name := fmt.Sprintf("m%d", i)
		cfg := embed.NewConfig()
		cfg.Name = name
		cfg.Dir = filepath.Join(dir, name)
		peer, client := freeURL(t), freeURL(t)
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
		cfg.InitialClusterToken = "bigin-mcp-test"
		cfg.ClusterState = embed.ClusterStateFlagNew
		// Slow heartbeats keep a busy 2-core machine from starting
		// needless elections; the tests' bounds are far above them.
		cfg.TickMs = 100
		cfg.ElectionMs = 1000
		cfg.UnsafeNoFsync = true
		cfg.MaxTxnOps = 20000
		cfg.MaxRequestBytes = 32 << 20
		cfg.Logger = "zap"
		cfg.LogLevel = "error"
		cfg.LogOutputs = []string{filepath.Join(dir, name+".log")}
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
		m := &member{cfg: cfg}
		cfg.GRPCAdditionalServerOptions = []grpc.ServerOption{grpc.ChainStreamInterceptor(m.streams)}
		c.members = append(c.members, m)
		initial = append(initial, name+"="+peer.String())
	}
	for _, m := range c.members {
		m.cfg.InitialCluster = strings.Join(initial, ",")
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, m := range c.members {
		m.begin()
		wg.Go(func() { m.etcd, errs[i] = embed.StartEtcd(m.cfg) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			for _, m := range c.members {
				if m.etcd != nil {
					c.halt(m.cfg.Name, m.etcd, m.crash, false)
				}
			}
			return nil, err
		}
	}
	t.Cleanup(c.stopAll)
	deadline := time.After(startTimeout)
	for _, m := range c.members {
		select {
		case <-m.etcd.Server.ReadyNotify():
		case <-deadline:
			// Not a lost port: new ones would not help, so this is final.
			t.Fatalf("etcd member %s not ready within %s (no leader elected)", m.cfg.Name, startTimeout)
		}
	}
	return c, nil
}

// freeURL returns a loopback URL on a port free right now.
func freeURL(t tb) url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return url.URL{Scheme: "http", Host: addr}
}

// Endpoints returns every member's client URL.
func (c *Cluster) Endpoints() []string {
	out := make([]string, len(c.members))
	for i, m := range c.members {
		out[i] = m.cfg.AdvertiseClientUrls[0].String()
	}
	return out
}

// Client returns a new client of the whole cluster, closed when the test
// ends.
func (c *Cluster) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	cl, err := clientv3.New(clientv3.Config{
		Endpoints: c.Endpoints(), DialTimeout: 5 * time.Second,
		DialKeepAliveTime: 2 * time.Second, DialKeepAliveTimeout: 2 * time.Second,
		MaxCallSendMsgSize: 32 << 20,
		Logger:             zap.NewNop(),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

// Stop stops member i as an operator's stop does: a leader first hands
// its leadership to another member, then the process ends; its clients'
// streams end with it and they carry on with the other members.
func (c *Cluster) Stop(i int) {
	c.mu.Lock()
	m := c.members[i]
	e := m.etcd
	m.etcd = nil
	c.mu.Unlock()
	if e != nil {
		c.halt(m.cfg.Name, e, m.crash, true)
	}
}

// halt stops a member's process, bounded by stopTimeout (a member that
// does not stop in time fails the test rather than hang it). Its client
// streams end at once, answered Unavailable as a reset connection is
// (embed's Close would wait for open watches for seconds). With handOver,
// a leader first moves its leadership to another member; without, it
// stops as a crash would (when every member stops, a handover only waits
// for peers that are stopping too). Either way the process ends with
// HardStop before Close, as Close alone waits forever for a member that
// has not become ready (one restarted a moment ago).
func (c *Cluster) halt(name string, e *embed.Etcd, crash context.CancelFunc, handOver bool) {
	crash()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if handOver {
			select {
			case <-e.Server.ReadyNotify():
				_ = e.Server.TryTransferLeadershipOnShutdown()
			default:
			}
		}
		e.Server.HardStop()
		e.Close()
	}()
	select {
	case <-done:
	case <-time.After(stopTimeout):
		c.t.Errorf("etcd member %s did not stop within %s", name, stopTimeout)
	}
}

// Leader returns the index of the member that leads the cluster now, or
// -1 when no running member knows one.
func (c *Cluster) Leader() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.members {
		if m.etcd == nil {
			continue
		}
		lead := m.etcd.Server.Leader()
		for i, o := range c.members {
			if o.etcd != nil && o.etcd.Server.MemberID() == lead {
				return i
			}
		}
	}
	return -1
}

// StopAll stops every member at once, as a crash of them all would.
func (c *Cluster) StopAll() {
	var wg sync.WaitGroup
	for _, m := range c.members {
		c.mu.Lock()
		e := m.etcd
		m.etcd = nil
		c.mu.Unlock()
		if e != nil {
			wg.Go(func() { c.halt(m.cfg.Name, e, m.crash, false) })
		}
	}
	wg.Wait()
}

func (c *Cluster) stopAll() { c.StopAll() }

// Restart starts member i again on its data directory and ports. Ports
// freed a moment ago may take the kernel a moment to release, so a failed
// start is retried.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	c.restartUnlocked(i)
}

// RestartAll starts every stopped member again, at once (a lone member
// cannot elect a leader, so none waits for the others).
func (c *Cluster) RestartAll() {
	var wg sync.WaitGroup
	for i := range c.members {
		wg.Go(func() { c.restartUnlocked(i) })
	}
	wg.Wait()
}

func (c *Cluster) restartUnlocked(i int) {
	m := c.members[i]
	if m.etcd != nil {
		return
	}
	var err error
	for range 50 {
		m.cfg.ClusterState = embed.ClusterStateFlagExisting
		m.begin()
		var e *embed.Etcd
		if e, err = embed.StartEtcd(m.cfg); err == nil {
			c.mu.Lock()
			m.etcd = e
			c.mu.Unlock()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.t.Errorf("restart etcd member %d: %v", i, err)
}
