package tokens

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/clock"
)

// AccountInfo is what a resolved MCP URL needs to know of its account,
// without secrets.
type AccountInfo struct {
	ID         string
	Name       string
	Datacenter string
	OrgID      string
	OrgName    string
	Status     string
	// RateLimit bounds the calls of all the account's URLs together
	// (read-only; nil: none).
	RateLimit *RateLimit
	// CredentialsVersion changes whenever the account's client or refresh
	// token changes, so a cached Bigin client can tell it is stale.
	CredentialsVersion int64
}

// ServerInfo is what a resolved MCP URL knows of its stored server: the
// record without its timestamps, which nothing on the request path reads
// (the index holds one per minted URL).
type ServerInfo struct {
	ID        string
	AccountID string
	Name      string
	TokenHash [32]byte
	Config    Config
	ExpiresAt *time.Time
}

// Resolved is an MCP URL token resolved to its server, account and tools.
// It is shared by every caller that resolves the same version of a URL:
// treat it as read-only. It is also the index entry itself, so it is kept
// small: one is held in memory for every minted URL.
type Resolved struct {
	Server ServerInfo
	// Account is shared by every URL of the account (read-only).
	Account *AccountInfo
	Tools   []string // allowed tool names, in catalog order
	// Version changes whenever the server's config, name or expiry or its
	// account changes; a cached MCP server built for one version is stale
	// for another.
	Version int64

	done atomic.Pointer[chan struct{}] // nil until Done is first called
}

// closedDone is what Resolved.done holds once the resolution is stale.
// The channel is closed before anyone can see it and never changes.
var closedDone = func() *chan struct{} {
	c := make(chan struct{})
	close(c)
	return &c
}()

// Done returns a channel closed when this resolution stops being valid:
// the server was changed, deleted or expired, or its account changed or
// was deleted. Open SSE streams close on it. The channel is made on first
// use: most resolutions never need one, and the index holds one
// resolution per minted URL.
func (r *Resolved) Done() <-chan struct{} {
	if p := r.done.Load(); p != nil {
		return *p
	}
	c := make(chan struct{})
	if r.done.CompareAndSwap(nil, &c) {
		return c
	}
	return *r.done.Load() // another caller made it, or it was just invalidated
}

// Stale reports whether Done is closed, without making a channel.
func (r *Resolved) Stale() bool { return r.done.Load() == closedDone }

// invalidate closes Done (at most once).
func (r *Resolved) invalidate() {
	if p := r.done.Swap(closedDone); p != nil && p != closedDone {
		close(*p)
	}
}

// ServiceOptions configures NewService.
type ServiceOptions struct {
	PublicURL string // base of minted URLs, no trailing slash
	// Tools is the inventory URL configs choose from; required.
	Tools *Inventory
	// Zoho proves account credentials; required.
	Zoho Zoho
	// ZohoClientID and ZohoClientSecret are the server's own OAuth client,
	// for accounts created without their own and for connect links.
	ZohoClientID     string
	ZohoClientSecret string
	// AuditRetention is how long audit entries are kept: 0 means
	// DefaultAuditRetention, negative means forever.
	AuditRetention time.Duration
	Clock          clock.Clock // nil: the system clock
	Logger         *slog.Logger
	// MaxStaleness, over a Store that is a ChangeFeed, is how long the
	// index may go without confirming it is current before Available
	// fails (and Resolve with it); 0 means never.
	MaxStaleness time.Duration
}

// Service owns MCP URL tokens, API tokens and their policy. It keeps an
// in-memory index of every MCP server, coherent with the store on every
// change, so Resolve costs no disk read.
//
// Every change to an account or MCP server writes the store first and then
// the index, both under writeMu, so the index applies changes in the
// store's order; readers only take mu for a map lookup.
type Service struct {
	db     Store
	inv    *Inventory
	zoho   Zoho
	opts   ServiceOptions
	now    func() time.Time
	logger *slog.Logger

	writeMu sync.Mutex

	mu       sync.RWMutex
	byHash   map[[32]byte]*Resolved
	accounts map[string]*accountEntry // each with its servers by ID
	servers  int                      // how many are indexed

	version atomic.Int64

	// feed, when the store is shared, is what the index follows.
	feed ChangeFeed
	// currentAt is when (system clock, Unix ns) the feed last confirmed
	// the index current.
	currentAt atomic.Int64
}

