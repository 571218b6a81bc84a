package oauth

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/clock/clocktest"
)

// docServer serves Client ID Metadata Documents over TLS on loopback:
// each path answers with what docs[path] writes. It counts requests per
// path.
type docServer struct {
	srv *httptest.Server
	tls *tls.Config

	mu   sync.Mutex
	hits map[string]int
}

func newDocServer(t *testing.T, docs map[string]func(w http.ResponseWriter, id string)) *docServer {
	d := &docServer{hits: map[string]int{}}
	d.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		d.hits[r.URL.Path]++
		d.mu.Unlock()
		h, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h(w, d.srv.URL+r.URL.Path)
	}))
	t.Cleanup(d.srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(d.srv.Certificate())
	d.tls = &tls.Config{RootCAs: pool}
	return d
}

func (d *docServer) url(path string) string { return d.srv.URL + path }

func (d *docServer) count(path string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.hits[path]
}

// doc writes a metadata document; change edits it before it is sent.
func doc(change func(m map[string]any)) func(w http.ResponseWriter, id string) {
	return func(w http.ResponseWriter, id string) {
		m := map[string]any{"client_id": id, "client_name": "Doc client", "redirect_uris": []string{"http://127.0.0.1/cb"}, "token_endpoint_auth_method": "none"}
		if change != nil {
			change(m)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(m)
	}
}

// sized writes a valid document padded with spaces to exactly n bytes.
func sized(n int) func(w http.ResponseWriter, id string) {
	return func(w http.ResponseWriter, id string) {
		b, _ := json.Marshal(map[string]any{"client_id": id, "redirect_uris": []string{"http://127.0.0.1/cb"}})
		w.Write(append(b, bytes.Repeat([]byte(" "), n-len(b))...))
	}
}

// TestRefusePrivate: the dial guard refuses every non-public address; with
// loopback allowed (BIGIN_MCP_CIMD_ALLOW_LOOPBACK) exactly the loopback
// ones pass and the rest stay refused.
func TestRefusePrivate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr       string
		refused    bool
		loopbackOK bool // passes refuseNonLoopbackPrivate
	}{
		{"127.0.0.1:443", true, true},
		{"127.8.9.10:443", true, true},
		{"[::1]:443", true, true},
		{"[::ffff:127.0.0.1]:443", true, true},
		{"10.1.2.3:443", true, false},
		{"172.16.0.1:443", true, false},
		{"192.168.1.1:443", true, false},
		{"[fd00::1]:443", true, false},
		{"169.254.169.254:443", true, false}, // cloud metadata, link-local
		{"[fe80::1]:443", true, false},
		{"100.64.0.1:443", true, false}, // carrier-grade NAT
		{"0.0.0.0:443", true, false},    // dials this host on Linux, but is not loopback
		{"[::]:443", true, false},
		{"224.0.0.1:443", true, false}, // multicast
		{"8.8.8.8:443", false, true},
		{"[2606:4700:4700::1111]:443", false, true},
		{"not-an-address", true, false},
		// IPv6 transition addresses carry an IPv4 address the network
		// may reach. NAT64 (well-known prefix, RFC 6052) is how an
		// IPv6-only host with DNS64 reaches IPv4 hosts, so it passes when
		// the address it embeds is public; the others are refused.
		{"[64:ff9b::808:808]:443", false, true},                     // NAT64 of 8.8.8.8
		{"[64:ff9b::a01:203]:443", true, false},                     // NAT64 of 10.1.2.3
		{"[64:ff9b::7f00:1]:443", true, false},                      // NAT64 of 127.0.0.1: not loopback here
		{"[64:ff9b::a9fe:a9fe]:443", true, false},                   // NAT64 of 169.254.169.254
		{"[64:ff9b:1::808:808]:443", true, false},                   // local-use NAT64 (RFC 8215)
		{"[2002:808:808::1]:443", true, false},                      // 6to4 of 8.8.8.8
		{"[2002:a01:203::1]:443", true, false},                      // 6to4 of 10.1.2.3
		{"[2002:7f00:1::1]:443", true, false},                       // 6to4 of 127.0.0.1
		{"[2001:0:4136:e378:8000:63bf:3fff:fdd2]:443", true, false}, // Teredo
		{"[2001::f5fe:fefe]:443", true, false},                      // Teredo, client 10.1.1.1 obfuscated
		{"[::808:808]:443", true, false},                            // IPv4-compatible ::8.8.8.8
		{"[::a01:203]:443", true, false},                            // IPv4-compatible ::10.1.2.3
		{"[::7f00:1]:443", true, false},                             // IPv4-compatible ::127.0.0.1
		// Ranges set aside from the public Internet.
		{"[2001:db8::1]:443", true, false},   // documentation
		{"[100::1]:443", true, false},        // discard-only
		{"192.0.2.1:443", true, false},       // documentation
		{"198.18.0.1:443", true, false},      // benchmarking
		{"240.0.0.1:443", true, false},       // reserved
		{"0.1.2.3:443", true, false},         // "this network"
		{"192.0.0.170:443", true, false},     // IETF protocol assignments (NAT64 discovery)
		{"255.255.255.255:443", true, false}, // broadcast
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := refusePrivate("tcp", tt.addr, nil)
			if tt.refused {
				assert.Error(t, err)
			} else {
				assert.NoError(t, err)
			}
			err = refuseNonLoopbackPrivate("tcp", tt.addr, nil)
			if tt.loopbackOK {
				assert.NoError(t, err, "with loopback allowed")
			} else {
				assert.Error(t, err, "with loopback allowed")
			}
		})
	}
}

