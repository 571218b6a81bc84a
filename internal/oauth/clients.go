package oauth

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/bigin-mcp/bigin-mcp/internal/clock"
	"github.com/bigin-mcp/bigin-mcp/internal/ratelimit"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Limits of Client ID Metadata Document fetches. Any client can name any
// https URL as its client_id, so fetches are bounded every way: each
// takes at most cimdTimeout and cimdMaxBytes; a document is fetched once
// however many requests name it at the same time, then remembered
// (cimdCacheTTL when usable, cimdFailureTTL when not, cimdCacheMax
// documents at most); at most cimdMaxFetches run at once across the
// server; and each client address may make the server fetch
// CIMDOptions.FetchesPerAddress documents it does not remember per
// minute.
const (
	cimdTimeout    = 5 * time.Second
	cimdMaxBytes   = 64 << 10
	cimdCacheTTL   = 10 * time.Minute
	cimdFailureTTL = time.Minute
	cimdCacheMax   = 1000
	cimdMaxFetches = 8
)

// DefaultCIMDFetchesPerAddress is CIMDOptions.FetchesPerAddress when it
// is zero.
const DefaultCIMDFetchesPerAddress = 20

// CIMDOptions configures how Client ID Metadata Documents are fetched.
type CIMDOptions struct {
	// AllowPrivateAddresses lets documents come from loopback, private and
	// link-local addresses. Only tests set it: in production a client_id
	// URL must not make the server reach its own network.
	AllowPrivateAddresses bool
	// AllowLoopback lets documents come from loopback addresses
	// (127.0.0.0/8, ::1) and from no other non-public address: for test
	// suites whose clients serve their documents on the same machine as
	// the server. Private, link-local and carrier-grade NAT ranges stay
	// refused. Never on in production.
	AllowLoopback bool
	// TLSConfig, when set, is used for the fetches (tests trust their own
	// CA with it); nil means the system roots.
	TLSConfig *tls.Config
	// Timeout bounds one fetch, connection included; zero means 5 s.
	// Only tests shorten it.
	Timeout time.Duration
	// FetchesPerAddress is how many documents the server does not
	// remember one client address may make it fetch per minute (0 means
	// DefaultCIMDFetchesPerAddress).
	FetchesPerAddress int
}

// client is an OAuth client as the authorization server knows it.
type client struct {
	ID           string
	Name         string
	RedirectURIs []string
}

// clientResolver finds clients: a client_id that is an https URL is a
// Client ID Metadata Document, fetched with SSRF guards, bounded and
// cached (see the limits above); any other client_id must have been
// registered (DCR).
type clientResolver struct {
	o            *tokens.OAuth
	http         *http.Client
	now          func() time.Time
	logger       *slog.Logger
	perAddr      *ratelimit.Limiter // uncached fetches per client address
	perAddrLimit ratelimit.Limit
	slots        chan struct{} // one per fetch in flight

	mu       sync.Mutex
	cache    map[string]cachedClient
	inflight map[string]*fetchCall
}

// cachedClient is a fetched document's outcome: the client, or why it
// cannot be used.
type cachedClient struct {
	c       *client
	err     error
	expires time.Time
}

// fetchCall is a fetch in flight, which requests naming the same
// document wait for.
type fetchCall struct {
	done chan struct{}
	c    *client
	err  error
}

// errUnknownClient is a client_id that names no client.
var errUnknownClient = errors.New("unknown client")

func newClientResolver(o *tokens.OAuth, opts CIMDOptions, clk clock.Clock, logger *slog.Logger) *clientResolver {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = cimdTimeout
	}
	dialer := &net.Dialer{Timeout: timeout}
	switch {
	case opts.AllowPrivateAddresses:
	case opts.AllowLoopback:
		dialer.Control = refuseNonLoopbackPrivate
	default:
		dialer.Control = refusePrivate
	}
	tr := &http.Transport{
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          10,
		IdleConnTimeout:       30 * time.Second,
		Proxy:                 nil, // a proxy would dial on our behalf, past the guard
	}
	if opts.TLSConfig != nil {
		tr.TLSClientConfig = opts.TLSConfig.Clone()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	clk = clock.OrSystem(clk)
	return &clientResolver{
		o: o, now: clk.Now, logger: logger, cache: map[string]cachedClient{}, inflight: map[string]*fetchCall{},
		perAddr: ratelimit.New(clk), perAddrLimit: ratelimit.Limit{Requests: cmp.Or(opts.FetchesPerAddress, DefaultCIMDFetchesPerAddress), Per: time.Minute},
		slots: make(chan struct{}, cimdMaxFetches),
		http: &http.Client{
			Transport: tr,
			Timeout:   timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return errors.New("client metadata documents are not fetched through redirects")
			},
		},
	}
}

