package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/acme/autocert"
)

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	cache := autocert.DirCache(t.TempDir())
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
	acmeCfg := func(domains ...string) Config { return Config{ACMEDomains: domains, Cache: cache} }
	tests := []struct {
		name    string
		cfg     Config
		wantVar string
		wantMsg string
	}{
		{name: "neither mode", cfg: Config{}, wantVar: EnvCert, wantMsg: "no TLS mode configured"},
		{name: "both modes", cfg: Config{CertFile: "c", KeyFile: "k", ACMEDomains: []string{"a.example.com"}, Cache: cache}, wantVar: EnvACMEDomains, wantMsg: "choose one mode"},
		{name: "cert without key", cfg: Config{CertFile: "c"}, wantVar: EnvKey, wantMsg: "not set"},
		{name: "key without cert", cfg: Config{KeyFile: "k"}, wantVar: EnvCert, wantMsg: "not set"},
		{name: "ACME email in pair mode", cfg: Config{CertFile: "c", KeyFile: "k", ACMEEmail: "a@b.example"}, wantVar: EnvACMEEmail, wantMsg: "only used in ACME mode"},
		{name: "ACME directory in pair mode", cfg: Config{CertFile: "c", KeyFile: "k", ACMEDirectory: "https://x.example/dir"}, wantVar: EnvACMEDirectory, wantMsg: "only used in ACME mode"},
		{name: "ACME email without domains", cfg: Config{ACMEEmail: "a@b.example"}, wantVar: EnvACMEDomains, wantMsg: "not set"},
		{name: "empty domain", cfg: acmeCfg("a.example.com", ""), wantVar: EnvACMEDomains, wantMsg: "empty"},
		{name: "wildcard", cfg: acmeCfg("*.example.com"), wantVar: EnvACMEDomains, wantMsg: "wildcard"},
		{name: "single label", cfg: acmeCfg("localhost"), wantVar: EnvACMEDomains, wantMsg: "two labels"},
		{name: "IPv4", cfg: acmeCfg("192.0.2.1"), wantVar: EnvACMEDomains, wantMsg: "IP addresses"},
		{name: "IPv6", cfg: acmeCfg("2001:db8::1"), wantVar: EnvACMEDomains, wantMsg: "IP addresses"},
		{name: "URL", cfg: acmeCfg("https://mcp.example.com"), wantVar: EnvACMEDomains, wantMsg: "not a URL"},
		{name: "port", cfg: acmeCfg("mcp.example.com:443"), wantVar: EnvACMEDomains, wantMsg: "without port"},
		{name: "underscore", cfg: acmeCfg("mcp_1.example.com"), wantVar: EnvACMEDomains, wantMsg: "invalid domain"},
		{name: "leading hyphen", cfg: acmeCfg("-mcp.example.com"), wantVar: EnvACMEDomains, wantMsg: "invalid domain"},
		{name: "empty label", cfg: acmeCfg("mcp..example.com"), wantVar: EnvACMEDomains, wantMsg: "invalid domain"},
		{name: "long label", cfg: acmeCfg(strings.Repeat("a", 64) + ".example.com"), wantVar: EnvACMEDomains, wantMsg: "invalid domain"},
		{name: "bad email", cfg: Config{ACMEDomains: []string{"a.example.com"}, ACMEEmail: "not an address", Cache: cache}, wantVar: EnvACMEEmail, wantMsg: "invalid address"},
		{name: "email with name", cfg: Config{ACMEDomains: []string{"a.example.com"}, ACMEEmail: "Ops <ops@example.com>", Cache: cache}, wantVar: EnvACMEEmail, wantMsg: "bare address"},
		{name: "plain-HTTP directory", cfg: Config{ACMEDomains: []string{"a.example.com"}, ACMEDirectory: "http://acme.example/dir", Cache: cache}, wantVar: EnvACMEDirectory, wantMsg: "https://"},
		{name: "directory not a URL", cfg: Config{ACMEDomains: []string{"a.example.com"}, ACMEDirectory: "::", Cache: cache}, wantVar: EnvACMEDirectory, wantMsg: "invalid URL"},
		{name: "ACME CA in pair mode", cfg: Config{CertFile: "c", KeyFile: "k", ACMECAFile: "ca.pem"}, wantVar: EnvACMECA, wantMsg: "only used in ACME mode"},
		{name: "ACME CA without domains", cfg: Config{ACMECAFile: "ca.pem"}, wantVar: EnvACMEDomains, wantMsg: "not set"},
		{name: "ACME CA file missing", cfg: Config{ACMEDomains: []string{"a.example.com"}, ACMECAFile: filepath.Join(t.TempDir(), "none.pem"), Cache: cache}, wantVar: EnvACMECA, wantMsg: "no such file"},
		{name: "ACME CA file without PEM", cfg: Config{ACMEDomains: []string{"a.example.com"}, ACMECAFile: notPEM, Cache: cache}, wantVar: EnvACMECA, wantMsg: "holds no PEM certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, nil)
			require.Error(t, err)
			var ce *ConfigError
			require.True(t, errors.As(err, &ce), "want *ConfigError, got %T: %v", err, err)
			assert.Equal(t, tc.wantVar, ce.Var)
			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, tc.wantVar+": "), msg)
			assert.Contains(t, msg, tc.wantMsg)
			for _, v := range []string{EnvCert, EnvKey, EnvACMEDomains, EnvACMEEmail, EnvACMEDirectory, EnvACMECA} {
				assert.LessOrEqual(t, strings.Count(msg, v), 1, "%s named more than once: %s", v, msg)
			}
		})
	}
}