// logBuffer is a slog handler target tests can read.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestCIMDRefusesNonPublicAddresses(t *testing.T) {
	t.Parallel()
	d := newDocServer(t, map[string]func(http.ResponseWriter, string){"/client.json": doc(nil)})
	clk := clocktest.New(time.Now())
	tests := []struct {
		name    string
		opts    CIMDOptions
		wantErr bool
	}{
		{"outside tests a loopback document is refused before any connection", CIMDOptions{}, true},
		{"tests allow private addresses", CIMDOptions{AllowPrivateAddresses: true}, false},
		{"tests allow loopback", CIMDOptions{AllowLoopback: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &logBuffer{}
			before := d.count("/client.json")
			opts := tt.opts
			opts.TLSConfig = d.tls
			cr := newClientResolver(nil, opts, clk, slog.New(slog.NewTextHandler(logs, nil)))
			c, err := cr.resolve(context.Background(), d.url("/client.json"), "")
			if !tt.wantErr {
				require.NoError(t, err)
				assert.Equal(t, "Doc client", c.Name)
				assert.Equal(t, before+1, d.count("/client.json"))
				return
			}
			require.ErrorIs(t, err, errUnknownClient)
			assert.Contains(t, logs.String(), "non-public address 127.0.0.1")
			assert.Equal(t, before, d.count("/client.json"), "the server was never reached")
		})
	}
}

func TestCIMDFetchTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	d := newDocServer(t, map[string]func(http.ResponseWriter, string){"/slow.json": func(w http.ResponseWriter, id string) { <-release }})
	t.Cleanup(func() { close(release) }) // before the server's Close, which waits for handlers
	clk := clocktest.New(time.Now())

	def := newClientResolver(nil, CIMDOptions{}, clk, nil)
	assert.Equal(t, 5*time.Second, def.http.Timeout, "a fetch is bounded by 5 s by default")
	assert.Equal(t, 5*time.Second, def.http.Transport.(*http.Transport).ResponseHeaderTimeout)

	cr := newClientResolver(nil, CIMDOptions{AllowPrivateAddresses: true, TLSConfig: d.tls, Timeout: 50 * time.Millisecond}, clk, slog.New(slog.DiscardHandler))
	_, err := cr.resolve(context.Background(), d.url("/slow.json"), "")
	require.ErrorIs(t, err, errUnknownClient)
	assert.Contains(t, err.Error(), "could not be fetched")
}

