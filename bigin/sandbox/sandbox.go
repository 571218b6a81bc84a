package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"hash/fnv"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Demo OAuth client credentials, the defaults of Options.
const (
	DefaultClientID     = "1000.SANDBOXBIGINMCPCLIENT0000000"
	DefaultClientSecret = "5a4db0c1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8"
)

// Defaults of Options.
const (
	DefaultLocation = "us"
	DefaultOrgName  = "Zylker Traders"
	DefaultUsers    = 260
)

// Zoho Accounts' documented limits the sandbox applies.
const (
	// AccessTokenLifetime is how long an access token is valid.
	AccessTokenLifetime = time.Hour
	// CodeLifetime is how long an authorization code can be exchanged.
	CodeLifetime = 2 * time.Minute
	// ThrottleWindow is the window of the refresh throttle.
	ThrottleWindow = 10 * time.Minute
	// MaxAccessTokens is how many access tokens a refresh token keeps
	// active; minting one more deletes the oldest.
	MaxAccessTokens = 30
)

// Options configures New. Every field has a default.
type Options struct {
	// Location is the datacenter code answered in OAuth callbacks ("us").
	Location string
	// ClientID and ClientSecret are the one registered OAuth client
	// (DefaultClientID, DefaultClientSecret).
	ClientID     string
	ClientSecret string
	// OrgName is the seeded organization's company_name (DefaultOrgName).
	OrgName string
	// Users is how many users to seed, the primary user included
	// (DefaultUsers).
	Users int
	// Now is the clock for token expiry and timestamps (time.Now).
	Now func() time.Time
	// Seed makes the seeded data; 0 derives it from Location, so two
	// datacenters differ and each is the same on every run.
	Seed uint64
	// RefreshLimit, when positive, turns on the token endpoint's throttle:
	// more than this many refreshes of one refresh token within
	// ThrottleWindow get "Access Denied" (Zoho's limit is 10).
	RefreshLimit int
	// ThrottleStatus is the HTTP status of the throttle's answer; 0 means
	// 400 (the real status is UNVERIFIED).
	ThrottleStatus int
	// MaxRefreshTokens, when positive, caps the refresh tokens of one user;
	// issuing one more deletes the oldest (Zoho's documented cap is 20).
	MaxRefreshTokens int
	// DenyOverCap makes the code grant answer "Access Denied" at the cap
	// instead of deleting the oldest refresh token (which of the two Zoho
	// does is UNVERIFIED). IssueRefreshToken always
	// deletes the oldest.
	DenyOverCap bool
	// RedirectURIs are the client's registered redirect URIs; empty accepts
	// any absolute http(s) URI, for tests that do not care (a Zoho client
	// always has some). SetRedirectURIs changes them later.
	RedirectURIs []string
	// SignInPage makes the consent endpoint a page on which a person picks
	// who signs in (an administrator, a standard user, a deactivated user
	// of the org, or a user of another organization) and accepts or
	// rejects, instead of approving at once as the consent user: for the
	// demo, where a person drives the flow. The consent user is the
	// page's default choice. With or without it, a request that names
	// sandbox_user=<user id> signs in as that user at once.
	SignInPage bool
}

// OtherOrgName is the company_name of the other organization every
// sandbox holds beside its own: its users can sign in at the sandbox's
// accounts server (as users of any org sign in at Zoho's), but they are
// no users of the sandbox's org.
const OtherOrgName = "Northwind Traders"

// Request is one API request the sandbox answered, for assertions.
type Request struct {
	Method string
	Path   string     // e.g. /bigin/v2/users
	Query  url.Values // the query string, parsed
	// Authorization is the header as sent; Token is its credential part.
	Authorization string
	Token         string
	Status        int // the HTTP status answered
}