// refusePrivate is the dialer's guard: it runs on the resolved address,
// so a name that resolves to an internal address is refused too.
func refusePrivate(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refusing to dial %q: %w", address, err)
	}
	ip := ap.Addr().Unmap()
	if !isPublic(ip) {
		return fmt.Errorf("refusing to fetch a client metadata document from the non-public address %s", ip)
	}
	return nil
}

// refuseNonLoopbackPrivate is the guard with loopback allowed: every
// other address refusePrivate refuses stays refused.
func refuseNonLoopbackPrivate(network, address string, c syscall.RawConn) error {
	if ap, err := netip.ParseAddrPort(address); err == nil && ap.Addr().Unmap().IsLoopback() {
		return nil
	}
	return refusePrivate(network, address, c)
}

// isPublic reports whether ip is an address of the public Internet: a
// global unicast address outside the private, loopback, link-local,
// carrier-grade NAT and special-purpose ranges. IPv6 transition addresses
// embed an IPv4 address that the host's network may reach: a NAT64
// address of the well-known prefix (how an IPv6-only host behind DNS64
// reaches IPv4 servers) is public when the IPv4 address it embeds is;
// local-use NAT64, 6to4, Teredo and IPv4-compatible addresses are refused
// whatever they embed (they are deprecated or local, and no document
// host needs them).
func isPublic(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
		return false
	}
	if nat64.Contains(ip) {
		b := ip.As16()
		return isPublic(netip.AddrFrom4([4]byte(b[12:])))
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// nat64 is the well-known NAT64 prefix (RFC 6052), whose addresses end in
// the IPv4 address they stand for.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// nonPublic are the ranges, beyond the private, loopback and link-local
// ones, that are not the public Internet or embed an address the guard
// could not vouch for (IANA's special-purpose address registries).
var nonPublic = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"100.64.0.0/10",   // carrier-grade NAT
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"240.0.0.0/4",     // reserved
		"::/96",           // IPv4-compatible (deprecated)
		"64:ff9b:1::/48",  // local-use NAT64 (RFC 8215)
		"100::/64",        // discard-only
		"2001::/32",       // Teredo
		"2001:2::/48",     // benchmarking
		"2001:db8::/32",   // documentation
		"2002::/16",       // 6to4
		"3fff::/20",       // documentation
		"5f00::/16",       // segment routing
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// isCIMD reports whether a client_id is a metadata document URL.
func isCIMD(id string) bool { return strings.HasPrefix(id, "https://") }

// resolve returns the client a client_id names, for a request from the
// client address addr (httpx.ClientAddr): errUnknownClient when there is
// none or its metadata document cannot be used (the error says why, for
// the log; people are shown one message for every reason, so the pages
// do not tell the outcomes of fetches apart), another error when the
// store fails.
func (cr *clientResolver) resolve(ctx context.Context, id, addr string) (*client, error) {
	if id == "" || len(id) > 2048 {
		return nil, errUnknownClient
	}
	if !isCIMD(id) {
		c, err := cr.o.Client(ctx, id)
		if errors.Is(err, tokens.ErrNotFound) {
			return nil, errUnknownClient
		}
		if err != nil {
			return nil, err
		}
		return &client{ID: c.ID, Name: c.Name, RedirectURIs: c.RedirectURIs}, nil
	}
	cr.mu.Lock()
	if e, ok := cr.cache[id]; ok && cr.now().Before(e.expires) {
		cr.mu.Unlock()
		return e.c, e.err
	}
	call, ok := cr.inflight[id]
	if !ok {
		if err := cr.admitFetch(addr); err != nil {
			cr.mu.Unlock()
			cr.logger.WarnContext(ctx, "client metadata document not fetched", "client_id", clip(id), "err", err)
			return nil, err
		}
		call = &fetchCall{done: make(chan struct{})}
		cr.inflight[id] = call
		// The fetch is everyone's who asks meanwhile: it does not end
		// with this request (cr.http bounds it).
		go cr.run(context.WithoutCancel(ctx), id, call)
	}
	cr.mu.Unlock()
	select {
	case <-call.done:
		return call.c, call.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", errUnknownClient, ctx.Err())
	}
}

// admitFetch takes a fetch slot and one of addr's fetches, or says why
// not; cr.mu is held.
func (cr *clientResolver) admitFetch(addr string) error {
	if d := cr.perAddr.Take(ratelimit.Key{Name: addr, Limit: cr.perAddrLimit}); !d.Allowed {
		return fmt.Errorf("%w: this address asked for over %d new metadata documents in a minute", errUnknownClient, cr.perAddrLimit.Requests)
	}
	select {
	case cr.slots <- struct{}{}:
		return nil
	default:
		return fmt.Errorf("%w: %d metadata documents are being fetched already", errUnknownClient, cimdMaxFetches)
	}
}

// run fetches a document for call, remembers the outcome and hands it to
// everyone waiting.
func (cr *clientResolver) run(ctx context.Context, id string, call *fetchCall) {
	c, err := cr.fetch(ctx, id)
	if err != nil {
		cr.logger.WarnContext(ctx, "client metadata document refused", "client_id", clip(id), "err", err)
	}
	<-cr.slots
	ttl := cimdCacheTTL
	if err != nil {
		ttl = cimdFailureTTL
	}
	cr.mu.Lock()
	now := cr.now()
	if len(cr.cache) >= cimdCacheMax {
		for k, e := range cr.cache {
			if !now.Before(e.expires) || len(cr.cache) >= cimdCacheMax {
				delete(cr.cache, k)
			}
		}
	}
	cr.cache[id] = cachedClient{c: c, err: err, expires: now.Add(ttl)}
	delete(cr.inflight, id)
	call.c, call.err = c, err
	cr.mu.Unlock()
	close(call.done)
}

// fetch reads and checks a Client ID Metadata Document.
func (cr *clientResolver) fetch(ctx context.Context, id string) (*client, error) {
	u, err := url.Parse(id)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Path == "" || u.Path == "/" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%w: a client_id URL must be an https URL with a path", errUnknownClient)
	}
	ctx, cancel := context.WithTimeout(ctx, cr.http.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUnknownClient, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := cr.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: its metadata document could not be fetched: %w", errUnknownClient, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: its metadata document answered HTTP %d", errUnknownClient, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, cimdMaxBytes+1))
	if err != nil || len(body) > cimdMaxBytes {
		return nil, fmt.Errorf("%w: its metadata document is unreadable or over 64 KiB", errUnknownClient)
	}
	var doc struct {
		ClientID     string   `json:"client_id"`
		ClientName   string   `json:"client_name"`
		RedirectURIs []string `json:"redirect_uris"`
		AuthMethod   string   `json:"token_endpoint_auth_method"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("%w: its metadata document is not JSON", errUnknownClient)
	}
	switch {
	case doc.ClientID != id:
		return nil, fmt.Errorf("%w: its metadata document names another client_id", errUnknownClient)
	case doc.AuthMethod != "" && doc.AuthMethod != "none":
		return nil, fmt.Errorf("%w: token_endpoint_auth_method %q is not supported (only public clients: none)", errUnknownClient, clip(doc.AuthMethod))
	}
	if err := checkRedirectURIs(doc.RedirectURIs); err != nil {
		return nil, fmt.Errorf("%w: %v", errUnknownClient, err)
	}
	name := strings.TrimSpace(doc.ClientName)
	if name == "" {
		name = u.Host
	}
	return &client{ID: id, Name: clip(name), RedirectURIs: doc.RedirectURIs}, nil
}

// Bounds of a client's redirect URIs, registered or in a metadata
// document: they are stored (registration) or cached (documents), so
// they are kept to what a real client lists. VS Code, the longest list
// seen, registers six addresses of under 40 bytes each.
const (
	maxRedirectURIs     = 20
	maxRedirectURI      = 512     // bytes, each
	maxRedirectURIBytes = 4 << 10 // bytes, all together
)

// checkRedirectURIs checks a client's list of redirect URIs: 1 to
// maxRedirectURIs of them, each accepted by checkRedirectURI, at most
// maxRedirectURIBytes together.
func checkRedirectURIs(uris []string) error {
	if len(uris) == 0 || len(uris) > maxRedirectURIs {
		return fmt.Errorf("redirect_uris must list 1 to %d URIs", maxRedirectURIs)
	}
	total := 0
	for _, u := range uris {
		if err := checkRedirectURI(u); err != nil {
			return err
		}
		total += len(u)
	}
	if total > maxRedirectURIBytes {
		return fmt.Errorf("redirect_uris add up to %d bytes, over %d: list only the addresses the application uses", total, maxRedirectURIBytes)
	}
	return nil
}

// checkRedirectURI accepts the redirect URIs of the clients this server
// serves, as RFC 8252 (OAuth for native apps) and the hosted clients use
// them:
//
//   - https, an exact address (a hosted client's callback, such as
//     https://claude.ai/api/mcp/auth_callback), matched byte for byte;
//   - http on a loopback host, a native app's listener (RFC 8252 §7.3),
//     whose port may differ at each authorization;
//   - a private-use scheme (RFC 8252 §7.1), the scheme a native app claims
//     on its platform, such as cursor://anysphere.cursor-mcp/oauth/callback
//     or com.example.app:/oauth2redirect, matched exactly. Schemes that
//     browsers handle themselves or that carry content (http elsewhere
//     than loopback, javascript, data, file, …) are not an app's, and the
//     URI must go on with a slash: javascript:alert(1) is no redirect.
//
// Never a fragment (RFC 6749 §3.1.2), user information, a wildcard, or a
// port outside 1–65535.
func checkRedirectURI(raw string) error {
	refuse := func(why string) error { return fmt.Errorf("redirect URI %q %s", clip(raw), why) }
	if raw == "" || len(raw) > maxRedirectURI || strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return refuse(fmt.Sprintf("is not an absolute URI of at most %d characters without spaces", maxRedirectURI))
	}
	if strings.Contains(raw, "#") {
		return refuse("must not have a fragment")
	}
	if strings.Contains(raw, "*") {
		return refuse("must not hold a wildcard: register each exact address")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.User != nil {
		return refuse("is not an absolute URI without user information")
	}
	if p := u.Port(); p != "" { // url.Parse has checked it is digits
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return refuse("must have a port from 1 to 65535")
		}
	}
	switch {
	case u.Scheme == "https":
		if u.Hostname() == "" {
			return refuse("has no host")
		}
		return nil
	case u.Scheme == "http":
		if isLoopbackHost(u.Hostname()) {
			return nil
		}
		return refuse("must use https, or http only on a loopback address (127.0.0.1, [::1] or localhost)")
	case notAppSchemes[u.Scheme]:
		return refuse("uses a scheme that is not an app's own; use https, http on a loopback address, or the app's private-use scheme")
	case u.Opaque != "" || (u.Host == "" && u.Path == ""):
		return refuse(`must go on with a slash after the scheme, as in com.example.app:/callback`)
	}
	return nil
}

// notAppSchemes are the schemes that browsers and systems handle
// themselves, or that carry the content itself: no app can claim them as
// its private-use scheme, so a redirect there is never a client's.
var notAppSchemes = map[string]bool{
	"javascript": true, "vbscript": true, "data": true, "blob": true, "file": true, "filesystem": true,
	"about": true, "view-source": true, "ftp": true, "ws": true, "wss": true,
	"mailto": true, "tel": true, "sms": true, "urn": true,
}

// redirectAllowed reports whether the redirect URI of a request is one the
// client registered: the same string, or, for http on a loopback host,
// the same host, path and query on any port (RFC 8252 §7.3).
func (c *client) redirectAllowed(raw string) bool {
	if slices.Contains(c.RedirectURIs, raw) {
		return true
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || !isLoopbackHost(u.Hostname()) || u.User != nil || strings.Contains(raw, "#") {
		return false
	}
	for _, reg := range c.RedirectURIs {
		r, err := url.Parse(reg)
		if err != nil || r.Scheme != "http" || !isLoopbackHost(r.Hostname()) {
			continue
		}
		if r.Hostname() == u.Hostname() && loopbackPath(r) == loopbackPath(u) && r.RawQuery == u.RawQuery {
			return true
		}
	}
	return false
}

// loopbackPath is the path of an http URI, with the empty path read as
// "/" (RFC 3986 §6.2.3): http://127.0.0.1:33418 and http://127.0.0.1/ name
// the same listener path.
func loopbackPath(u *url.URL) string {
	if u.Path == "" {
		return "/"
	}
	return u.Path
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}

// maxClip is how many bytes of a client's text clip keeps.
const maxClip = 200

// clip shortens text from a client (a client_name, a URI in a message) to
// at most maxClip bytes and an ellipsis, without control characters. It
// cuts between characters, never inside one, so the result is valid UTF-8
// (invalid bytes in the input become U+FFFD, as JSON would make them).
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) <= maxClip {
		return s
	}
	cut := maxClip
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
