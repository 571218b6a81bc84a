package zoho

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/clock"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// AccountStore is what Clients needs of the store: an account's
// credentials, and a place to keep each refreshed access token.
type AccountStore interface {
	Account(ctx context.Context, id string) (*tokens.Account, error)
	UpdateAccount(ctx context.Context, id string, fn func(*tokens.Account) error) (*tokens.Account, error)
}

// RefreshLocker elects one refresher of an account's Zoho access token
// among the processes that share a store (the etcd store implements it).
// Without one, the per-account client's single flight is enough: one
// process refreshes each account once however many calls need it.
type RefreshLocker interface {
	// LockRefresh blocks until this process holds the account's refresh
	// lock, and returns its release.
	LockRefresh(ctx context.Context, accountID string) (unlock func(), err error)
}

// ClientsOptions configures NewClients.
type ClientsOptions struct {
	Store       AccountStore
	Datacenters bigin.Datacenters
	// ZohoClientID and ZohoClientSecret are used for accounts stored
	// without their own OAuth client.
	ZohoClientID     string
	ZohoClientSecret string
	// Locker, when set, makes one process refresh an account's token
	// while the others wait for it and use the token it stored.
	Locker     RefreshLocker
	HTTPClient *http.Client  // nil: the Bigin client's default
	Timeout    time.Duration // per Bigin call; 0: the client's default
	// Observer is given to every client (for metrics).
	Observer bigin.Observer
	Clock    clock.Clock
	Logger   *slog.Logger
}

// Clients keeps one Bigin client per integrated account, so the access
// token cache and its single-flight refresh are shared by every URL,
// surface and request of that account. A client is rebuilt when the
// account's credentials change.
type Clients struct {
	db         AccountStore
	locker     RefreshLocker
	dcs        bigin.Datacenters
	clientID   string
	secret     string
	httpClient *http.Client
	timeout    time.Duration
	logger     *slog.Logger
	now        func() time.Time
	observer   bigin.Observer

	mu sync.Mutex
	m  map[string]*pooledClient
}

type pooledClient struct {
	version int64
	ready   chan struct{} // closed once client, refreshToken and err are set
	client  *bigin.Client
	err     error
	// refreshToken is the one the client was built with.
	refreshToken string
}

// NewClients returns an empty pool.
func NewClients(o ClientsOptions) *Clients {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Clients{
		db: o.Store, locker: o.Locker, dcs: o.Datacenters, clientID: o.ZohoClientID, secret: o.ZohoClientSecret,
		httpClient: o.HTTPClient, timeout: o.Timeout, logger: logger, now: clock.OrSystem(o.Clock).Now, observer: o.Observer,
		m: map[string]*pooledClient{},
	}
}