// Sandbox is one fake Zoho datacenter. It is an http.Handler and is safe
// for concurrent use.
type Sandbox struct {
	opts Options
	now  func() time.Time

	mu        sync.Mutex
	baseURL   string
	apiDomain string
	org       org
	users     []*User
	byID      map[string]*User
	// pages caches encoded answers to GET /users by type, page and
	// per_page, until a user changes: load runs share the CPUs between
	// this fake and the server they measure, and Zoho's own encoding is
	// not the server's cost.
	pages       map[usersPageKey][]byte
	usersGen    int // bumped by every change to a user
	roles       []Role
	profiles    []Profile
	recs        *recordStore // nil until a record call needs it
	primary     string
	refresh     map[string]*refreshGrant
	refreshBy   map[string][]string // user id → refresh tokens, oldest first
	access      map[string]*accessGrant
	codes       map[string]*codeGrant
	requests    int
	refreshes   int
	log         []Request
	faults      []Fault
	latency     time.Duration
	hold        *hold // nil: API requests are not held
	denyConsent bool
	consentUser string
	// redirectURIs are the client's registered redirect URIs; while
	// redirectsSet is false (none in Options, no SetRedirectURIs) any
	// absolute http(s) URI is accepted.
	redirectURIs []string
	redirectsSet bool

	// other is the other organization in the same datacenter (nil in
	// the other itself): its users sign in here and its tokens are
	// answered by it.
	other *Sandbox
	// zuidBase starts the seeded users' ZUIDs (0: the default); ZUIDs are
	// Zoho-wide, so the other org's differ.
	zuidBase int
}

type refreshGrant struct {
	userID  string
	scopes  []string
	revoked bool
	uses    []time.Time // successful refreshes, for the throttle
	access  []string    // access tokens minted, oldest first
}

type accessGrant struct {
	userID  string
	scopes  []string
	expiry  time.Time
	refresh string
}

type codeGrant struct {
	userID      string
	scopes      []string
	redirectURI string
	offline     bool
	expiry      time.Time
	used        bool
}