func TestCIMDDocuments(t *testing.T) {
	t.Parallel()
	d := newDocServer(t, map[string]func(http.ResponseWriter, string){
		"/ok.json":          doc(nil),
		"/at-limit.json":    sized(cimdMaxBytes),
		"/over-limit.json":  sized(cimdMaxBytes + 1),
		"/other-id.json":    doc(func(m map[string]any) { m["client_id"] = "https://elsewhere.example/client.json" }),
		"/no-redirect.json": doc(func(m map[string]any) { delete(m, "redirect_uris") }),
		"/many-redirects.json": doc(func(m map[string]any) {
			var uris []string
			for i := range maxRedirectURIs + 1 {
				uris = append(uris, fmt.Sprintf("http://127.0.0.1/cb%d", i))
			}
			m["redirect_uris"] = uris
		}),
		"/secret.json": doc(func(m map[string]any) { m["token_endpoint_auth_method"] = "client_secret_basic" }),
		"/http-redirect.json": doc(func(m map[string]any) {
			m["redirect_uris"] = []string{"http://app.example/cb"}
		}),
		"/not-json.json": func(w http.ResponseWriter, id string) { w.Write([]byte("hello")) },
		"/moved.json": func(w http.ResponseWriter, id string) {
			w.Header().Set("Location", "/ok.json")
			w.WriteHeader(http.StatusFound)
		},
	})
	clk := clocktest.New(time.Now())
	cr := newClientResolver(nil, CIMDOptions{AllowPrivateAddresses: true, TLSConfig: d.tls}, clk, slog.New(slog.DiscardHandler))
	tests := []struct {
		name string
		id   string
		want string // "" when accepted, else part of the reason
	}{
		{"a valid document", d.url("/ok.json"), ""},
		{"a document of exactly 64 KiB", d.url("/at-limit.json"), ""},
		{"a document over 64 KiB", d.url("/over-limit.json"), "over 64 KiB"},
		{"a document naming another client_id", d.url("/other-id.json"), "another client_id"},
		{"no redirect_uris", d.url("/no-redirect.json"), "must list 1 to 20 URIs"},
		{"too many redirect_uris", d.url("/many-redirects.json"), "must list 1 to 20 URIs"},
		{"a confidential client", d.url("/secret.json"), "only public clients"},
		{"an http redirect URI off loopback", d.url("/http-redirect.json"), "must use https"},
		{"not JSON", d.url("/not-json.json"), "not JSON"},
		{"a redirect is not followed", d.url("/moved.json"), "could not be fetched"},
		{"a missing document", d.url("/missing.json"), "HTTP 404"},
		{"a URL without a path", d.srv.URL, "https URL with a path"},
		{"a URL with only a slash", d.srv.URL + "/", "https URL with a path"},
		{"a URL with a fragment", d.url("/ok.json#x"), "https URL with a path"},
		{"a URL with credentials", strings.Replace(d.url("/ok.json"), "https://", "https://u:p@", 1), "https URL with a path"},
		{"a client_id over 2048 characters", d.url("/" + strings.Repeat("a", 2048)), "unknown client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := cr.resolve(context.Background(), tt.id, "")
			if tt.want == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.id, c.ID)
				return
			}
			require.ErrorIs(t, err, errUnknownClient)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	assert.Equal(t, 1, d.count("/moved.json"))
	assert.Zero(t, d.count("/ok.json#x"), "fragments never reach the server")
}

func TestCIMDCache(t *testing.T) {
	t.Parallel()
	d := newDocServer(t, map[string]func(http.ResponseWriter, string){"/client.json": doc(nil)})
	clk := clocktest.New(time.Now())
	cr := newClientResolver(nil, CIMDOptions{AllowPrivateAddresses: true, TLSConfig: d.tls}, clk, slog.New(slog.DiscardHandler))
	id := d.url("/client.json")
	steps := []struct {
		advance time.Duration
		fetches int
	}{
		{0, 1},                          // first use fetches
		{0, 1},                          // then it is cached
		{cimdCacheTTL - time.Second, 1}, // for 10 minutes
		{time.Second, 2},                // and fetched again after
		{cimdCacheTTL / 2, 2},           // cached anew
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		_, err := cr.resolve(context.Background(), id, "")
		require.NoError(t, err, "step %d", i)
		assert.Equal(t, s.fetches, d.count("/client.json"), "step %d", i)
	}
}

func TestCIMDCacheIsBounded(t *testing.T) {
	t.Parallel()
	d := newDocServer(t, map[string]func(http.ResponseWriter, string){"/client.json": doc(nil)})
	clk := clocktest.New(time.Now())
	cr := newClientResolver(nil, CIMDOptions{AllowPrivateAddresses: true, TLSConfig: d.tls}, clk, slog.New(slog.DiscardHandler))
	for i := range cimdCacheMax {
		cr.cache[fmt.Sprintf("https://c.example/%d", i)] = cachedClient{c: &client{}, expires: clk.Now().Add(time.Hour)}
	}
	_, err := cr.resolve(context.Background(), d.url("/client.json"), "")
	require.NoError(t, err)
	assert.LessOrEqual(t, len(cr.cache), cimdCacheMax, "a full cache makes room")
	assert.Contains(t, cr.cache, d.url("/client.json"))
}

