package httpx

import (
	"net/http"
	"net/netip"
)

// ClientAddr names the address a request came from, as the key of the
// server's per-address limits: the IP address of the connection's remote
// end, with an IPv6 address reduced to its /64 (the usual allocation of
// one subscriber, who can use any address in it), and an IPv4-mapped IPv6
// address read as IPv4. It is "" when the remote address cannot be read.
//
// The server reads no forwarding header: behind a reverse proxy every
// request comes from the proxy's address, so the per-address limits hold
// for all clients of that proxy together.
func ClientAddr(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		a, err := netip.ParseAddr(r.RemoteAddr)
		if err != nil {
			return ""
		}
		ap = netip.AddrPortFrom(a, 0)
	}
	a := ap.Addr().Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