// Get returns the account's client, building it on first use or when the
// account's credentials changed (a new CredentialsVersion). Concurrent
// callers for the same account wait for one build, so they share one
// client and one token refresh; no lock is held while the account loads.
func (p *Clients) Get(ctx context.Context, acc *tokens.AccountInfo) (*bigin.Client, error) {
	p.mu.Lock()
	pc, ok := p.m[acc.ID]
	if !ok || pc.version != acc.CredentialsVersion {
		pc = &pooledClient{version: acc.CredentialsVersion, ready: make(chan struct{})}
		p.m[acc.ID] = pc
		p.mu.Unlock()
		pc.client, pc.refreshToken, pc.err = p.build(context.WithoutCancel(ctx), acc.ID)
		close(pc.ready)
		if pc.err != nil {
			p.mu.Lock()
			if p.m[acc.ID] == pc {
				delete(p.m, acc.ID) // the next call tries again
			}
			p.mu.Unlock()
		}
	} else {
		p.mu.Unlock()
	}
	select {
	case <-pc.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return pc.client, pc.err
}

// build makes a client from the account's stored credentials and cached
// access token.
func (p *Clients) build(ctx context.Context, accountID string) (*bigin.Client, string, error) {
	a, err := p.db.Account(ctx, accountID)
	if err != nil {
		return nil, "", fmt.Errorf("load account: %w", err)
	}
	creds := bigin.Credentials{ClientID: a.ClientID, ClientSecret: a.ClientSecret, RefreshToken: a.RefreshToken}
	if creds.ClientID == "" {
		creds.ClientID, creds.ClientSecret = p.clientID, p.secret
	}
	opts := bigin.Options{
		Datacenters: p.dcs,
		Datacenter:  a.Datacenter,
		Credentials: creds,
		APIDomain:   a.APIDomain,
		HTTPClient:  p.httpClient,
		Timeout:     p.timeout,
		OnToken:     p.persister(accountID),
		Now:         p.now,
		Observer:    p.observer,
	}
	if p.locker != nil {
		opts.RefreshGate = p.gate(accountID)
		opts.OnToken = nil // the gate stores the token while it holds the lock
	}
	if a.AccessToken != "" {
		opts.Token = &bigin.Token{AccessToken: a.AccessToken, Expiry: a.AccessExpiry, APIDomain: a.APIDomain}
	}
	c, err := bigin.NewClient(opts)
	if err != nil {
		return nil, "", fmt.Errorf("account %s: %w", accountID, err)
	}
	return c, a.RefreshToken, nil
}

// StillCurrent reports whether c was built from the account's current
// refresh token: a call that started before an admin replaced refused
// credentials must not mark the fixed account needs_reauth again.
func (p *Clients) StillCurrent(ctx context.Context, accountID string, c *bigin.Client) bool {
	p.mu.Lock()
	pc := p.m[accountID]
	p.mu.Unlock()
	if pc == nil {
		return false
	}
	select {
	case <-pc.ready:
	default:
		return false // a newer client is being built
	}
	if pc.client != c {
		return false
	}
	a, err := p.db.Account(ctx, accountID)
	if err != nil {
		return false
	}
	return a.RefreshToken == pc.refreshToken
}

// persister stores each refreshed access token (sealed by the store), so a
// restart does not spend Zoho's refresh quota (10 per 10 minutes).
func (p *Clients) persister(accountID string) func(bigin.Token) {
	return func(t bigin.Token) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := p.db.UpdateAccount(ctx, accountID, func(a *tokens.Account) error {
			a.AccessToken, a.AccessExpiry = t.AccessToken, t.Expiry
			if t.APIDomain != "" {
				a.APIDomain = t.APIDomain
			}
			return nil
		})
		if err != nil {
			p.logger.Warn("persist access token", "account_id", accountID, "err", err)
		}
	}
}

// refreshEarly is how long before its expiry a stored access token is no
// longer worth taking from another process (the Bigin client refreshes a
// token this close to expiry).
const refreshEarly = time.Minute

// gate elects one refresher across processes: under the account's lock,
// a token another process stored since this one's became stale is used as
// is; otherwise this process refreshes and stores the new token before it
// releases the lock, so the processes waiting for it find it.
func (p *Clients) gate(accountID string) func(context.Context, string, func(context.Context) (bigin.Token, error)) (bigin.Token, error) {
	return func(ctx context.Context, held string, refresh func(context.Context) (bigin.Token, error)) (bigin.Token, error) {
		unlock, err := p.locker.LockRefresh(ctx, accountID)
		if err != nil {
			return bigin.Token{}, fmt.Errorf("wait for the account's token refresh: %w", err)
		}
		defer unlock()
		a, err := p.db.Account(ctx, accountID)
		if err != nil {
			return bigin.Token{}, fmt.Errorf("load account: %w", err)
		}
		if a.AccessToken != "" && a.AccessToken != held && p.now().Add(refreshEarly).Before(a.AccessExpiry) {
			return bigin.Token{AccessToken: a.AccessToken, Expiry: a.AccessExpiry, APIDomain: a.APIDomain}, nil
		}
		t, err := refresh(ctx)
		if err != nil {
			return t, err
		}
		p.persister(accountID)(t)
		return t, nil
	}
}