// New returns a sandbox with its organization seeded.
func New(opts Options) *Sandbox {
	if opts.Location == "" {
		opts.Location = DefaultLocation
	}
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.OrgName == "" {
		opts.OrgName = DefaultOrgName
	}
	if opts.Users < 1 {
		opts.Users = DefaultUsers
	}
	if opts.ThrottleStatus == 0 {
		opts.ThrottleStatus = http.StatusBadRequest
	}
	if opts.Seed == 0 {
		h := fnv.New64a()
		h.Write([]byte(opts.Location))
		opts.Seed = h.Sum64()
	}
	s := &Sandbox{
		opts:      opts,
		now:       opts.Now,
		byID:      map[string]*User{},
		refresh:   map[string]*refreshGrant{},
		refreshBy: map[string][]string{},
		access:    map[string]*accessGrant{},
		codes:     map[string]*codeGrant{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.seed()
	s.consentUser = s.primary
	s.redirectURIs, s.redirectsSet = slices.Clone(opts.RedirectURIs), len(opts.RedirectURIs) > 0
	s.other = newOther(opts)
	return s
}

// newOther returns the other organization of a sandbox: a small org in
// the same datacenter, with the same OAuth client.
func newOther(opts Options) *Sandbox {
	o := &Sandbox{
		opts: Options{
			Location: opts.Location, ClientID: opts.ClientID, ClientSecret: opts.ClientSecret,
			OrgName: OtherOrgName, Users: 5, Now: opts.Now, Seed: opts.Seed ^ 0x5bd1e9955bd1e995,
			ThrottleStatus: opts.ThrottleStatus, RedirectURIs: opts.RedirectURIs,
		},
		now:       opts.Now,
		byID:      map[string]*User{},
		refresh:   map[string]*refreshGrant{},
		refreshBy: map[string][]string{},
		access:    map[string]*accessGrant{},
		codes:     map[string]*codeGrant{},
		zuidBase:  71034346,
	}
	if o.now == nil {
		o.now = time.Now
	}
	o.seed()
	o.consentUser = o.primary
	o.redirectURIs, o.redirectsSet = slices.Clone(opts.RedirectURIs), len(opts.RedirectURIs) > 0
	return o
}

// OtherOrg returns the other organization in the sandbox's datacenter
// (see OtherOrgName), whose users sign in at this sandbox's accounts
// server; nil for the other org itself.
func (s *Sandbox) OtherOrg() *Sandbox { return s.other }

// ServeHTTP serves the accounts server (/oauth/v2/auth, /oauth/v2/token)
// and the Bigin API (/bigin/v1/..., /bigin/v2/...).
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	if s.baseURL == "" && r.Host != "" {
		s.baseURL = "http://" + r.Host
		if s.other != nil {
			s.other.SetBaseURL(s.baseURL)
		}
	}
	s.mu.Unlock()
	switch p := r.URL.Path; {
	case p == "/oauth/v2/auth":
		s.authorize(w, r)
	case p == "/oauth/v2/token":
		s.token(w, r)
	case strings.HasPrefix(p, "/bigin/v1/"), strings.HasPrefix(p, "/bigin/v2/"):
		if s.other.ownsAccessToken(r) {
			s.other.api(w, r)
			return
		}
		s.api(w, r)
	case isRecordPage(p):
		s.recordPage(w, r)
	default:
		writeError(w, http.StatusNotFound, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one", nil)
	}
}

// SetBaseURL sets the URL the sandbox is served at: what it answers as
// api_domain and as accounts-server. Call it after httptest.NewServer.
// Until then the sandbox uses http://<Host of the request>.
func (s *Sandbox) SetBaseURL(u string) {
	s.mu.Lock()
	s.baseURL = strings.TrimRight(u, "/")
	s.mu.Unlock()
	if s.other != nil {
		s.other.SetBaseURL(u)
	}
}

// ownsGrant reports whether a token request's form exchanges a code or
// refresh token that s issued (false for a nil s).
func (s *Sandbox) ownsGrant(f url.Values) bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, code := s.codes[f.Get("code")]
	_, rt := s.refresh[f.Get("refresh_token")]
	return code || rt
}

// ownsAccessToken reports whether an API request carries an access token
// that s issued (false for a nil s).
func (s *Sandbox) ownsAccessToken(r *http.Request) bool {
	if s == nil {
		return false
	}
	_, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.access[strings.TrimSpace(cred)]
	return ok
}

// BaseURL returns the URL set by SetBaseURL.
func (s *Sandbox) BaseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// SetAPIDomain makes the token endpoint answer api_domain u instead of the
// base URL, e.g. a host that is not a configured datacenter's, to test that
// a client refuses it. "" restores the base URL.
func (s *Sandbox) SetAPIDomain(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiDomain = u
}

// Location returns the datacenter code the sandbox answers in callbacks.
func (s *Sandbox) Location() string { return s.opts.Location }

// ClientID returns the registered OAuth client id.
func (s *Sandbox) ClientID() string { return s.opts.ClientID }

// ClientSecret returns the registered OAuth client secret.
func (s *Sandbox) ClientSecret() string { return s.opts.ClientSecret }

// Scopes returns the scopes IssueRefreshToken grants when given none:
// DirectoryScopes and RecordScopes, everything the bigin client needs.
func Scopes() []string { return append(DirectoryScopes(), RecordScopes()...) }

// DirectoryScopes returns the scopes of the users, org, roles and
// profiles endpoints: what an account connected before the record tools
// holds. Its record calls get 401 OAUTH_SCOPE_MISMATCH.
func DirectoryScopes() []string {
	return []string{"ZohoBigin.users.ALL", "ZohoBigin.org.READ", "ZohoBigin.settings.roles.READ", "ZohoBigin.settings.profiles.READ"}
}

// RecordScopes returns the scopes of the record endpoints: records of
// every module, notes, COQL, search and the fields and layouts metadata.
func RecordScopes() []string {
	return []string{"ZohoBigin.modules.ALL", "ZohoBigin.modules.notes.ALL", "ZohoBigin.coql.READ", "ZohoSearch.securesearch.READ", "ZohoBigin.settings.ALL"}
}

// IssueRefreshToken returns a new refresh token of the primary user (the
// org's super admin) with the scopes (Scopes() when none), as if the
// connect flow had run with access_type=offline.
func (s *Sandbox) IssueRefreshToken(scopes ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueRefreshLocked(s.primary, scopes)
}

// IssueRefreshTokenFor is IssueRefreshToken for another user, e.g. one
// without the Administrator profile to test NO_PERMISSION.
func (s *Sandbox) IssueRefreshTokenFor(userID string, scopes ...string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[userID]; !ok {
		return "", errors.New("sandbox: no user with id " + userID)
	}
	return s.issueRefreshLocked(userID, scopes), nil
}

func (s *Sandbox) issueRefreshLocked(userID string, scopes []string) string {
	if len(scopes) == 0 {
		scopes = Scopes()
	}
	rt := newToken()
	s.refresh[rt] = &refreshGrant{userID: userID, scopes: slices.Clone(scopes)}
	list := append(s.refreshBy[userID], rt)
	if max := s.opts.MaxRefreshTokens; max > 0 && len(list) > max {
		for _, old := range list[:len(list)-max] {
			s.revokeLocked(old)
			delete(s.refresh, old)
		}
		list = slices.Clone(list[len(list)-max:])
	}
	s.refreshBy[userID] = list
	return rt
}

// RevokeRefreshToken revokes a refresh token and the access tokens minted
// from it, as revoking the app in Zoho's UI does: the next refresh gets
// {"error":"invalid_code"}. It reports whether the token existed.
func (s *Sandbox) RevokeRefreshToken(rt string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.refresh[rt]; !ok {
		return false
	}
	s.revokeLocked(rt)
	return true
}

func (s *Sandbox) revokeLocked(rt string) {
	g := s.refresh[rt]
	g.revoked = true
	for _, at := range g.access {
		delete(s.access, at)
	}
	g.access = nil
}

// ExpireAccessTokens makes every access token issued so far invalid, as if
// an hour had passed: API calls with them get 401 INVALID_TOKEN.
func (s *Sandbox) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.access)
	for _, g := range s.refresh {
		g.access = nil
	}
}