func TestNewACMEWithoutCacheIsAProgrammingError(t *testing.T) {
	t.Parallel()
	_, err := New(Config{ACMEDomains: []string{"mcp.example.com"}}, nil)
	require.Error(t, err)
	var ce *ConfigError
	assert.False(t, errors.As(err, &ce), "nothing the user can set fixes this")
	assert.Contains(t, err.Error(), "Cache")
}

func TestNewACMENormalisesDomains(t *testing.T) {
	t.Parallel()
	m, err := New(Config{
		ACMEDomains: []string{"MCP.Example.com.", " mcp.example.com", "bücher.example"},
		Cache:       autocert.DirCache(t.TempDir()),
	}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"mcp.example.com", "xn--bcher-kva.example"}, m.domains)
	assert.Equal(t, autocert.DefaultACMEDirectory, m.acme.Client.DirectoryURL)
	assert.Nil(t, m.acme.Client.HTTPClient, "default client when none is given")

	cfg := m.TLSConfig()
	assert.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)
	assert.Contains(t, cfg.NextProtos, "acme-tls/1", "TLS-ALPN-01 needs the protocol offered")
	cfg.NextProtos = nil
	assert.NotNil(t, m.TLSConfig().NextProtos, "TLSConfig hands out copies")
}

func TestNewACMEClientChoice(t *testing.T) {
	t.Parallel()
	own := &http.Client{}
	roots := x509.NewCertPool()
	tests := []struct {
		name      string
		client    *http.Client
		roots     *x509.CertPool
		wantOwn   bool
		wantRoots bool
	}{
		{name: "system roots", wantOwn: false},
		{name: "own roots", roots: roots, wantRoots: true},
		{name: "own client wins", client: own, roots: roots, wantOwn: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(Config{
				ACMEDomains: []string{"mcp.example.com"}, ACMEDirectory: "https://acme.example/dir",
				Cache: autocert.DirCache(t.TempDir()), ACMEHTTPClient: tc.client, ACMERootCAs: tc.roots,
			}, nil)
			require.NoError(t, err)
			got := m.acme.Client.HTTPClient
			assert.Equal(t, "https://acme.example/dir", m.acme.Client.DirectoryURL)
			switch {
			case tc.wantOwn:
				assert.Same(t, own, got)
			case tc.wantRoots:
				require.NotNil(t, got)
				assert.Same(t, roots, got.Transport.(*http.Transport).TLSClientConfig.RootCAs)
			default:
				assert.Nil(t, got)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		enabled bool
	}{
		{name: "nothing set", env: map[string]string{}, want: Config{}, enabled: false},
		{
			name: "pair",
			env:  map[string]string{EnvCert: " /etc/tls/tls.crt ", EnvKey: "/etc/tls/tls.key"},
			want: Config{CertFile: "/etc/tls/tls.crt", KeyFile: "/etc/tls/tls.key"}, enabled: true,
		},
		{
			name: "ACME",
			env: map[string]string{
				EnvACMEDomains: "mcp.example.com, , api.example.com,", EnvACMEEmail: "ops@example.com",
				EnvACMEDirectory: "https://acme-staging-v02.api.letsencrypt.org/directory",
				EnvACMECA:        " /etc/acme/ca.pem ",
			},
			want: Config{
				ACMEDomains: []string{"mcp.example.com", "api.example.com"}, ACMEEmail: "ops@example.com",
				ACMEDirectory: "https://acme-staging-v02.api.letsencrypt.org/directory",
				ACMECAFile:    "/etc/acme/ca.pem",
			},
			enabled: true,
		},
		{name: "only a CA file", env: map[string]string{EnvACMECA: "/ca.pem"}, want: Config{ACMECAFile: "/ca.pem"}, enabled: true},
		{name: "only an email", env: map[string]string{EnvACMEEmail: "ops@example.com"}, want: Config{ACMEEmail: "ops@example.com"}, enabled: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ConfigFromEnv(func(k string) string { return tc.env[k] })
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.enabled, got.Enabled())
		})
	}
}

