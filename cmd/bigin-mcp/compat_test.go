package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/tlsconf"
)

// writeCertPair writes a self-signed certificate for 127.0.0.1 and
// localhost and its key to dir, and returns the paths and a pool that
// trusts it.
func writeCertPair(t *testing.T, dir string) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "bigin-mcp test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}

func TestParseConfigTLSAndPublicURL(t *testing.T) {
	t.Parallel()
	c, err := parseConfig("t", []string{"--tls-cert", "/c.pem", "--tls-key", "/k.pem", "--http-addr", "0.0.0.0:80"},
		envOf(map[string]string{"BIGIN_MCP_ACME_EMAIL": "ops@example.com"}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "/c.pem", c.TLS.CertFile)
	assert.Equal(t, "/k.pem", c.TLS.KeyFile)
	assert.Equal(t, "ops@example.com", c.TLS.ACMEEmail, "variables and flags mix; New refuses this mix later, naming the variable")
	assert.Equal(t, "0.0.0.0:80", c.HTTPAddr)

	c, err = parseConfig("t", nil, envOf(map[string]string{
		"BIGIN_MCP_ACME_DOMAINS": "mcp.example.com, api.example.com", "BIGIN_MCP_ACME_DIRECTORY": "https://acme.example/dir",
		"BIGIN_MCP_ADDR": "0.0.0.0:443", "BIGIN_MCP_ACME_CA": "/etc/acme/ca.pem",
	}), io.Discard)
	require.NoError(t, err, "with ACME the public URL defaults to the domain, so listening everywhere is fine")
	assert.Equal(t, []string{"mcp.example.com", "api.example.com"}, c.TLS.ACMEDomains)
	assert.Equal(t, "https://acme.example/dir", c.TLS.ACMEDirectory)
	assert.Equal(t, "/etc/acme/ca.pem", c.TLS.ACMECAFile)
	assert.Equal(t, "https://mcp.example.com", defaultPublicURL(c, "0.0.0.0:443", 443))
	assert.Equal(t, "https://mcp.example.com:8443", defaultPublicURL(c, "0.0.0.0:8443", 8443))

	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"0.0.0.0 without a public URL", map[string]string{"BIGIN_MCP_ADDR": "0.0.0.0:8080"}, "BIGIN_MCP_PUBLIC_URL: must be set"},
		{":: without a public URL", map[string]string{"BIGIN_MCP_ADDR": "[::]:8080"}, "BIGIN_MCP_PUBLIC_URL: must be set"},
		{"no host without a public URL", map[string]string{"BIGIN_MCP_ADDR": ":8080"}, "BIGIN_MCP_PUBLIC_URL: must be set"},
		{"HTTP address without HTTPS", map[string]string{"BIGIN_MCP_HTTP_ADDR": "127.0.0.1:80"}, "BIGIN_MCP_HTTP_ADDR: only used with HTTPS"},
		{"bad HTTP address", map[string]string{"BIGIN_MCP_HTTP_ADDR": "80", "BIGIN_MCP_TLS_CERT": "c"}, "BIGIN_MCP_HTTP_ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseConfig("t", nil, envOf(tt.env), io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
	_, err = parseConfig("t", nil, envOf(map[string]string{"BIGIN_MCP_ADDR": "0.0.0.0:8080", "BIGIN_MCP_PUBLIC_URL": "https://mcp.example.com"}), io.Discard)
	assert.NoError(t, err, "listening everywhere is fine with a public URL")
}

// serve terminates HTTPS itself from a certificate pair: MCP clients
// connect over it, answers carry HSTS, minted URLs are https, and the
// plain-HTTP listener redirects to HTTPS.
func TestServeHTTPSFromCertPair(t *testing.T) {
	t.Parallel()
	certFile, keyFile, roots := writeCertPair(t, t.TempDir())
	base, tok, logs, _ := startServe(t, map[string]string{
		"BIGIN_MCP_DATA_DIR":  t.TempDir(),
		"BIGIN_MCP_TLS_CERT":  certFile,
		"BIGIN_MCP_TLS_KEY":   keyFile,
		"BIGIN_MCP_HTTP_ADDR": "127.0.0.1:0",
		// Connect links need a Zoho OAuth client; none is called here.
		"BIGIN_MCP_ZOHO_CLIENT_ID":     "1000.TEST",
		"BIGIN_MCP_ZOHO_CLIENT_SECRET": "test-secret",
	})
	client := &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}},
		Timeout:   10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	resp, err := client.Get(base + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "max-age=31536000", resp.Header.Get("Strict-Transport-Security"))

	// An MCP URL minted by the server is https and works with the go-sdk client.
	req, _ := http.NewRequest("POST", base+"/admin/connect-links", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err = client.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 201, resp.StatusCode, string(body))
	assert.Contains(t, string(body), `"url":"`+base+`/connect/`, "minted URLs follow the HTTPS listener")

	// The plain-HTTP listener redirects to HTTPS.
	m := regexp.MustCompile(`"msg":"listening for ACME challenges and redirects to HTTPS","addr":"([^"]+)"`).FindStringSubmatch(logs.String())
	require.NotNil(t, m, logs.String())
	resp, err = client.Get("http://" + m[1] + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	assert.Equal(t, base+"/healthz", resp.Header.Get("Location"))

	// The healthcheck sub-command reaches the HTTPS listener.
	var out strings.Builder
	err = run(context.Background(), []string{"healthcheck", "--addr", strings.TrimPrefix(base, "https://")},
		envOf(map[string]string{"BIGIN_MCP_TLS_CERT": certFile}), &out, io.Discard)
	require.NoError(t, err)
	assert.Contains(t, out.String(), "ok https://")
}

