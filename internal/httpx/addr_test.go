package httpx_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
)

// TestClientAddr: without trusted proxies the client is the connection's
// remote end, counted by its /64 when it is IPv6.
func TestClientAddr(t *testing.T) {
	tests := []struct{ remote, want string }{
		{"203.0.113.7:51234", "203.0.113.7"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:443", "2001:db8:1:2::/64"}, // the same subscriber
		{"[2001:db8:1:3::1]:443", "2001:db8:1:3::/64"},
		{"[::ffff:203.0.113.7]:80", "203.0.113.7"},
		{"[fe80::1%eth0]:80", "fe80::/64"},
		{"203.0.113.7", "203.0.113.7"},
		{"pipe", ""},
		{"", ""},
	}
	for _, tt := range tests {
		r := &http.Request{RemoteAddr: tt.remote, Header: http.Header{"X-Forwarded-For": {"198.51.100.9"}}}
		assert.Equal(t, tt.want, httpx.ClientAddr(r), "%s: no header is read outside a trusted proxy's Wrap", tt.remote)
	}
}

func mustTrust(t *testing.T, items ...string) *httpx.TrustedProxies {
	t.Helper()
	p, err := httpx.ParseTrustedProxies(items)
	require.NoError(t, err)
	return p
}

// TestTrustedProxiesClient: the client behind trusted proxies is the
// right-most X-Forwarded-For address that is not itself a trusted proxy;
// nothing a client writes into the header itself, nor any header from a
// peer that is not trusted, chooses the address it is counted as.
func TestTrustedProxiesClient(t *testing.T) {
	t.Parallel()
	proxies := mustTrust(t, "10.0.0.0/8", "192.0.2.1", "2001:db8:ffff::/48")
	const (
		proxy   = "10.0.0.3:40000"
		proxy6  = "[2001:db8:ffff::1]:40000"
		client  = "203.0.113.7"
		spoofed = "198.51.100.9"
	)
	xff := func(lines ...string) http.Header { return http.Header{"X-Forwarded-For": lines} }
	tests := []struct {
		name    string
		proxies *httpx.TrustedProxies
		remote  string
		header  http.Header
		want    string // ClientIP; "" for no address
		key     string // ClientAddr, when it differs
	}{
		// Peers that are not trusted: their header is ignored.
		{"no proxy is trusted", nil, "203.0.113.50:1", xff(spoofed), "203.0.113.50", ""},
		{"an untrusted peer spoofs the header", proxies, "203.0.113.50:1", xff(spoofed), "203.0.113.50", ""},
		{"an untrusted peer names a trusted proxy", proxies, "203.0.113.50:1", xff("10.0.0.9"), "203.0.113.50", ""},
		{"a peer just outside a trusted range", proxies, "11.0.0.1:1", xff(spoofed), "11.0.0.1", ""},
		{"an untrusted IPv6 peer", proxies, "[2001:db8:fffe::1]:1", xff(spoofed), "2001:db8:fffe::1", "2001:db8:fffe::/64"},

		// One trusted proxy.
		{"a trusted proxy names its client", proxies, proxy, xff(client), client, ""},
		{"a single trusted address", proxies, "192.0.2.1:8080", xff(client), client, ""},
		{"a trusted proxy without the header", proxies, proxy, nil, "10.0.0.3", ""},
		{"a client's own entry is left of its proxy's", proxies, proxy, xff(spoofed + ", " + client), client, ""},
		{"a client's own trusted-looking entry is left of its proxy's", proxies, proxy, xff("10.0.0.9, " + client), client, ""},
		{"the Forwarded header is not read", proxies, proxy, http.Header{"Forwarded": {"for=" + spoofed}}, "10.0.0.3", ""},
		{"an entry with a port", proxies, proxy, xff(client + ":5123"), client, ""},
		{"an IPv4-mapped entry", proxies, proxy, xff("::ffff:" + client), client, ""},
		{"an IPv4-mapped trusted peer", proxies, "[::ffff:10.0.0.3]:40000", xff(client), client, ""},

		// Chains of proxies.
		{"two trusted proxies", proxies, proxy, xff(client + ", 10.0.0.2"), client, ""},
		{"three, spoofed on the left", proxies, proxy, xff(spoofed + ", " + client + ", 10.1.0.1, 192.0.2.1"), client, ""},
		{"an untrusted hop in the middle is the client", proxies, proxy, xff(client + ", 198.51.100.1, 10.0.0.2"), "198.51.100.1", ""},
		{"every hop trusted: the farthest", proxies, proxy, xff("10.0.0.5, 10.0.0.2"), "10.0.0.5", ""},
		{"the header over several lines", proxies, proxy, xff(spoofed, client+", 10.0.0.2"), client, ""},
		{"the client on an earlier line", proxies, proxy, xff(spoofed+", "+client, "10.0.0.2"), client, ""},
		{"empty items are skipped", proxies, proxy, xff(client + ", , 10.0.0.2,"), client, ""},

		// IPv6.
		{"an IPv6 client", proxies, proxy, xff("2001:db8:1:2::5"), "2001:db8:1:2::5", "2001:db8:1:2::/64"},
		{"an IPv6 client in brackets", proxies, proxy, xff("[2001:db8:1:2::5]"), "2001:db8:1:2::5", "2001:db8:1:2::/64"},
		{"an IPv6 client with a port", proxies, proxy, xff("[2001:db8:1:2::5]:4711"), "2001:db8:1:2::5", "2001:db8:1:2::/64"},
		{"an IPv6 proxy", proxies, proxy6, xff(client), client, ""},
		{"an IPv6 chain", proxies, proxy6, xff(spoofed + ", 2001:db8:1:2::5, 2001:db8:ffff:9::1"), "2001:db8:1:2::5", "2001:db8:1:2::/64"},

		// Garbage where the client should be: the connection's address.
		{"not an address", proxies, proxy, xff("not-an-ip"), "10.0.0.3", ""},
		{"unknown", proxies, proxy, xff("unknown"), "10.0.0.3", ""},
		{"an obfuscated name", proxies, proxy, xff("_hidden"), "10.0.0.3", ""},
		{"an octet out of range", proxies, proxy, xff("999.1.1.1"), "10.0.0.3", ""},
		{"two addresses without a comma", proxies, proxy, xff(client + " " + spoofed), "10.0.0.3", ""},
		{"a zone", proxies, proxy, xff("fe80::1%eth0"), "10.0.0.3", ""},
		{"an unclosed bracket", proxies, proxy, xff("[2001:db8::1"), "10.0.0.3", ""},
		{"a Forwarded-style value", proxies, proxy, xff("for=" + client), "10.0.0.3", ""},
		{"garbage behind a trusted hop", proxies, proxy, xff("garbage, 10.0.0.2"), "10.0.0.3", ""},
		{"an empty header", proxies, proxy, xff(""), "10.0.0.3", ""},
		{"only commas", proxies, proxy, xff(" , ,"), "10.0.0.3", ""},
		{"garbage left of the client is never read", proxies, proxy, xff("garbage, " + client), client, ""},
		{"a huge header", proxies, proxy, xff(strings.Repeat("x", 64<<10) + ", " + client), client, ""},

		// A connection address that cannot be read.
		{"an unreadable peer", proxies, "pipe", xff(client), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr, r.Header = tt.remote, tt.header
			got := tt.proxies.Client(r)
			if tt.want == "" {
				assert.False(t, got.IsValid(), "no address: got %s", got)
			} else {
				assert.Equal(t, netip.MustParseAddr(tt.want), got)
			}

			// What handlers and the limits read, through Wrap.
			var ip netip.Addr
			var key string
			tt.proxies.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				ip, key = httpx.ClientIP(r), httpx.ClientAddr(r)
			})).ServeHTTP(httptest.NewRecorder(), r)
			assert.Equal(t, got, ip, "ClientIP reads what Client found")
			if tt.key == "" {
				tt.key = tt.want
			}
			assert.Equal(t, tt.key, key, "ClientAddr")
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		items []string
		want  string // String(); "" for none
		err   string
	}{
		{"none", nil, "", ""},
		{"only blanks", []string{" ", ""}, "", ""},
		{"addresses and prefixes", []string{" 10.0.0.0/8", "192.0.2.1 ", "2001:db8::/32", "2001:db8:ffff::7"},
			"10.0.0.0/8,192.0.2.1/32,2001:db8::/32,2001:db8:ffff::7/128", ""},
		{"a prefix with host bits is masked", []string{"10.1.2.3/8"}, "10.0.0.0/8", ""},
		{"IPv4-mapped, read as IPv4", []string{"::ffff:10.0.0.7", "::ffff:10.0.0.0/104"}, "10.0.0.7/32,10.0.0.0/8", ""},
		{"not an address", []string{"proxy.internal"}, "", `"proxy.internal" is not an IP address or CIDR prefix`},
		{"a prefix too long", []string{"10.0.0.0/33"}, "", `"10.0.0.0/33" is not an IP address or CIDR prefix`},
		{"a port", []string{"10.0.0.7:80"}, "", `"10.0.0.7:80"`},
		{"a zone", []string{"fe80::1%eth0"}, "", `"fe80::1%eth0"`},
		{"a bad item among good ones", []string{"10.0.0.0/8", "10.0.0.300"}, "", `"10.0.0.300"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := httpx.ParseTrustedProxies(tt.items)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, p.String())
			if tt.want == "" {
				assert.Nil(t, p, "an empty list trusts no one")
			}
		})
	}
}

// TestRequestLogNamesTheClient: each request's log line carries the
// client's address: behind a trusted proxy the one it names, else the
// connection's.
func TestRequestLogNamesTheClient(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, tt := range []struct {
		proxies *httpx.TrustedProxies
		want    string
	}{
		{nil, "10.0.0.3"},
		{mustTrust(t, "10.0.0.0/8"), "2001:db8:1:2::5"},
	} {
		buf.Reset()
		r := httptest.NewRequest("GET", "/healthz", nil)
		r.RemoteAddr = "10.0.0.3:40000"
		r.Header.Set("X-Forwarded-For", "2001:db8:1:2::5")
		tt.proxies.Wrap(httpx.LogRequests(logger, ok)).ServeHTTP(httptest.NewRecorder(), r)
		var line map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &line), buf.String())
		assert.Equal(t, tt.want, line["client_addr"], "trusting %s", tt.proxies)
	}
}
