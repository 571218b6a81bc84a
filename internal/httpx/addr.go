package httpx

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// TrustedProxies are the reverse proxies and load balancers whose
// X-Forwarded-For header names the client of a request they pass on. A
// nil *TrustedProxies, like an empty one, trusts no peer: the client is
// the connection's remote end and no header is read. Safe for concurrent
// use once built.
//
// Only X-Forwarded-For is read, never the RFC 7239 Forwarded header: a
// proxy that writes only X-Forwarded-For passes a client's own Forwarded
// header on untouched, so reading it would let any client choose the
// address it is counted as.
type TrustedProxies struct {
	prefixes []netip.Prefix
}

// ParseTrustedProxies reads a list of proxies, each an IP address
// (203.0.113.7, 2001:db8::7) or a CIDR prefix (10.0.0.0/8, fd00::/8);
// surrounding space and empty items are ignored, and an IPv4-mapped IPv6
// address is read as IPv4. It returns nil for an empty list. An item that
// is neither an address nor a prefix, or that carries a zone (fe80::1%eth0,
// which means nothing beyond the host that wrote it), is an error that
// quotes it.
func ParseTrustedProxies(items []string) (*TrustedProxies, error) {
	var p TrustedProxies
	for _, item := range items {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		prefix, err := parseProxy(item)
		if err != nil {
			return nil, err
		}
		p.prefixes = append(p.prefixes, prefix)
	}
	if len(p.prefixes) == 0 {
		return nil, nil
	}
	return &p, nil
}

// parseProxy reads one item of ParseTrustedProxies as a prefix; an
// address is the prefix of itself alone.
func parseProxy(item string) (netip.Prefix, error) {
	bad := fmt.Errorf("%q is not an IP address or CIDR prefix (like 10.0.0.7, 10.0.0.0/8 or fd00::/8)", item)
	if strings.Contains(item, "%") {
		return netip.Prefix{}, bad
	}
	if strings.Contains(item, "/") {
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return netip.Prefix{}, bad
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(item)
	if err != nil {
		return netip.Prefix{}, bad
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// String lists the trusted prefixes, comma-separated.
func (p *TrustedProxies) String() string {
	if p == nil {
		return ""
	}
	s := make([]string, len(p.prefixes))
	for i, prefix := range p.prefixes {
		s[i] = prefix.String()
	}
	return strings.Join(s, ",")
}

// trusts reports whether a is one of the proxies.
func (p *TrustedProxies) trusts(a netip.Addr) bool {
	if p == nil {
		return false
	}
	for _, prefix := range p.prefixes {
		if prefix.Contains(a) {
			return true
		}
	}
	return false
}

// Client returns the address of the client that sent r: the connection's
// remote address, unless that is a trusted proxy; then, reading
// X-Forwarded-For (every line of it, in order, as one list) from the
// right, the first address that is not a trusted proxy, or the left-most
// one when every address in it is. Each proxy appends the address it was
// reached from, so what a client wrote itself lies to the left of the
// address its proxy saw, and is never reached. A header from a peer that
// is not trusted is ignored. When an item read before the client is not
// an address (garbage, "unknown", an obfuscated RFC 7239 name), or a
// trusted peer sent no header, the client is the connection's address: a
// proxy that says nothing usable gets no client distinguished behind it.
// An item may carry a port (203.0.113.7:5123, [2001:db8::7]:443), which
// is dropped. The address is invalid when the connection's cannot be
// read.
//
// It is the one place the client address is worked out; the server
// calls it once per request, through Wrap, and ClientIP and ClientAddr
// read its answer.
func (p *TrustedProxies) Client(r *http.Request) netip.Addr {
	peer := connectionAddr(r.RemoteAddr)
	if !peer.IsValid() || !p.trusts(peer) {
		return peer
	}
	client := peer
	lines := r.Header.Values("X-Forwarded-For")
	for i := len(lines) - 1; i >= 0; i-- {
		rest := lines[i]
		for rest != "" {
			var item string
			if j := strings.LastIndexByte(rest, ','); j >= 0 {
				rest, item = rest[:j], rest[j+1:]
			} else {
				rest, item = "", rest
			}
			item = strings.TrimSpace(item)
			if item == "" {
				continue // a list may hold empty items ("a, , b")
			}
			a, ok := forwardedAddr(item)
			if !ok {
				return peer
			}
			if client = a; !p.trusts(a) {
				return a
			}
		}
	}
	return client
}

// Wrap returns h with each request's client address (Client) worked out
// once, for ClientIP, ClientAddr and the request log to read. Wrap it
// outside LogRequests.
func (p *TrustedProxies) Wrap(h http.Handler) http.Handler {
	if p == nil {
		return h // the connection's address, which ClientIP reads itself
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, p.Client(r))))
	})
}

type clientKey struct{}

// ClientIP returns the address of the client that sent r: the one
// TrustedProxies.Wrap found, or, outside Wrap, the connection's remote
// address (no header is read). It is invalid when neither can be read.
func ClientIP(r *http.Request) netip.Addr {
	if a, ok := r.Context().Value(clientKey{}).(netip.Addr); ok {
		return a
	}
	return (*TrustedProxies)(nil).Client(r)
}

// ClientAddr names the address a request came from (ClientIP), as the
// key of the server's per-address limits: an IPv6 address is reduced to
// its /64 (the usual allocation of one subscriber, who can use any
// address in it). It is "" when the address cannot be read.
func ClientAddr(r *http.Request) string {
	a := ClientIP(r)
	switch {
	case !a.IsValid():
		return ""
	case a.Is6():
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// connectionAddr reads a connection's remote address (host:port, or a
// bare IP): an IPv4-mapped IPv6 address as IPv4, without its zone. It is
// invalid when addr is neither.
func connectionAddr(addr string) netip.Addr {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return netip.Addr{}
		}
		ap = netip.AddrPortFrom(a, 0)
	}
	return ap.Addr().Unmap().WithZone("")
}

// forwardedAddr reads one item of X-Forwarded-For: an IP address,
// optionally with a port (an IPv6 address then in brackets), an
// IPv4-mapped one read as IPv4. A zone is refused: it means nothing
// beyond the host that wrote it.
func forwardedAddr(item string) (netip.Addr, bool) {
	if strings.Contains(item, "%") {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(item)
	if err != nil {
		if strings.HasPrefix(item, "[") && strings.HasSuffix(item, "]") {
			a, err = netip.ParseAddr(item[1 : len(item)-1])
		} else {
			var ap netip.AddrPort
			ap, err = netip.ParseAddrPort(item)
			a = ap.Addr()
		}
		if err != nil {
			return netip.Addr{}, false
		}
	}
	return a.Unmap(), true
}

// RetryAfter sets the Retry-After header to d in whole seconds, rounded
// up, and at least 1.
func RetryAfter(w http.ResponseWriter, d time.Duration) {
	secs := int((d + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
}

// TooManyFailures is the message of a request refused because its
// address spent its budget of failed credential checks.
const TooManyFailures = "too many failed sign-ins or wrong tokens from your address; try again after Retry-After seconds"
