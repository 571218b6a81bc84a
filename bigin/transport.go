package bigin

import "net/http"

// idleConnsPerHost is how many idle connections to one Zoho host a
// transport from NewTransport keeps: as many as concurrent calls keep busy
// on a loaded server, so a burst of calls reuses connections instead of
// opening and closing them (net/http keeps 2 by default).
const idleConnsPerHost = 64

// NewTransport returns an HTTP transport for calling Zoho, shared by every
// account's client: net/http's default settings (proxy from the
// environment, timeouts, HTTP/2 wherever the server offers it over TLS)
// with room for idleConnsPerHost idle connections per host. A connection
// Zoho answers over HTTP/1.1 serves one call at a time, and with the
// default of 2 idle connections every call beyond the second of a burst
// paid a new TCP and TLS handshake.
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ForceAttemptHTTP2 = true
	t.MaxIdleConnsPerHost = idleConnsPerHost
	t.MaxIdleConns = 4 * idleConnsPerHost
	return t
}