// The go-sdk client talks to the HTTPS listener, which refuses an unknown
// URL with the JSON-RPC 404 (id null: the body of a request to an unknown
// token is never read, so the go-sdk client reports only "Not Found").
func TestServeHTTPSWithMCPClient(t *testing.T) {
	t.Parallel()
	certFile, keyFile, roots := writeCertPair(t, t.TempDir())
	base, _, _, _ := startServe(t, map[string]string{
		"BIGIN_MCP_DATA_DIR": t.TempDir(),
		"BIGIN_MCP_TLS_CERT": certFile,
		"BIGIN_MCP_TLS_KEY":  keyFile,
	})
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "t", Version: "1"}, nil).Connect(context.Background(),
		&sdk.StreamableClientTransport{Endpoint: base + "/mcp/" + strings.Repeat("x", 10), HTTPClient: hc, MaxRetries: -1}, nil)
	require.Error(t, err, "an unknown URL is refused over HTTPS too")
	assert.Contains(t, err.Error(), "Not Found")
	assert.Nil(t, cs)
	resp, err := hc.Post(base+"/mcp/"+strings.Repeat("x", 10), "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.JSONEq(t, `{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"no MCP server at this URL (unknown, deleted or expired)","data":{"status":404,"code":"not_found"}}}`, string(body))
}