// TestCheckRedirectURI: what a client may register, and why a refusal
// says it was refused.
func TestCheckRedirectURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		uri  string
		want string // "" when accepted, else part of the reason
	}{
		{"https://chatgpt.com/connector/oauth/Qz8xK2vT4Lp0", ""},
		{"https://claude.ai/api/mcp/auth_callback", ""},
		{"https://vscode.dev/redirect", ""},
		{"http://127.0.0.1/", ""},
		{"http://[::1]:8080/cb", ""},
		{"http://localhost:33418/", ""},
		{"cursor://anysphere.cursor-mcp/oauth/callback", ""},
		{"com.example.app:/oauth2redirect/example-provider", ""},
		{"HTTPS://claude.ai/api/mcp/auth_callback", ""},
		{"http://app.example/cb", "http only on a loopback address"},
		{"https://claude.ai/cb#", "must not have a fragment"},
		{"https://*.example.com/cb", "must not hold a wildcard"},
		{"javascript:alert(1)", "not an app's own"},
		{"DATA:text/html,x", "not an app's own"},
		{"ws://127.0.0.1/cb", "not an app's own"},
		{"cursor:callback", "go on with a slash"},
		{"cursor:", "go on with a slash"},
		{"https://u:p@claude.ai/cb", "without user information"},
		{"/cb", "not an absolute URI"},
		{"https://claude.ai/a b", "without spaces"},
		{"https://claude.ai/cb\n", "without spaces"},
		{"https:///cb", "has no host"},
		{"https://claude.ai/" + strings.Repeat("a", 494), ""}, // 512 bytes
		{"https://claude.ai/" + strings.Repeat("a", 495), "at most 512 characters"},
		{"http://127.0.0.1:65535/cb", ""},
		{"http://127.0.0.1:99999/cb", "port from 1 to 65535"},
		{"https://claude.ai:65536/cb", "port from 1 to 65535"},
		{"http://localhost:0/cb", "port from 1 to 65535"},
		{"cursor://anysphere.cursor-mcp:70000/cb", "port from 1 to 65535"},
		{"http://127.0.0.1:80a/cb", "is not an absolute URI"}, // url.Parse refuses a port that is not digits
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			err := checkRedirectURI(tt.uri)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestRedirectAllowed: a request's redirect URI matches a registered one
// exactly, except that a loopback listener may be on any port (RFC 8252
// §7.3), with an empty path the same as "/".
func TestRedirectAllowed(t *testing.T) {
	t.Parallel()
	c := &client{RedirectURIs: []string{
		"https://claude.ai/api/mcp/auth_callback", "cursor://anysphere.cursor-mcp/oauth/callback",
		"http://127.0.0.1:33418", "http://localhost/cb?x=1",
	}}
	tests := []struct {
		uri  string
		want bool
	}{
		{"https://claude.ai/api/mcp/auth_callback", true},
		{"https://claude.ai/api/mcp/auth_callback/", false},
		{"https://claude.ai:443/api/mcp/auth_callback", false},
		{"cursor://anysphere.cursor-mcp/oauth/callback", true},
		{"cursor://anysphere.cursor-mcp/oauth/callback?x", false},
		{"http://127.0.0.1:33418", true},
		{"http://127.0.0.1:51234/", true},
		{"http://127.0.0.1/", true},
		{"http://127.0.0.1:51234/cb", false},
		{"http://127.0.0.1:51234/#", false},
		{"http://localhost:9/cb?x=1", true},
		{"http://localhost:9/cb?x=2", false},
		{"http://localhost:9/cb", false},
		{"http://[::1]:9/cb?x=1", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, c.redirectAllowed(tt.uri), tt.uri)
	}
}

// TestClip: text from a client is clipped at 200 bytes on a character
// boundary, so what is shown or stored stays valid UTF-8 and never gains
// a replacement character.
func TestClip(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"short text is kept", "Claude", "Claude"},
		{"exactly 200 bytes is kept", strings.Repeat("a", 200), strings.Repeat("a", 200)},
		{"longer text is cut at 200 bytes", strings.Repeat("a", 201), strings.Repeat("a", 200) + "…"},
		{"a two-byte character across the cut is left out whole", strings.Repeat("a", 199) + "éé", strings.Repeat("a", 199) + "…"},
		{"a four-byte character across the cut is left out whole", strings.Repeat("a", 198) + "😀x", strings.Repeat("a", 198) + "…"},
		{"a character ending at the cut is kept", strings.Repeat("a", 198) + "éx", strings.Repeat("a", 198) + "é…"},
		{"control characters are dropped", "a\x00b\nc\x7f", "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, clip(tt.in))
		})
	}
}

