package tlsconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pebblePackage is the Pebble ACME test server, a tool dependency in go.mod
// so its version is pinned and `go build` needs nothing beyond the module
// proxy.
const pebblePackage = "github.com/letsencrypt/pebble/v2/cmd/pebble"

// buildPebble builds Pebble into a temporary directory. The first build
// takes a while; later ones come from the build cache.
func buildPebble(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pebble")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	// go test puts its own go on PATH.
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, pebblePackage).CombinedOutput()
	require.NoError(t, err, "building pebble: %s", out)
	return bin
}

// startDNS answers every A query with 127.0.0.1 and AAAA queries with
// nothing, so Pebble's validation of any name reaches the loopback servers.
// It serves DNS over TCP, which is what Pebble's -dnsserver resolver uses.
func startDNS(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		r := new(dns.Msg)
		r.SetReply(q)
		for _, question := range q.Question {
			if question.Qtype == dns.TypeA {
				r.Answer = append(r.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET},
					A:   net.IPv4(127, 0, 0, 1),
				})
			}
		}
		_ = w.WriteMsg(r)
	})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ActivateAndServe() // the socket is bound: connections queue until it accepts
	}()
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	return ln.Addr().String()
}

// freePort returns a loopback port that was free a moment ago, for Pebble,
// which binds its own listeners.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// refusingListener accepts connections and closes them at once: a port
// where a challenge can never be answered.
func refusingListener(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// serveHTTP serves h over plain HTTP on a loopback port until the test ends.
func serveHTTP(t *testing.T, h http.Handler) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// pebble is a running Pebble instance.
type pebble struct {
	directory string         // ACME directory URL
	mgmt      string         // management interface base URL
	client    *http.Client   // trusts Pebble's own HTTPS certificate
	roots     *x509.CertPool // for that certificate
	out       *syncBuffer    // Pebble's log
}

// startPebble runs bin validating challenges on httpPort and tlsPort of the
// addresses dnsAddr resolves names to, and waits for its directory.
func startPebble(t *testing.T, bin, dnsAddr string, httpPort, tlsPort int) *pebble {
	t.Helper()
	dir := t.TempDir()
	// Pebble's own listener certificate; clients trust it as a root.
	own := newTestPair(t, "pebble", "localhost", "127.0.0.1")
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, own.certPEM, 0o600))
	require.NoError(t, os.WriteFile(keyFile, own.keyPEM, 0o600))

	listen := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	mgmt := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress":           listen,
		"managementListenAddress": mgmt,
		"certificate":             certFile,
		"privateKey":              keyFile,
		"httpPort":                httpPort,
		"tlsPort":                 tlsPort,
		"ocspResponderURL":        "",
		"keyAlgorithm":            "ecdsa",
		// No Retry-After: the ACME client then polls once a second.
		"retryAfter": map[string]int{"authz": 0, "order": 0},
	}}
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	cfgFile := filepath.Join(dir, "pebble.json")
	require.NoError(t, os.WriteFile(cfgFile, b, 0o600))

	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	cmd := exec.CommandContext(ctx, bin, "-config", cfgFile, "-dnsserver", dnsAddr)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"PEBBLE_VA_NOSLEEP=1",      // no random delay before validating
		"PEBBLE_WFE_NONCEREJECT=0", // no deliberately rejected nonces
		"PEBBLE_AUTHZREUSE=0",      // every order is validated afresh
	)
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("pebble log:\n%s", out.String())
		}
	})

	roots := pool(own.cert)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	p := &pebble{
		directory: "https://" + listen + "/dir",
		mgmt:      "https://" + mgmt,
		client:    &http.Client{Transport: tr, Timeout: 10 * time.Second},
		roots:     roots,
		out:       out,
	}
	t.Cleanup(tr.CloseIdleConnections)
	require.Eventually(t, func() bool {
		return p.get(p.directory) == nil && p.get(p.mgmt+"/roots/0") == nil
	}, 30*time.Second, 20*time.Millisecond, "pebble did not come up:\n%s", out)
	return p
}

// get fetches url and fails unless it answers 200.
func (p *pebble) get(url string) error {
	_, err := p.fetch(url)
	return err
}

func (p *pebble) fetch(url string) ([]byte, error) {
	resp, err := p.client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return b, nil
}

// cert fetches one PEM certificate from the management interface.
func (p *pebble) cert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := p.fetch(p.mgmt + path)
	require.NoError(t, err)
	block, _ := pem.Decode(b)
	require.NotNil(t, block, "no PEM at %s", path)
	c, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return c
}

// challengeRecorder counts HTTP-01 challenge responses that succeeded.
type challengeRecorder struct {
	next     http.Handler
	answered atomic.Int32
}

