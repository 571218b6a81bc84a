// Package etcdstore keeps bigin-mcp's records in etcd, so any number of
// stateless replicas can share them. It runs the same Store rules as the
// bbolt file (package store/internal/kv, over optimistic etcd
// transactions: txn.go), writes the same sealed records (package record),
// and adds what a shared store needs: a change feed the replicas' URL
// indexes follow (tokens.ChangeFeed), an election for jobs that run on one
// replica at a time (tokens.Elector), and a lock that elects one refresher
// of an account's Zoho access token.
//
// A rule's changes are one etcd transaction, so the cluster's
// --max-txn-ops bounds them: deleting an account writes 3 keys per MCP
// URL, CreateMCPServers 3 per URL, ending a URL's OAuth grants 2 per
// grant plus one per hash it names (see docs/scaling.md).
//
// Key layout under the prefix (default "/bigin-mcp/"); no key holds a
// token, only IDs and SHA-256 hashes of tokens:
//
//	meta/key_check              a sealed constant: the key is the replicas' key
//	r/a/<account id>            account JSON, secrets sealed
//	r/s/<server id>             MCP server JSON
//	i/sh/<hex sha256(token)>    server id
//	i/sa/<account id>\x00<server id>
//	t/<api token id>            API token JSON;  i/th/<hex hash> → id
//	l/<link id>                 connect link JSON;  i/lh/<hex hash> → id
//	audit/<entry id>            audit entry JSON (uuid v7: time order)
//	i/aa/<account id>\x00<entry id>
//	oc/<client id>              OAuth client JSON
//	og/<grant id>               OAuth grant JSON;  i/gh/<hex hash> → id
//	i/gs/<server id>\x00<grant id>
//	cache/<hex sha256(key)>     a cached value (ACME), sealed and bound to its key
//	ik/<hex sha256(scope\x00key)>  a write's outcome under its idempotency key
//	lock/…, elect/…             refresh locks and elections (leased)
//
// Everything under r/ is what a replica's index holds; one watch on r/
// follows accounts and servers in commit order.
package etcdstore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/bigin-mcp/bigin-mcp/store/internal/kv"
	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// DefaultPrefix is where records live when Options.Prefix is empty.
const DefaultPrefix = "/bigin-mcp/"

// DefaultAuditRetention is how many audit entries are kept when
// Options.AuditRetention is zero.
const DefaultAuditRetention = 100_000

// DefaultAuditRetentionPerAccount is how many audit entries of each
// account are kept when Options.AuditRetentionPerAccount is zero: a tenth
// of the whole log, so ten accounts' worth fill it before the global
// bound trims anyone's.
const DefaultAuditRetentionPerAccount = DefaultAuditRetention / 10

// DefaultSessionTTL is the lease of locks and elections, in seconds: a
// replica that dies releases them within this time.
const DefaultSessionTTL = 10

// ErrWrongKey means the secret key cannot open the secrets under this
// prefix: every replica must share one BIGIN_MCP_SECRET_KEY.
var ErrWrongKey = errors.New("secret key does not match the one the records under this etcd prefix were sealed with")

// ClientConfig is how to reach the etcd cluster.
type ClientConfig struct {
	Endpoints []string
	// CAFile, CertFile and KeyFile enable TLS: the CA that signed the
	// members' certificates, and a client certificate pair when the
	// cluster asks for one.
	CAFile, CertFile, KeyFile string
	Username, Password        string
	// DialTimeout bounds the first connection; 0 means 5 s.
	DialTimeout time.Duration
}

// Dial connects to the cluster.
func Dial(cfg ClientConfig) (*clientv3.Client, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("etcdstore: no endpoints")
	}
	cc := clientv3.Config{
		Endpoints:            cfg.Endpoints,
		DialTimeout:          cfg.DialTimeout,
		DialKeepAliveTime:    5 * time.Second,
		DialKeepAliveTimeout: 5 * time.Second,
		Username:             cfg.Username,
		Password:             cfg.Password,
		// A bulk mint sends one large transaction (the cluster's
		// --max-request-bytes is the real bound).
		MaxCallSendMsgSize: 32 << 20,
		Logger:             zap.NewNop(),
		// Reconnect within seconds once members are back (gRPC's own
		// backoff grows to two minutes), so a replica that failed closed
		// recovers promptly.
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * time.Second},
			MinConnectTimeout: 2 * time.Second,
		})},
	}
	if cc.DialTimeout == 0 {
		cc.DialTimeout = 5 * time.Second
	}
	if cfg.CAFile != "" || cfg.CertFile != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("etcdstore: read CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("etcdstore: %s holds no PEM certificate", cfg.CAFile)
			}
			tc.RootCAs = pool
		}
		if cfg.CertFile != "" || cfg.KeyFile != "" {
			pair, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("etcdstore: load client certificate: %w", err)
			}
			tc.Certificates = []tls.Certificate{pair}
		}
		cc.TLS = tc
	}
	c, err := clientv3.New(cc)
	if err != nil {
		return nil, fmt.Errorf("etcdstore: connect: %w", err)
	}
	return c, nil
}