// FuzzClip: whatever a client sends, the clipped text is valid UTF-8 of
// at most 200 bytes (and the ellipsis), without control characters, and a
// prefix of the text as sent when that was valid UTF-8.
func FuzzClip(f *testing.F) {
	for _, s := range []string{"", "Claude", strings.Repeat("é", 150), strings.Repeat("a", 199) + "😀", "\xff\xfe", "a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := clip(s)
		if !utf8.ValidString(got) {
			t.Fatalf("clip(%q) = %q is not valid UTF-8", s, got)
		}
		body := strings.TrimSuffix(got, "…")
		if len(body) > 200 {
			t.Fatalf("clip(%q) keeps %d bytes", s, len(body))
		}
		if strings.ContainsFunc(got, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("clip(%q) = %q keeps a control character", s, got)
		}
		if utf8.ValidString(s) {
			if strings.ContainsRune(got, utf8.RuneError) && !strings.ContainsRune(s, utf8.RuneError) {
				t.Fatalf("clip(%q) = %q adds a replacement character", s, got)
			}
			clean := strings.Map(func(r rune) rune {
				if r < 0x20 || r == 0x7f {
					return -1
				}
				return r
			}, s)
			if !strings.HasPrefix(clean, body) {
				t.Fatalf("clip(%q) = %q is not a prefix of the text", s, got)
			}
			if len(clean) <= 200 && got != clean {
				t.Fatalf("clip(%q) = %q changed text that fits", s, got)
			}
		}
	})
}

// TestCIMDFailuresAreCached: a document that cannot be used is
// remembered for a minute, so naming it again does not make the server
// fetch it again.
func TestCIMDFailuresAreCached(t *testing.T) {
	d := newDocServer(t, map[string]func(http.ResponseWriter, string){})
	clk := clocktest.New(time.Now())
	cr := newClientResolver(nil, CIMDOptions{AllowPrivateAddresses: true, TLSConfig: d.tls}, clk, slog.New(slog.DiscardHandler))
	id := d.url("/missing.json")
	steps := []struct {
		advance time.Duration
		fetches int
	}{
		{0, 1},                            // first use fetches, and fails
		{0, 1},                            // the failure is remembered
		{cimdFailureTTL - time.Second, 1}, // for a minute
		{time.Second, 2},                  // and fetched again after
		{cimdFailureTTL / 2, 2},           // remembered anew
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		_, err := cr.resolve(context.Background(), id, "198.51.100.1")
		require.ErrorIs(t, err, errUnknownClient, "step %d", i)
		assert.Contains(t, err.Error(), "HTTP 404", "step %d", i)
		assert.Equal(t, s.fetches, d.count("/missing.json"), "step %d", i)
	}
}

