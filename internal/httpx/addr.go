package httpx

import (
	"net/http"
	"net/netip"
	"strconv"
	"time"
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

// RetryAfter sets the Retry-After header to d in whole seconds, rounded
// up, and at least 1.
func RetryAfter(w http.ResponseWriter, d time.Duration) {
	secs := int((d + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
}

// TooManyFailures is the message of a request refused because its
// address spent its budget of failed credential checks.
const TooManyFailures = "too many failed sign-ins or wrong tokens from your address; try again after Retry-After seconds"