// Options configures Open.
type Options struct {
	// Client is the connection to the cluster; Close closes it.
	Client *clientv3.Client
	// Prefix is where the records live (DefaultPrefix when empty).
	Prefix string
	// Key is the 32-byte AES-256-GCM key that seals secrets; every
	// replica must use the same one.
	Key []byte
	// Now is the clock of record timestamps; nil means time.Now.
	Now func() time.Time
	// AuditRetention is how many audit entries to keep (the oldest are
	// trimmed); zero means DefaultAuditRetention, negative means no limit.
	AuditRetention int
	// AuditRetentionPerAccount is how many audit entries to keep of each
	// integrated account (and of the entries of no account): an
	// account's oldest are trimmed as its new ones arrive, never
	// another's. Zero means DefaultAuditRetentionPerAccount, negative
	// means no limit.
	AuditRetentionPerAccount int
	// SessionTTL is the lease, in seconds, of locks and elections; zero
	// means DefaultSessionTTL.
	SessionTTL int
	Logger     *slog.Logger
}

// rules is the one implementation of the Store's rules, shared with every
// backend; Store gives it etcd transactions (txn.go).
type rules = kv.Store

// Store is bigin-mcp's records in etcd: the tokens.Store rules (package
// store/internal/kv) over optimistic etcd transactions, plus the change
// feed, the election and the refresh lock. It has every method of
// tokens.Store, documented there. It is safe for concurrent use by many
// goroutines and many processes.
type Store struct {
	*rules
	c      *clientv3.Client
	p      string
	sealer record.Sealer
	ttl    int
	logger *slog.Logger

	batch *batcher

	sessMu sync.Mutex
	sess   *concurrency.Session

	locksMu sync.Mutex
	locks   map[string]*localLock

	// feed state: what the follower has applied (see feed.go).
	fmu      sync.Mutex
	applied  int64
	appliedC chan struct{} // closed and replaced whenever applied grows
	progress func()        // asks the running watch for a progress report
}

var (
	_ tokens.Store      = (*Store)(nil)
	_ tokens.ChangeFeed = (*Store)(nil)
	_ tokens.Elector    = (*Store)(nil)
)

// Open checks the key against the records under the prefix (recording it
// on first use) and returns the store.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Client == nil {
		return nil, errors.New("etcdstore: Open needs a client")
	}
	s, err := record.NewSealer(opts.Key)
	if err != nil {
		return nil, err
	}
	p := opts.Prefix
	if p == "" {
		p = DefaultPrefix
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	st := &Store{
		c: opts.Client, p: p, sealer: s,
		ttl: opts.SessionTTL, logger: opts.Logger, locks: map[string]*localLock{},
		appliedC: make(chan struct{}),
	}
	keep := opts.AuditRetention
	if keep == 0 {
		keep = DefaultAuditRetention
	}
	perAccount := opts.AuditRetentionPerAccount
	if perAccount == 0 {
		perAccount = DefaultAuditRetentionPerAccount
	}
	st.rules = kv.New(backend{st}, kv.Options{Sealer: s, Now: opts.Now, AuditRetention: keep, AuditTrimEvery: trimEvery,
		AuditPerAccount: perAccount, AuditAccountTrimEvery: accountTrimEvery})
	if st.ttl <= 0 {
		st.ttl = DefaultSessionTTL
	}
	if st.logger == nil {
		st.logger = slog.New(slog.DiscardHandler)
	}
	if err := st.checkKey(ctx); err != nil {
		return nil, err
	}
	st.batch = newBatcher(st)
	return st, nil
}

// checkKey records the sealed key check, or checks the one recorded.
func (s *Store) checkKey(ctx context.Context) error {
	kc, err := s.sealer.KeyCheck()
	if err != nil {
		return err
	}
	k := s.p + "meta/key_check"
	resp, err := s.c.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
		Then(clientv3.OpPut(k, string(kc))).
		Else(clientv3.OpGet(k)).Commit()
	if err != nil {
		return fmt.Errorf("etcdstore: check the secret key: %w", err)
	}
	if resp.Succeeded {
		return nil
	}
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 0 || !s.sealer.CheckKey(kvs[0].Value) {
		return ErrWrongKey
	}
	return nil
}

// Close releases the store (Release) and closes the client.
func (s *Store) Close() error {
	s.Release()
	return s.c.Close()
}

// Release stops the audit writer and gives up locks and elections, but
// leaves the client open (for a client shared by several stores).
func (s *Store) Release() {
	s.batch.close()
	s.sessMu.Lock()
	if s.sess != nil {
		_ = s.sess.Close()
		s.sess = nil
	}
	s.sessMu.Unlock()
}

// Ping reports whether the cluster answers a quorum read (for /readyz).
func (s *Store) Ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := s.c.Get(ctx, s.p+"meta/key_check", clientv3.WithCountOnly()); err != nil {
		return fmt.Errorf("etcdstore: %w", err)
	}
	return nil
}

// Prefix returns the key prefix.
func (s *Store) Prefix() string { return s.p }

// Client returns the etcd client.
func (s *Store) Client() *clientv3.Client { return s.c }

// session returns the process's lease session, making a new one when the
// last one expired (the cluster was unreachable longer than its TTL).
func (s *Store) session(ctx context.Context) (*concurrency.Session, error) {
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	if s.sess != nil {
		select {
		case <-s.sess.Done():
			s.sess = nil
		default:
			return s.sess, nil
		}
	}
	gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	lease, err := s.c.Grant(gctx, int64(s.ttl))
	cancel()
	if err != nil {
		return nil, fmt.Errorf("etcdstore: lease: %w", err)
	}
	sess, err := concurrency.NewSession(s.c, concurrency.WithLease(lease.ID), concurrency.WithContext(context.Background()))
	if err != nil {
		return nil, fmt.Errorf("etcdstore: lease session: %w", err)
	}
	s.sess = sess
	return sess, nil
}