// TestCIMDFetchesAreBounded: requests naming one document share one
// fetch; at most cimdMaxFetches run at once, and one more is refused at
// once; and each client address may make the server fetch
// FetchesPerAddress (by default DefaultCIMDFetchesPerAddress) new
// documents a minute.
func TestCIMDFetchesAreBounded(t *testing.T) {
	shared, slow := newGate(), newGate()
	docs := map[string]func(http.ResponseWriter, string){"/shared.json": shared.then(doc(nil))}
	for i := range cimdMaxFetches + 1 {
		docs[fmt.Sprintf("/slow-%d.json", i)] = slow.then(doc(nil))
	}
	d := newDocServer(t, docs)
	t.Cleanup(shared.open) // before the server's Close, which waits for handlers
	t.Cleanup(slow.open)
	clk := clocktest.New(time.Now())
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			select {
			case <-ctx.Done():
				t.Fatalf("waited %s for %s", waitBound, what)
			case <-time.After(5 * time.Millisecond):
			}
		}
	}

	t.Run("one fetch for requests naming the same document", func(t *testing.T) {
		cr := newClientResolver(nil, CIMDOptions{AllowPrivateAddresses: true, TLSConfig: d.tls}, clk, slog.New(slog.DiscardHandler))
		const n = 6
		errs := make(chan error, n)
		for i := range n {
			go func() {
				_, err := cr.resolve(ctx, d.url("/shared.json"), fmt.Sprintf("198.51.100.%d", i))
				errs <- err
			}()
		}
		waitFor("the document to be requested", func() bool { return d.count("/shared.json") == 1 })
		waitFor("every request to wait for it", func() bool {
			cr.mu.Lock()
			defer cr.mu.Unlock()
			return len(cr.inflight) == 1
		})
		shared.open()
		for range n {
			select {
			case err := <-errs:
				assert.NoError(t, err)
			case <-ctx.Done():
				t.Fatal("a request did not get the shared fetch's answer")
			}
		}
		assert.Equal(t, 1, d.count("/shared.json"))
	})

	t.Run("fetches in flight are capped", func(t *testing.T) {
		cr := newClientResolver(nil, CIMDOptions{AllowPrivateAddresses: true, TLSConfig: d.tls}, clk, slog.New(slog.DiscardHandler))
		errs := make(chan error, cimdMaxFetches)
		for i := range cimdMaxFetches {
			go func() {
				_, err := cr.resolve(ctx, d.url(fmt.Sprintf("/slow-%d.json", i)), "198.51.100.1")
				errs <- err
			}()
		}
		waitFor("the fetches to reach the server", func() bool {
			for i := range cimdMaxFetches {
				if d.count(fmt.Sprintf("/slow-%d.json", i)) != 1 {
					return false
				}
			}
			return true
		})
		extra := fmt.Sprintf("/slow-%d.json", cimdMaxFetches)
		_, err := cr.resolve(ctx, d.url(extra), "198.51.100.2")
		require.ErrorIs(t, err, errUnknownClient, "refused at once, not queued")
		assert.Contains(t, err.Error(), "being fetched already")
		assert.Zero(t, d.count(extra), "never requested")
		slow.open()
		for range cimdMaxFetches {
			select {
			case err := <-errs:
				assert.NoError(t, err)
			case <-ctx.Done():
				t.Fatal("a capped fetch did not finish")
			}
		}
		_, err = cr.resolve(ctx, d.url(extra), "198.51.100.2")
		assert.NoError(t, err, "a slot is free again, and the refusal was not remembered")
	})

	for _, perAddr := range []int{0, 3} { // the default, and a setting
		t.Run(fmt.Sprintf("new documents per client address (FetchesPerAddress %d)", perAddr), func(t *testing.T) {
			cr := newClientResolver(nil, CIMDOptions{AllowPrivateAddresses: true, TLSConfig: d.tls, FetchesPerAddress: perAddr}, clk, slog.New(slog.DiscardHandler))
			limit := perAddr
			if limit == 0 {
				limit = DefaultCIMDFetchesPerAddress
			}
			path := func(s string) string { return fmt.Sprintf("/none-%d-%s.json", perAddr, s) }
			for i := range limit {
				_, err := cr.resolve(ctx, d.url(path(fmt.Sprint(i))), "198.51.100.7")
				require.ErrorIs(t, err, errUnknownClient)
				require.Contains(t, err.Error(), "HTTP 404", "fetched")
			}
			over := path("over")
			_, err := cr.resolve(ctx, d.url(over), "198.51.100.7")
			require.ErrorIs(t, err, errUnknownClient)
			assert.Contains(t, err.Error(), fmt.Sprintf("over %d new metadata documents in a minute", limit))
			assert.Zero(t, d.count(over), "not fetched")
			_, err = cr.resolve(ctx, d.url(over), "198.51.100.8")
			assert.Contains(t, err.Error(), "HTTP 404", "another address still gets it fetched")
			_, err = cr.resolve(ctx, d.url(path("0")), "198.51.100.7")
			assert.Contains(t, err.Error(), "HTTP 404", "a remembered document costs no fetch")
			clk.Advance(time.Minute / time.Duration(limit))
			_, err = cr.resolve(ctx, d.url(path("extra")), "198.51.100.7")
			assert.Contains(t, err.Error(), "HTTP 404", "the budget refills")
		})
	}
}

// waitBound bounds every wait on a server in these tests, for a slow,
// busy machine; none of them is a timing the tests assert.
const waitBound = 20 * time.Second

// gate holds document requests until it opens.
type gate struct {
	ch   chan struct{}
	once sync.Once
}

func newGate() *gate { return &gate{ch: make(chan struct{})} }

func (g *gate) open() { g.once.Do(func() { close(g.ch) }) }

// then waits for the gate, then writes the document with w.
func (g *gate) then(write func(http.ResponseWriter, string)) func(http.ResponseWriter, string) {
	return func(w http.ResponseWriter, id string) {
		<-g.ch
		write(w, id)
	}
}
