package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
	"github.com/bigin-mcp/bigin-mcp/internal/tlsconf"
	"github.com/bigin-mcp/bigin-mcp/internal/tlsconf/pebbletest"
	"github.com/bigin-mcp/bigin-mcp/store"
)

// acmeDomain is the name serve gets a certificate for. The test's DNS
// server resolves it to 127.0.0.1 for Pebble; clients here dial the
// listener directly and send the name as SNI and Host.
const acmeDomain = "mcp.bigin.test"

// challengeRequest is the request log line of an HTTP-01 challenge
// answered on the plain-HTTP listener.
var challengeRequest = regexp.MustCompile(`"path":"/\.well-known/acme-challenge/[^"]*","status":200`)

// TestServeACMEWithPebble runs `serve` itself in ACME mode against a real
// ACME server (Pebble on loopback): the first HTTPS handshake for the
// domain orders a certificate, validated once through each challenge
// type. Pebble's other challenge port closes every connection, so only
// the challenge under test can succeed. Then: the certificate chains to
// Pebble's root and is for the domain, HSTS is sent, the plain-HTTP
// listener redirects to HTTPS, a tool call over HTTPS works with the
// go-sdk client, and the certificate is in the store, so a second serve
// on the same data directory serves it with no ACME server to order from.
func TestServeACMEWithPebble(t *testing.T) {
	t.Parallel()
	bin := pebbletest.Build(t)
	tests := []struct {
		challenge string
		wantHTTP  bool // an HTTP-01 challenge answered on BIGIN_MCP_HTTP_ADDR
	}{
		{challenge: "tls-alpn-01", wantHTTP: false},
		// autocert tries TLS-ALPN-01 first; when it fails, a new order
		// goes through HTTP-01.
		{challenge: "http-01", wantHTTP: true},
	}
	for _, tc := range tests {
		t.Run(tc.challenge, func(t *testing.T) {
			t.Parallel()
			testServeACME(t, bin, tc.challenge == "http-01", tc.wantHTTP)
		})
	}
}

