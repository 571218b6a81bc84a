package tokens

import (
	"context"
	"crypto/sha256"
	"time"
)

// Change is one record changed in a Store that several processes share,
// as a ChangeFeed reports it: exactly one field is set.
type Change struct {
	Account        *Account   // an account created or updated
	Server         *MCPServer // an MCP server created or updated
	DeletedAccount string     // the ID of a deleted account
	DeletedServer  *MCPServer // a deleted MCP server, as it last was
}

// Follower is what a ChangeFeed keeps in step with its store. Service is
// one: its URL index follows every process's changes.
type Follower interface {
	// Reset replaces everything the follower knows with a snapshot of
	// the store (every account and MCP server at one moment).
	Reset(accounts []*Account, servers []*MCPServer)
	// Apply applies changes in the store's order.
	Apply(changes []Change)
	// Current reports that every change committed before asOf (by the
	// system clock) has been applied or reset.
	Current(asOf time.Time)
}

// ChangeFeed is an optional interface of a Store that several processes
// share (the etcd store). With one, a Service does not apply its own
// writes to its index directly: it waits (Barrier) for the feed to report
// them, so the index applies every process's changes in one order, the
// store's.
type ChangeFeed interface {
	// Follow keeps f in step with the store until ctx ends: it resets f
	// from a snapshot, then applies every later change, and reports how
	// current f is. When it cannot follow (a lost watch, a compacted
	// history, a partition) it resets f again once it can.
	Follow(ctx context.Context, f Follower) error
	// Barrier returns once every change committed before the call has
	// been applied to the Follower.
	Barrier(ctx context.Context) error
}

// Elector is an optional interface of a Store that several processes
// share: it runs a job on one of them at a time.
type Elector interface {
	// Lead runs fn whenever this process leads the election called name,
	// with a context that ends when leadership is lost, until ctx ends.
	Lead(ctx context.Context, name string, fn func(ctx context.Context)) error
}

// credsFingerprint tells whether an account's credentials changed
// without keeping them: a cached Bigin client is stale when it does.
func credsFingerprint(a *Account) [32]byte {
	return sha256.Sum256([]byte(a.ClientID + "\x00" + a.ClientSecret + "\x00" + a.RefreshToken))
}

// followed reports whether the index follows a ChangeFeed rather than
// this Service's own writes.
func (s *Service) followed() bool { return s.feed != nil }

// settle waits, after a write, until the feed has applied it to the index,
// so a caller reads its own write (a URL minted here resolves here at
// once). A feed that cannot confirm in time is logged: the write stands
// and the index applies it when the feed catches up.
func (s *Service) settle(ctx context.Context) {
	if s.feed == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.feed.Barrier(ctx); err != nil {
		s.logger.WarnContext(ctx, "the URL index has not yet applied a write", "err", err)
	}
}

// Reset replaces the index with a snapshot of the store. Resolutions that
// did not change are kept (their Version and Done stay); the others are
// invalidated.
func (s *Service) Reset(accounts []*Account, servers []*MCPServer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seenAcc := make(map[string]bool, len(accounts))
	for _, a := range accounts {
		seenAcc[a.ID] = true
		s.applyAccountLocked(a)
	}
	for id := range s.accounts {
		if !seenAcc[id] {
			s.dropAccountLocked(id)
		}
	}
	seenSrv := make(map[string]bool, len(servers))
	for _, m := range servers {
		seenSrv[m.ID] = true
		s.applyServerLocked(m)
	}
	for _, ae := range s.accounts {
		for id, res := range ae.servers {
			if !seenSrv[id] {
				s.removeLocked(res)
			}
		}
	}
}

// Apply applies changes reported by a ChangeFeed, in order.
func (s *Service) Apply(changes []Change) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range changes {
		switch {
		case c.Account != nil:
			s.applyAccountLocked(c.Account)
		case c.Server != nil:
			s.applyServerLocked(c.Server)
		case c.DeletedAccount != "":
			s.dropAccountLocked(c.DeletedAccount)
		case c.DeletedServer != nil:
			s.dropServersLocked([]*MCPServer{c.DeletedServer})
		}
	}
}

// Current records that the index holds every change committed before
// asOf.
func (s *Service) Current(asOf time.Time) {
	n := asOf.UnixNano()
	for {
		old := s.currentAt.Load()
		if n <= old || s.currentAt.CompareAndSwap(old, n) {
			return
		}
	}
}