type accountEntry struct {
	info    *AccountInfo         // replaced, never changed, on an account change
	servers map[string]*Resolved // by server ID
	creds   [32]byte             // credsFingerprint of the indexed account
}

// NewService loads the index from db.
func NewService(ctx context.Context, db Store, opts ServiceOptions) (*Service, error) {
	if db == nil || opts.Zoho == nil || opts.Tools == nil {
		return nil, errors.New("tokens: NewService needs a Store, Tools and Zoho")
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	s := &Service{
		db:       BoundStore(db),
		inv:      opts.Tools,
		zoho:     opts.Zoho,
		opts:     opts,
		now:      clock.OrSystem(opts.Clock).Now,
		logger:   opts.Logger,
		byHash:   make(map[[32]byte]*Resolved),
		accounts: make(map[string]*accountEntry),
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if f, ok := db.(ChangeFeed); ok {
		s.feed = f
	}
	s.currentAt.Store(time.Now().UnixNano())
	after := ""
	for {
		page, more, err := db.Accounts(ctx, after, 100)
		if err != nil {
			return nil, fmt.Errorf("load accounts: %w", err)
		}
		for _, a := range page {
			s.accounts[a.ID] = &accountEntry{info: s.accountInfo(a, 0), servers: make(map[string]*Resolved), creds: credsFingerprint(a)}
			after = a.ID
		}
		if !more || len(page) == 0 {
			break
		}
	}
	orphans := 0
	err := db.ForEachMCPServer(ctx, func(m *MCPServer) error {
		ae := s.accounts[m.AccountID]
		if ae == nil {
			orphans++
			return nil
		}
		s.insertLocked(ae, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load MCP servers: %w", err)
	}
	if orphans > 0 {
		s.logger.Warn("MCP servers without an account are not served", "count", orphans)
	}
	s.logger.Info("tokens index loaded", "accounts", len(s.accounts), "mcp_servers", s.servers)
	return s, nil
}

// Resolve maps an MCP URL token to its server; ErrNotFound when unknown,
// deleted or expired. It reads only memory.
func (s *Service) Resolve(ctx context.Context, token string) (*Resolved, error) {
	if !isMCPToken(token) {
		return nil, ErrNotFound
	}
	if err := s.Available(); err != nil {
		return nil, err
	}
	h := HashToken(token)
	s.mu.RLock()
	res := s.byHash[h]
	s.mu.RUnlock()
	if res == nil || subtle.ConstantTimeCompare(res.Server.TokenHash[:], h[:]) != 1 {
		return nil, ErrNotFound
	}
	if exp := res.Server.ExpiresAt; exp != nil && pastExpiry(exp, s.now()) { // no clock read for URLs that never expire
		return nil, ErrNotFound
	}
	return res, nil
}

// AuthenticateAPIToken checks a bearer API token (constant-time compare of
// hashes); ErrUnauthenticated when missing or unknown.
func (s *Service) AuthenticateAPIToken(ctx context.Context, token string) (*APIToken, error) {
	if token == "" {
		return nil, ErrUnauthenticated
	}
	h := HashToken(token)
	t, err := s.db.APITokenByHash(ctx, h)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, fmt.Errorf("look up API token: %w", err)
	}
	if subtle.ConstantTimeCompare(t.TokenHash[:], h[:]) != 1 {
		return nil, ErrUnauthenticated
	}
	return t, nil
}

// APITokenByHash returns the API token whose value hashes to h;
// ErrUnauthenticated when there is none (it was deleted). A surface that
// keeps a sign-in made with an API token checks with it that the token
// still exists.
func (s *Service) APITokenByHash(ctx context.Context, h [32]byte) (*APIToken, error) {
	t, err := s.db.APITokenByHash(ctx, h)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, fmt.Errorf("look up API token: %w", err)
	}
	return t, nil
}

// errUnchanged aborts a store update that has nothing to change.
var errUnchanged = errors.New("unchanged")

// MarkNeedsReauth sets the account's status to needs_reauth (Zoho refused
// its refresh token).
func (s *Service) MarkNeedsReauth(ctx context.Context, accountID string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	a, err := s.db.UpdateAccount(ctx, accountID, func(a *Account) error {
		if a.Status == StatusNeedsReauth {
			return errUnchanged
		}
		a.Status = StatusNeedsReauth
		a.UpdatedAt = s.now()
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mark account %s needs_reauth: %w", accountID, err)
	}
	s.putAccount(ctx, a, false)
	s.logger.WarnContext(ctx, "account needs reauthorization", "account_id", accountID)
	s.audit(ctx, "account.needs_reauth", accountID, "", "Zoho refused the refresh token")
	return nil
}

// SyncAccount reloads one account from the store into the index, for a
// change made to the store outside the Service (the connect flow). Its MCP
// URLs get a new Version and their Done closes. An account that no longer
// exists is dropped with its URLs.
func (s *Service) SyncAccount(ctx context.Context, accountID string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	a, err := s.db.Account(ctx, accountID)
	if errors.Is(err, ErrNotFound) {
		s.dropAccount(ctx, accountID, nil)
		return nil
	}
	if err != nil {
		return fmt.Errorf("load account %s: %w", accountID, err)
	}
	s.putAccount(ctx, a, true)
	return nil
}

// --- the index; every function below runs with writeMu held ---

func (s *Service) nextVersion() int64 { return s.version.Add(1) }

func (s *Service) accountInfo(a *Account, credVersion int64) *AccountInfo {
	if credVersion == 0 {
		credVersion = s.nextVersion()
	}
	return &AccountInfo{
		ID:                 a.ID,
		Name:               a.Name,
		Datacenter:         a.Datacenter,
		OrgID:              a.OrgID,
		OrgName:            a.OrgName,
		Status:             a.Status,
		RateLimit:          normalRateLimit(a.RateLimit),
		CredentialsVersion: credVersion,
	}
}

// ensureAccount returns the indexed account, loading it from the store
// when it was created outside the Service.
func (s *Service) ensureAccount(ctx context.Context, id string) error {
	s.mu.RLock()
	_, ok := s.accounts[id]
	s.mu.RUnlock()
	if ok {
		return nil
	}
	a, err := s.db.Account(ctx, id)
	if err != nil {
		return err
	}
	s.putAccount(ctx, a, true)
	return nil
}

// insertLocked indexes m under its account; mu must be held for writing
// (or the Service not yet shared). It invalidates the resolution m
// replaces.
func (s *Service) insertLocked(ae *accountEntry, m *MCPServer) {
	s.insertInfoLocked(ae, ServerInfo{
		ID:        m.ID,
		AccountID: ae.info.ID, // one copy of the ID per account, not per URL
		Name:      m.Name,
		TokenHash: m.TokenHash,
		Config:    m.Config,
		ExpiresAt: m.ExpiresAt,
	})
}

// insertInfoLocked is insertLocked for a server already in the index's form.
func (s *Service) insertInfoLocked(ae *accountEntry, si ServerInfo) {
	res := &Resolved{
		Server:  si,
		Account: ae.info,
		Tools:   s.inv.Allowed(si.Config),
		Version: s.nextVersion(),
	}
	if old := ae.servers[si.ID]; old != nil {
		s.removeLocked(old)
	}
	s.byHash[si.TokenHash] = res
	ae.servers[si.ID] = res
	s.servers++
}

// removeLocked drops res from the index and invalidates it.
func (s *Service) removeLocked(res *Resolved) {
	id := res.Server.ID
	if s.byHash[res.Server.TokenHash] == res {
		delete(s.byHash, res.Server.TokenHash)
	}
	if ae := s.accounts[res.Server.AccountID]; ae != nil && ae.servers[id] == res {
		delete(ae.servers, id)
		s.servers--
	}
	res.invalidate()
}

// putServer indexes a server just written to the store. Its account must
// be indexed (ensureAccount).
func (s *Service) putServer(ctx context.Context, m *MCPServer) {
	if s.followed() {
		s.settle(ctx)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ae := s.accounts[m.AccountID]
	if ae == nil {
		// Cannot happen while writeMu is held after ensureAccount; keep the
		// index coherent anyway by not serving the orphan (no server of an
		// unindexed account is indexed).
		return
	}
	s.insertLocked(ae, m)
}

// dropServers removes servers just deleted from the store.
func (s *Service) dropServers(ctx context.Context, deleted ...*MCPServer) {
	if s.followed() {
		s.settle(ctx)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropServersLocked(deleted)
}

func (s *Service) dropServersLocked(deleted []*MCPServer) {
	for _, m := range deleted {
		if ae := s.accounts[m.AccountID]; ae != nil {
			if res := ae.servers[m.ID]; res != nil {
				s.removeLocked(res)
			}
		}
	}
}

// putAccount indexes an account just written to the store and re-issues
// its servers' resolutions (new Version, old Done closed).
func (s *Service) putAccount(ctx context.Context, a *Account, credsChanged bool) {
	if s.followed() {
		s.settle(ctx)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ae := s.accounts[a.ID]
	if ae == nil {
		s.accounts[a.ID] = &accountEntry{info: s.accountInfo(a, 0), servers: make(map[string]*Resolved), creds: credsFingerprint(a)}
		return
	}
	ae.creds = credsFingerprint(a)
	cv := ae.info.CredentialsVersion
	if credsChanged {
		cv = 0 // a new one
	}
	ae.info = s.accountInfo(a, cv)
	servers := make([]ServerInfo, 0, len(ae.servers))
	for _, res := range ae.servers {
		servers = append(servers, res.Server)
	}
	for _, si := range servers {
		si.AccountID = ae.info.ID
		s.insertInfoLocked(ae, si)
	}
}

// dropAccount removes an account just deleted from the store, with its
// servers (those indexed and those the store reports deleted).
func (s *Service) dropAccount(ctx context.Context, id string, deleted []*MCPServer) {
	if s.followed() {
		s.settle(ctx)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ae := s.accounts[id]; ae != nil {
		for _, res := range ae.servers {
			s.removeLocked(res)
		}
		delete(s.accounts, id)
	}
	s.dropServersLocked(deleted)
}

// expired reports whether m has expired at now (from that instant
// the URL answers 404).
func expired(m *MCPServer, now time.Time) bool { return pastExpiry(m.ExpiresAt, now) }

// pastExpiry reports whether an expiry (nil: never) has passed at now.
func pastExpiry(exp *time.Time, now time.Time) bool { return exp != nil && !now.Before(*exp) }

// MCPServerCount returns how many MCP URLs the index serves (expired ones
// count until the sweeper deletes them).
func (s *Service) MCPServerCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.servers
}

// AllowedTools returns the names of the tools config c allows, in
// inventory order (shared: do not modify).
func (s *Service) AllowedTools(c Config) []string { return s.inv.Allowed(c) }

// PreviewTools returns the tools a URL minted with config c would offer,
// each with the modules it takes under c, or the invalid_argument error
// creating that URL would answer: what a policy form shows as it is
// filled in.
func (s *Service) PreviewTools(c Config) ([]Offer, error) { return s.inv.Preview(c) }

// Inventory returns the tools URL configs choose from.
func (s *Service) Inventory() *Inventory { return s.inv }