func testServeACME(t *testing.T, bin string, viaHTTP, wantHTTP bool) {
	sb := sandbox.New(sandbox.Options{})
	zs := httptest.NewServer(sb)
	t.Cleanup(zs.Close)
	sb.SetBaseURL(zs.URL)

	// Pebble's addresses and its API certificate come first: serve is told
	// to trust that certificate, then Pebble starts on serve's ports.
	p := pebbletest.New(t, bin, pebbletest.StartDNS(t))
	caFile := filepath.Join(t.TempDir(), "pebble-api-ca.pem")
	require.NoError(t, os.WriteFile(caFile, p.APIRootsPEM, 0o600))

	dataDir := t.TempDir()
	env := func(directory string) map[string]string {
		return map[string]string{
			"BIGIN_MCP_DATA_DIR":           dataDir,
			"BIGIN_MCP_ACME_DOMAINS":       acmeDomain,
			"BIGIN_MCP_ACME_EMAIL":         "ops@bigin.test",
			"BIGIN_MCP_ACME_DIRECTORY":     directory,
			"BIGIN_MCP_ACME_CA":            caFile,
			"BIGIN_MCP_HTTP_ADDR":          "127.0.0.1:0",
			"BIGIN_MCP_DATACENTERS":        fmt.Sprintf(`{"us":{"accounts_url":%q,"api_url":%q}}`, zs.URL, zs.URL),
			"BIGIN_MCP_ZOHO_CLIENT_ID":     sb.ClientID(),
			"BIGIN_MCP_ZOHO_CLIENT_SECRET": sb.ClientSecret(),
			"BIGIN_MCP_LOG_LEVEL":          "debug",
		}
	}
	base, adminToken, logs, stop := startServe(t, env(p.Directory))
	httpsAddr := hostPort(t, base)
	httpsPort := portOf(t, httpsAddr)
	m := regexp.MustCompile(`"msg":"listening for ACME challenges and redirects to HTTPS","addr":"([^"]+)"`).FindStringSubmatch(logs.String())
	require.NotNil(t, m, logs.String())
	httpAddr := m[1]

	pebbleHTTP, pebbleTLS := pebbletest.RefusingPort(t), httpsPort
	if viaHTTP {
		pebbleHTTP, pebbleTLS = portOf(t, httpAddr), pebbletest.RefusingPort(t)
	}
	p.Start(t, pebbleHTTP, pebbleTLS)
	root := p.Cert(t, "/roots/0")
	roots := x509.NewCertPool()
	roots.AddCert(root)

	// A client that reaches the domain at serve's HTTPS listener and
	// trusts only Pebble's root. The first handshake orders the
	// certificate, so it gets a generous timeout.
	https := domainClient(t, httpsAddr, roots)
	public := "https://" + net.JoinHostPort(acmeDomain, strconv.Itoa(httpsPort))
	resp, err := https.Get(public + "/healthz")
	require.NoError(t, err, "serve log:\n%s", logs)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "max-age=31536000", resp.Header.Get("Strict-Transport-Security"))
	require.NotEmpty(t, resp.TLS.VerifiedChains, "verified against Pebble's root")
	leaf := resp.TLS.PeerCertificates[0]
	assert.Equal(t, []string{acmeDomain}, leaf.DNSNames)
	chain := resp.TLS.VerifiedChains[0]
	assert.True(t, chain[len(chain)-1].Equal(root), "the chain ends at Pebble's root")
	if wantHTTP {
		assert.Regexp(t, challengeRequest, logs.String(), "HTTP-01 answered on the plain-HTTP listener")
	} else {
		assert.NotRegexp(t, challengeRequest, logs.String(), "no HTTP-01 challenge answered")
	}

	// The plain-HTTP listener redirects the domain to HTTPS.
	req, err := http.NewRequest(http.MethodGet, "http://"+httpAddr+"/healthz?x=1", nil)
	require.NoError(t, err)
	req.Host = acmeDomain
	plain := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = plain.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	assert.Equal(t, public+"/healthz?x=1", resp.Header.Get("Location"))

	// Minted URLs are on the domain, and a tool call over HTTPS works.
	acct := adminPost(t, https, public+"/admin/integrated-accounts", adminToken,
		map[string]any{"name": "Acme", "datacenter": "us", "refresh_token": sb.IssueRefreshToken()})
	minted := adminPost(t, https, public+"/admin/integrated-accounts/"+acct["id"].(string)+"/mcp", adminToken,
		map[string]any{"name": "agent", "config": map[string]any{}})
	mcpURL, _ := minted["url"].(string)
	require.Regexp(t, "^"+regexp.QuoteMeta(public)+"/mcp/", mcpURL)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "t", Version: "1"}, nil).
		Connect(ctx, &sdk.StreamableClientTransport{Endpoint: mcpURL, HTTPClient: https, MaxRetries: -1}, nil)
	require.NoError(t, err)
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "list_all_zohobigin_roles"})
	require.NoError(t, err)
	assert.False(t, res.IsError, "tool result: %+v", res.Content)
	require.NoError(t, cs.Close())
	require.NoError(t, stop())

	// The certificate is in the store (sealed, under the ACME cache keys).
	cached := cachedCert(t, dataDir)
	assert.True(t, cached.Equal(leaf), "the store holds the served certificate")

	// A second serve on the same data directory has no ACME server to
	// order from, yet serves the same certificate: it comes from the store.
	base2, _, logs2, _ := startServe(t, env("https://127.0.0.1:1/dir"))
	httpsAddr2 := hostPort(t, base2)
	resp, err = domainClient(t, httpsAddr2, roots).Get("https://" + net.JoinHostPort(acmeDomain, strconv.Itoa(portOf(t, httpsAddr2))) + "/healthz")
	require.NoError(t, err, "serve log:\n%s", logs2)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, leaf.SerialNumber, resp.TLS.PeerCertificates[0].SerialNumber, "the cached certificate, not a new one")
}

// domainClient is an HTTPS client that dials addr whatever host a URL
// names, so requests for the ACME domain reach serve with the domain as
// SNI and Host, and that trusts only roots.
func domainClient(t *testing.T, addr string, roots *x509.CertPool) *http.Client {
	t.Helper()
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2: true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 90 * time.Second}
}

// adminPost posts body as JSON to an admin endpoint and returns the
// decoded 201 answer.
func adminPost(t *testing.T, c *http.Client, url, token string, body any) map[string]any {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(raw))
	out := map[string]any{}
	require.NoError(t, json.Unmarshal(raw, &out))
	return out
}

// cachedCert opens the stopped server's store and returns the leaf of the
// certificate cached for acmeDomain.
func cachedCert(t *testing.T, dataDir string) *x509.Certificate {
	t.Helper()
	key, err := store.LoadOrCreateKey(dataDir, "")
	require.NoError(t, err)
	db, err := store.Open(filepath.Join(dataDir, store.DBFileName), store.Options{Key: key})
	require.NoError(t, err)
	defer db.Close()
	// autocert caches an ECDSA certificate under the bare domain: the
	// private key, then the chain, leaf first.
	data, err := tlsconf.StoreCache(db).Get(context.Background(), acmeDomain)
	require.NoError(t, err)
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		require.NotNil(t, block, "no certificate in the cached entry")
		if block.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(block.Bytes)
			require.NoError(t, err)
			return c
		}
	}
}

// hostPort is the host:port of an http(s) base URL.
func hostPort(t *testing.T, base string) string {
	t.Helper()
	_, hp, ok := strings.Cut(base, "://")
	require.True(t, ok, base)
	return hp
}

// portOf is the port of host:port.
func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	n, err := strconv.Atoi(p)
	require.NoError(t, err)
	return n
}