func (c *challengeRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
	c.next.ServeHTTP(sw, r)
	if strings.HasPrefix(r.URL.Path, acmeChallengePrefix) && sw.code == http.StatusOK {
		c.answered.Add(1)
	}
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// TestACMEWithPebble obtains real certificates from a Pebble CA on loopback,
// once through each challenge type. Pebble validates for real: it resolves
// the domain through a test DNS server to 127.0.0.1 and connects to the
// ports it is given. The challenge type not under test gets a port that
// closes every connection, so only the one under test can succeed.
func TestACMEWithPebble(t *testing.T) {
	bin := buildPebble(t)
	tests := []struct {
		challenge string
		wantHTTP  bool // HTTP-01 answered on the plain-HTTP listener
	}{
		{challenge: "tls-alpn-01", wantHTTP: false},
		// autocert tries TLS-ALPN-01 first; when it fails, a new order
		// goes through HTTP-01.
		{challenge: "http-01", wantHTTP: true},
	}
	for _, tc := range tests {
		t.Run(tc.challenge, func(t *testing.T) {
			t.Parallel()
			testACMEIssuance(t, bin, tc.challenge, tc.wantHTTP)
		})
	}
}

func testACMEIssuance(t *testing.T, bin, challenge string, wantHTTP bool) {
	const domain = "mcp.bigin.test"
	dnsAddr := startDNS(t)
	dead := refusingListener(t)

	// Our side first: Pebble needs the ports. The directory URL is not known
	// yet, so the manager is built later and reached through these.
	var (
		tlsConfig   atomic.Pointer[tls.Config]
		httpHandler atomic.Pointer[http.Handler]
	)
	httpsLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	httpsAddr := httpsLn.Addr().String()
	httpsPort := httpsLn.Addr().(*net.TCPAddr).Port
	srv := &http.Server{
		Handler:           HSTS(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hello") })),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // refused names are expected
		TLSConfig: &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return tlsConfig.Load(), nil
		}},
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.ServeTLS(httpsLn, "", "")
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-served
	})
	rec := &challengeRecorder{next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*httpHandler.Load()).ServeHTTP(w, r)
	})}
	httpPort := serveHTTP(t, rec)

	pebbleHTTP, pebbleTLS := dead, httpsPort
	if challenge == "http-01" {
		pebbleHTTP, pebbleTLS = httpPort, dead
	}
	p := startPebble(t, bin, dnsAddr, pebbleHTTP, pebbleTLS)

	// The cache is the store's: a real bbolt file, sealed.
	db := openStore(t)
	logger, logs := bufferLogger()
	m, err := New(Config{
		ACMEDomains:   []string{domain},
		ACMEEmail:     "ops@bigin.test",
		ACMEDirectory: p.directory,
		Cache:         StoreCache(db),
		ACMERootCAs:   p.roots,
		HTTPSPort:     httpsPort,
	}, logger)
	require.NoError(t, err)
	h := m.HTTPHandler(nil)
	httpHandler.Store(&h)
	tlsConfig.Store(m.TLSConfig())

	roots := pool(p.cert(t, "/roots/0"))
	intermediate := p.cert(t, "/intermediates/0")

	// The first handshake for the domain orders the certificate.
	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	defer cancel()
	leaf, err := handshake(ctx, httpsAddr, domain, roots)
	require.NoError(t, err, "server log:\n%s", logs)
	assert.Equal(t, []string{domain}, leaf.DNSNames)
	assert.Equal(t, intermediate.Subject.String(), leaf.Issuer.String())
	_, err = leaf.Verify(x509.VerifyOptions{
		DNSName:       domain,
		Roots:         roots,
		Intermediates: pool(intermediate),
	})
	require.NoError(t, err, "issued certificate chains to Pebble's root")
	if wantHTTP {
		assert.Positive(t, rec.answered.Load(), "HTTP-01 challenge answered")
	} else {
		assert.Zero(t, rec.answered.Load(), "no HTTP-01 challenge answered")
	}

	// HTTPS requests work, with HSTS.
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, httpsAddr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + domain + "/")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, "hello", string(body))
	assert.Equal(t, "max-age=31536000", resp.Header.Get("Strict-Transport-Security"))

	// A replica sharing the store serves the same certificate without
	// ordering one: its directory is unreachable.
	replica, err := New(Config{
		ACMEDomains:   []string{domain},
		ACMEDirectory: "https://127.0.0.1:1/dir",
		Cache:         StoreCache(db),
	}, nil)
	require.NoError(t, err)
	replicaAddr := serveTLS(t, replica.TLSConfig(), http.NotFoundHandler())
	again, err := handshake(ctx, replicaAddr, domain, roots)
	require.NoError(t, err)
	assert.Equal(t, leaf.SerialNumber, again.SerialNumber)

	// Names outside the list get no certificate and order nothing.
	_, err = handshake(ctx, httpsAddr, "other.bigin.test", roots)
	require.Error(t, err)
	assert.NotContains(t, p.out.String(), "other.bigin.test")
}