// Available reports whether the index can be trusted: ErrUnavailable when
// it follows a shared store and has not confirmed it is current within
// MaxStaleness, so the server fails closed rather than serve grants it may
// have lost. A Service over its own store is always available.
func (s *Service) Available() error {
	if s.feed == nil || s.opts.MaxStaleness <= 0 {
		return nil
	}
	if time.Since(time.Unix(0, s.currentAt.Load())) > s.opts.MaxStaleness {
		return errUnavailable
	}
	return nil
}

// CurrentAsOf returns when the index was last confirmed current (the zero
// time for a Service over its own store).
func (s *Service) CurrentAsOf() time.Time {
	if s.feed == nil {
		return time.Time{}
	}
	return time.Unix(0, s.currentAt.Load())
}

// applyAccountLocked indexes a created or updated account. An update that
// changes nothing the index holds (an access-token refresh) keeps every
// resolution; one that does re-issues its servers' resolutions, with a new
// CredentialsVersion when the credentials changed.
func (s *Service) applyAccountLocked(a *Account) {
	fp := credsFingerprint(a)
	ae := s.accounts[a.ID]
	if ae == nil {
		s.accounts[a.ID] = &accountEntry{info: s.accountInfo(a, 0), servers: make(map[string]*Resolved), creds: fp}
		return
	}
	cv := ae.info.CredentialsVersion
	if fp != ae.creds {
		cv = 0
	}
	info := s.accountInfo(a, cv)
	if cv != 0 && sameAccountInfo(info, ae.info) {
		return
	}
	ae.info, ae.creds = info, fp
	servers := make([]ServerInfo, 0, len(ae.servers))
	for _, res := range ae.servers {
		servers = append(servers, res.Server)
	}
	for _, si := range servers {
		si.AccountID = ae.info.ID
		s.insertInfoLocked(ae, si)
	}
}

// sameAccountInfo compares what a resolution shows of its account.
func sameAccountInfo(a, b *AccountInfo) bool {
	return a.ID == b.ID && a.Name == b.Name && a.Datacenter == b.Datacenter && a.OrgID == b.OrgID &&
		a.OrgName == b.OrgName && a.Status == b.Status && a.CredentialsVersion == b.CredentialsVersion &&
		sameRateLimit(a.RateLimit, b.RateLimit)
}

// sameRateLimit reports whether two rate limits (nil: none) are the same.
func sameRateLimit(a, b *RateLimit) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// applyServerLocked indexes a created or updated server, keeping its
// resolution when nothing it holds changed. A server whose account is not
// indexed is not served.
func (s *Service) applyServerLocked(m *MCPServer) {
	ae := s.accounts[m.AccountID]
	if ae == nil {
		return
	}
	if old := ae.servers[m.ID]; old != nil && sameServer(&old.Server, m) {
		return
	}
	s.insertLocked(ae, m)
}

// sameServer compares an indexed server with a stored one.
func sameServer(si *ServerInfo, m *MCPServer) bool {
	if si.Name != m.Name || si.TokenHash != m.TokenHash || si.AccountID != m.AccountID ||
		!sameConfig(&si.Config, &m.Config) {
		return false
	}
	switch {
	case si.ExpiresAt == nil && m.ExpiresAt == nil:
		return true
	case si.ExpiresAt == nil || m.ExpiresAt == nil:
		return false
	}
	return si.ExpiresAt.Equal(*m.ExpiresAt)
}

// sameConfig compares every field of two configs: a change to any of
// them (the tools, how the URL authenticates, its auth epoch, its result
// budget) must reach the resolution another replica serves.
func sameConfig(a, b *Config) bool {
	return a.RequireAPITokenAuth == b.RequireAPITokenAuth && a.Auth == b.Auth &&
		a.AuthEpoch == b.AuthEpoch && a.MaxResultChars == b.MaxResultChars && sameRateLimit(a.RateLimit, b.RateLimit) &&
		equalStrings(a.Methods, b.Methods) && equalStrings(a.Tags, b.Tags) && equalStrings(a.Modules, b.Modules) &&
		equalStrings(a.OAuthProfiles, b.OAuthProfiles)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// dropAccountLocked removes an account and its servers from the index.
func (s *Service) dropAccountLocked(id string) {
	if ae := s.accounts[id]; ae != nil {
		for _, res := range ae.servers {
			s.removeLocked(res)
		}
		delete(s.accounts, id)
	}
}