func TestNewPairLoadsAtStartup(t *testing.T) {
	t.Parallel()
	p := newTestPair(t, "A", "mcp.example.com")
	certFile, keyFile := writePairFiles(t, t.TempDir(), p.certPEM, p.keyPEM, time.Now())
	m, err := New(Config{CertFile: certFile, KeyFile: keyFile}, nil)
	require.NoError(t, err)
	cfg := m.TLSConfig()
	assert.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)
	assert.NotContains(t, cfg.NextProtos, "acme-tls/1")
	cert, err := cfg.GetCertificate(nil)
	require.NoError(t, err)
	assert.Equal(t, p.cert.SerialNumber, cert.Leaf.SerialNumber)
}

// BIGIN_MCP_ACME_CA's certificates are the roots of the ACME client's
// HTTPS connections, added to ACMERootCAs when both are given.
func TestNewACMECAFile(t *testing.T) {
	t.Parallel()
	fromFile := newTestPair(t, "private ACME CA", "acme.internal.example")
	given := newTestPair(t, "given", "other.example")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, fromFile.certPEM, 0o600))
	tests := []struct {
		name  string
		given *x509.CertPool
		trust []*x509.Certificate
	}{
		{name: "file alone", trust: []*x509.Certificate{fromFile.cert}},
		{name: "file and given roots", given: pool(given.cert), trust: []*x509.Certificate{fromFile.cert, given.cert}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(Config{
				ACMEDomains: []string{"mcp.example.com"}, ACMEDirectory: "https://acme.internal.example/dir",
				ACMECAFile: caFile, ACMERootCAs: tc.given, Cache: autocert.DirCache(t.TempDir()),
			}, nil)
			require.NoError(t, err)
			require.NotNil(t, m.acme.Client.HTTPClient)
			roots := m.acme.Client.HTTPClient.Transport.(*http.Transport).TLSClientConfig.RootCAs
			assert.True(t, roots.Equal(pool(tc.trust...)), "trusted: exactly %d certificate(s)", len(tc.trust))
			if tc.given != nil {
				assert.True(t, tc.given.Equal(pool(given.cert)), "the caller's pool is left as it was")
			}
		})
	}
}