func TestServeTLSErrorsNameTheVariable(t *testing.T) {
	t.Parallel()
	certFile, _, _ := writeCertPair(t, t.TempDir())
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"cert without key", map[string]string{"BIGIN_MCP_TLS_CERT": certFile}, "BIGIN_MCP_TLS_KEY"},
		{"missing files", map[string]string{"BIGIN_MCP_TLS_CERT": "/nonexistent/c.pem", "BIGIN_MCP_TLS_KEY": "/nonexistent/k.pem"}, "BIGIN_MCP_TLS_CERT"},
		{"ACME with a bad domain", map[string]string{"BIGIN_MCP_ACME_DOMAINS": "localhost"}, "BIGIN_MCP_ACME_DOMAINS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.env["BIGIN_MCP_ADDR"] = "127.0.0.1:0"
			tt.env["BIGIN_MCP_DATA_DIR"] = t.TempDir()
			cfg, err := parseConfig("t", nil, envOf(tt.env), io.Discard)
			require.NoError(t, err)
			err = serve(context.Background(), cfg, io.Discard, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// A busy port says which setting to change, for serve and demo alike.
func TestBusyPortNamesTheFlag(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	busy := ln.Addr().String()

	cfg, err := parseConfig("t", nil, envOf(map[string]string{"BIGIN_MCP_ADDR": busy, "BIGIN_MCP_DATA_DIR": t.TempDir()}), io.Discard)
	require.NoError(t, err)
	err = serve(context.Background(), cfg, io.Discard, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), busy+" is already in use")
	assert.Contains(t, err.Error(), "--addr")

	// demo honours BIGIN_MCP_ADDR, so the busy port comes from there.
	err = run(context.Background(), []string{"demo"}, envOf(map[string]string{"BIGIN_MCP_ADDR": busy}), io.Discard, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), busy+" is already in use")
	assert.Contains(t, err.Error(), "--addr")
}

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	base, _, _, stop := startServe(t, map[string]string{"BIGIN_MCP_DATA_DIR": t.TempDir()})
	addr := strings.TrimPrefix(base, "http://")
	var out strings.Builder
	require.NoError(t, run(context.Background(), []string{"healthcheck"}, envOf(map[string]string{"BIGIN_MCP_ADDR": addr}), &out, io.Discard))
	assert.Equal(t, "ok "+base+"/healthz\n", out.String())

	_, port, _ := net.SplitHostPort(addr)
	require.NoError(t, run(context.Background(), []string{"healthcheck", "--addr", "0.0.0.0:" + port}, envOf(nil), io.Discard, io.Discard),
		"an address listening everywhere is checked on loopback")

	require.NoError(t, stop())
	var stderr strings.Builder
	err := run(context.Background(), []string{"healthcheck", "--addr", addr, "--timeout", "5s"}, envOf(nil), io.Discard, &stderr)
	assert.True(t, errors.Is(err, errUnhealthy), "a stopped server is unhealthy (exit 1): %v", err)
	assert.Contains(t, stderr.String(), "/healthz")
}

func TestVersionFromTheBuild(t *testing.T) {
	t.Parallel()
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		name    string
		stamped string
		info    *debug.BuildInfo
		want    string
	}{
		{"stamped with ldflags", "v1.4.0", &debug.BuildInfo{Main: debug.Module{Version: "v9.9.9"}}, "v1.4.0"},
		{"module version", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{"checkout", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: settings("vcs.revision", "0123456789abcdef0123", "vcs.modified", "false")}, "devel-0123456789ab"},
		{"dirty checkout", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: settings("vcs.revision", "0123456789abcdef0123", "vcs.modified", "true")}, "devel-0123456789ab-dirty"},
		{"nothing known", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"no build info", "", nil, "dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, versionFrom(tt.stamped, tt.info, tt.info != nil))
		})
	}
	var out strings.Builder
	require.NoError(t, run(context.Background(), []string{"version"}, envOf(nil), &out, io.Discard))
	assert.Equal(t, "bigin-mcp "+buildVersion()+"\n", out.String())
}

func TestHealthcheckTLS(t *testing.T) {
	t.Parallel()
	assert.Nil(t, healthcheckTLS(tlsconf.Config{}), "plain HTTP")
	pair := healthcheckTLS(tlsconf.Config{CertFile: "c", KeyFile: "k"})
	require.NotNil(t, pair)
	assert.Empty(t, pair.ServerName)
	acme := healthcheckTLS(tlsconf.Config{ACMEDomains: []string{"MCP.example.com.", "b.example.com"}})
	require.NotNil(t, acme)
	assert.Equal(t, "mcp.example.com", acme.ServerName, "autocert needs a server name to pick the certificate")
}
