package tlsconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/clock/clocktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// handshake connects to addr as a client trusting only roots and returns the
// leaf certificate the server presented.
func handshake(ctx context.Context, addr, serverName string, roots *x509.CertPool) (*x509.Certificate, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{ServerName: serverName, RootCAs: roots, MinVersion: tls.VersionTLS12}}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.(*tls.Conn).ConnectionState().PeerCertificates[0], nil
}

// serveTLS serves h over TLS with cfg on a loopback port until the test ends.
func serveTLS(t *testing.T, cfg *tls.Config, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{
		Handler: h, TLSConfig: cfg, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: log.New(io.Discard, "", 0), // failed handshakes are part of the tests
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ServeTLS(ln, "", "")
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return ln.Addr().String()
}

func TestPairServesAndReloadsRotatedFiles(t *testing.T) {
	t.Parallel()
	const host = "mcp.bigin.test"
	dir := t.TempDir()
	start := time.Now().Truncate(time.Second)
	a := newTestPair(t, "pair A", host)
	certFile, keyFile := writePairFiles(t, dir, a.certPEM, a.keyPEM, start)

	logger, logs := bufferLogger()
	clock := clocktest.New(start)
	m, err := New(Config{CertFile: certFile, KeyFile: keyFile, Clock: clock}, logger)
	require.NoError(t, err)

	cfg := m.TLSConfig()
	assert.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)
	addr := serveTLS(t, cfg, HSTS(http.NotFoundHandler()))
	ctx := t.Context()

	leaf, err := handshake(ctx, addr, host, pool(a.cert))
	require.NoError(t, err)
	assert.Equal(t, a.cert.SerialNumber, leaf.SerialNumber)

	// cert-manager writes a new pair.
	b := newTestPair(t, "pair B", host)
	writePairFiles(t, dir, b.certPEM, b.keyPEM, start.Add(time.Minute))

	// Within the check interval the files are not looked at.
	clock.Advance(reloadCheckEvery / 2)
	leaf, err = handshake(ctx, addr, host, pool(a.cert))
	require.NoError(t, err)
	assert.Equal(t, a.cert.SerialNumber, leaf.SerialNumber, "checked again too soon")

	clock.Advance(reloadCheckEvery / 2)
	leaf, err = handshake(ctx, addr, host, pool(b.cert))
	require.NoError(t, err, "a client trusting only the new certificate connects")
	assert.Equal(t, b.cert.SerialNumber, leaf.SerialNumber)
	_, err = handshake(ctx, addr, host, pool(a.cert))
	require.Error(t, err, "the old certificate is no longer served")
	assert.Contains(t, logs.String(), "certificate pair reloaded")

	// A broken rotation: a new certificate with the old key.
	c := newTestPair(t, "pair C", host)
	writePairFiles(t, dir, c.certPEM, b.keyPEM, start.Add(2*time.Minute))
	clock.Advance(reloadCheckEvery)
	leaf, err = handshake(ctx, addr, host, pool(b.cert))
	require.NoError(t, err, "the previous pair stays in service")
	assert.Equal(t, b.cert.SerialNumber, leaf.SerialNumber)
	out := logs.String()
	assert.Contains(t, out, "level=WARN")
	assert.Contains(t, out, "does not load; serving the previous one")
	assert.Contains(t, out, EnvKey)
	assert.NotContains(t, out, "PRIVATE KEY")
	assert.NotContains(t, out, keyBody(b.keyPEM))

	// The rest of the rotation lands: the matching key.
	writeFile(t, keyFile, c.keyPEM, start.Add(3*time.Minute))
	clock.Advance(reloadCheckEvery)
	leaf, err = handshake(ctx, addr, host, pool(c.cert))
	require.NoError(t, err)
	assert.Equal(t, c.cert.SerialNumber, leaf.SerialNumber)

	// Files that vanish (a volume remount in progress) keep the pair too.
	require.NoError(t, os.Remove(certFile))
	clock.Advance(reloadCheckEvery)
	leaf, err = handshake(ctx, addr, host, pool(c.cert))
	require.NoError(t, err)
	assert.Equal(t, c.cert.SerialNumber, leaf.SerialNumber)
}

// keyBody is a stretch of base64 from inside a PEM key, to check it is
// never echoed.
func keyBody(keyPEM []byte) string {
	lines := strings.Split(string(keyPEM), "\n")
	return lines[1][:20]
}

func TestPairStartupErrorsNameTheFile(t *testing.T) {
	t.Parallel()
	const host = "mcp.bigin.test"
	a := newTestPair(t, "A", host)
	b := newTestPair(t, "B", host)
	now := time.Now()

	tests := []struct {
		name      string
		cert, key []byte // nil: file missing
		wantVar   string
		wantMsg   string
	}{
		{name: "missing certificate", cert: nil, key: a.keyPEM, wantVar: EnvCert, wantMsg: "no such file"},
		{name: "missing key", cert: a.certPEM, key: nil, wantVar: EnvKey, wantMsg: "no such file"},
		{name: "certificate not PEM", cert: []byte("hello"), key: a.keyPEM, wantVar: EnvCert, wantMsg: "no PEM CERTIFICATE block"},
		{name: "files swapped", cert: a.keyPEM, key: a.certPEM, wantVar: EnvCert, wantMsg: "swapped"},
		{name: "key not PEM", cert: a.certPEM, key: []byte("hello"), wantVar: EnvKey, wantMsg: "does not hold the private key"},
		{name: "key of another certificate", cert: a.certPEM, key: b.keyPEM, wantVar: EnvKey, wantMsg: "does not match"},
		{
			name:    "corrupt certificate",
			cert:    []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
			key:     a.keyPEM,
			wantVar: EnvCert, wantMsg: "parsing certificate",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
			if tc.cert != nil {
				writeFile(t, certFile, tc.cert, now)
			}
			if tc.key != nil {
				writeFile(t, keyFile, tc.key, now)
			}
			_, err := New(Config{CertFile: certFile, KeyFile: keyFile}, nil)
			require.Error(t, err)
			var ce *ConfigError
			require.True(t, errors.As(err, &ce), "want *ConfigError, got %T", err)
			assert.Equal(t, tc.wantVar, ce.Var)
			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, tc.wantVar+": "), msg)
			assert.Contains(t, msg, tc.wantMsg)
			for _, v := range []string{EnvCert, EnvKey} {
				assert.LessOrEqual(t, strings.Count(msg, v), 1, "%s named more than once: %s", v, msg)
			}
			assert.NotContains(t, msg, "PRIVATE KEY")
			assert.NotContains(t, msg, keyBody(a.keyPEM))
			assert.NotContains(t, msg, keyBody(b.keyPEM))
		})
	}
}