// SetDenyConsent makes the consent endpoint redirect with
// error=access_denied, as when the user refuses (UNVERIFIED error value).
func (s *Sandbox) SetDenyConsent(deny bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denyConsent = deny
}

// SetRedirectURIs replaces the client's registered redirect URIs, as a
// developer edits them in Zoho's API console: from then on the consent
// endpoint accepts only these, exactly (none at all when called with
// none), whatever Options.RedirectURIs said. A server whose public URL
// is known only once it listens (port 0) registers its callback then.
func (s *Sandbox) SetRedirectURIs(uris ...string) {
	s.mu.Lock()
	s.redirectURIs, s.redirectsSet = slices.Clone(uris), true
	s.mu.Unlock()
	if s.other != nil {
		s.other.SetRedirectURIs(uris...)
	}
}

// redirectRegistered reports whether the consent endpoint may send the
// browser to uri: any address while none are registered, else one of
// them.
func (s *Sandbox) redirectRegistered(uri string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.redirectsSet || slices.Contains(s.redirectURIs, uri)
}

// SetConsentUser sets the user who approves the consent screen (the
// primary user by default).
func (s *Sandbox) SetConsentUser(userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[userID]; !ok {
		return errors.New("sandbox: no user with id " + userID)
	}
	s.consentUser = userID
	return nil
}

// RefreshCount returns how many refresh_token grants the token endpoint
// has answered, whatever the outcome.
func (s *Sandbox) RefreshCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes
}

// RequestCount returns how many HTTP requests the sandbox has received
// (OAuth and API).
func (s *Sandbox) RequestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// APIRequests returns the API requests answered so far, oldest first.
func (s *Sandbox) APIRequests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.log))
	for i, r := range s.log {
		r.Query = cloneValues(r.Query)
		out[i] = r
	}
	return out
}

// APIRequestCount returns how many API requests have been answered.
func (s *Sandbox) APIRequestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.log)
}

// ResetCounts zeroes RequestCount and RefreshCount and empties the API
// request log.
func (s *Sandbox) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.refreshes, s.log = 0, 0, nil
}

// hold keeps API requests waiting until it is released.
type hold struct {
	held chan struct{} // one value per request that starts waiting
	gate chan struct{} // closed by release
}

// HoldAPI makes every API request wait, before it is answered, until
// release is called. Each request sends on held as it starts waiting, so a
// test knows a call is in flight at Zoho without guessing how long that
// takes. A request whose context ends first gets no answer.
func (s *Sandbox) HoldAPI() (held <-chan struct{}, release func()) {
	h := &hold{held: make(chan struct{}, 1024), gate: make(chan struct{})}
	s.mu.Lock()
	s.hold = h
	s.mu.Unlock()
	var once sync.Once
	return h.held, func() {
		once.Do(func() {
			s.mu.Lock()
			if s.hold == h {
				s.hold = nil
			}
			s.mu.Unlock()
			close(h.gate)
		})
	}
}

// SetLatency delays every API answer by d (0 turns it off); a request whose
// context ends first gets no answer.
func (s *Sandbox) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

func (s *Sandbox) apiDomainLocked() string {
	if s.apiDomain != "" {
		return s.apiDomain
	}
	return s.baseURL
}

// newToken returns a Zoho-shaped opaque token: 1000.<hex>.<hex>.
func newToken() string {
	var b [32]byte
	rand.Read(b[:]) // never fails: it crashes the program instead (Go 1.24+)
	return "1000." + hex.EncodeToString(b[:16]) + "." + hex.EncodeToString(b[16:])
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// SetUserStatus changes a user's status ("active", "disabled",
// "deleted"), as an administrator deactivating, reactivating or deleting
// them in Zoho's UI does.
func (s *Sandbox) SetUserStatus(userID, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[userID]
	if !ok {
		return errors.New("sandbox: no user with id " + userID)
	}
	u.Status = status
	s.pages = nil
	s.usersGen++
	return nil
}
