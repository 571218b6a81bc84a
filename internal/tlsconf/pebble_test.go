package tlsconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/tlsconf/pebbletest"
)

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
	t.Parallel()
	bin := pebbletest.Build(t)
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
	dnsAddr := pebbletest.StartDNS(t)
	dead := pebbletest.RefusingPort(t)

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
	p := pebbletest.New(t, bin, dnsAddr)
	p.Start(t, pebbleHTTP, pebbleTLS)

	// The cache is the store's: a real bbolt file, sealed.
	db := openStore(t)
	logger, logs := bufferLogger()
	m, err := New(Config{
		ACMEDomains:   []string{domain},
		ACMEEmail:     "ops@bigin.test",
		ACMEDirectory: p.Directory,
		Cache:         StoreCache(db),
		ACMERootCAs:   p.APIRoots,
		HTTPSPort:     httpsPort,
	}, logger)
	require.NoError(t, err)
	h := m.HTTPHandler(nil)
	httpHandler.Store(&h)
	tlsConfig.Store(m.TLSConfig())

	roots := pool(p.Cert(t, "/roots/0"))
	intermediate := p.Cert(t, "/intermediates/0")

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
	assert.NotContains(t, p.Log(), "other.bigin.test")
}
