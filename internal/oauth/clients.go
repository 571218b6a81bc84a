package oauth

import (
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

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Limits of Client ID Metadata Document fetches.
const (
	cimdTimeout  = 5 * time.Second
	cimdMaxBytes = 64 << 10
	cimdCacheTTL = 10 * time.Minute
	cimdCacheMax = 1000
)

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
}

// client is an OAuth client as the authorization server knows it.
type client struct {
	ID           string
	Name         string
	RedirectURIs []string
}

// clientResolver finds clients: a client_id that is an https URL is a
// Client ID Metadata Document, fetched with SSRF guards and cached; any
// other client_id must have been registered (DCR).
type clientResolver struct {
	o      *tokens.OAuth
	http   *http.Client
	now    func() time.Time
	logger *slog.Logger

	mu    sync.Mutex
	cache map[string]cachedClient
}

type cachedClient struct {
	c       *client
	expires time.Time
}

// errUnknownClient is a client_id that names no client.
var errUnknownClient = errors.New("unknown client")

func newClientResolver(o *tokens.OAuth, opts CIMDOptions, now func() time.Time, logger *slog.Logger) *clientResolver {
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
	return &clientResolver{
		o: o, now: now, logger: logger, cache: map[string]cachedClient{},
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
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || cgnat.Contains(ip) {
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

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// isCIMD reports whether a client_id is a metadata document URL.
func isCIMD(id string) bool { return strings.HasPrefix(id, "https://") }

// resolve returns the client a client_id names: errUnknownClient when
// there is none, another error (with a reason for the person) when a
// metadata document cannot be used.
func (cr *clientResolver) resolve(ctx context.Context, id string) (*client, error) {
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
		return e.c, nil
	}
	cr.mu.Unlock()
	c, err := cr.fetch(ctx, id)
	if err != nil {
		return nil, err
	}
	cr.mu.Lock()
	if len(cr.cache) >= cimdCacheMax {
		for k, e := range cr.cache {
			if !cr.now().Before(e.expires) || len(cr.cache) >= cimdCacheMax {
				delete(cr.cache, k)
			}
		}
	}
	cr.cache[id] = cachedClient{c: c, expires: cr.now().Add(cimdCacheTTL)}
	cr.mu.Unlock()
	return c, nil
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
		cr.logger.WarnContext(ctx, "client metadata document fetch failed", "client_id", clip(id), "err", err)
		return nil, fmt.Errorf("%w: its metadata document could not be fetched", errUnknownClient)
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
	case len(doc.RedirectURIs) == 0:
		return nil, fmt.Errorf("%w: its metadata document lists no redirect_uris", errUnknownClient)
	case doc.AuthMethod != "" && doc.AuthMethod != "none":
		return nil, fmt.Errorf("%w: token_endpoint_auth_method %q is not supported (only public clients: none)", errUnknownClient, clip(doc.AuthMethod))
	}
	for _, ru := range doc.RedirectURIs {
		if err := checkRedirectURI(ru); err != nil {
			return nil, fmt.Errorf("%w: %v", errUnknownClient, err)
		}
	}
	name := strings.TrimSpace(doc.ClientName)
	if name == "" {
		name = u.Host
	}
	return &client{ID: id, Name: clip(name), RedirectURIs: doc.RedirectURIs}, nil
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
	if raw == "" || len(raw) > 2048 || strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return refuse("is not an absolute URI of at most 2048 characters without spaces")
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

// clip shortens text from a client for messages and logs.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
