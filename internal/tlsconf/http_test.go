package tlsconf

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/acme/autocert"
)

// request builds a request for target (path or absolute URL) with Host host.
func request(method, target, host string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.Host = host
	return r
}

func TestHTTPHandlerACME(t *testing.T) {
	t.Parallel()
	cache := autocert.DirCache(t.TempDir())
	m, err := New(Config{ACMEDomains: []string{"mcp.example.com"}, Cache: cache, HTTPSPort: 8443}, nil)
	require.NoError(t, err)
	// What autocert stores while an HTTP-01 challenge is pending, here as a
	// replica that did not start the order would find it in the shared cache.
	require.NoError(t, cache.Put(t.Context(), "tok123+http-01", []byte("tok123.thumbprint")))
	h := m.HTTPHandler(nil)

	tests := []struct {
		name     string
		req      *http.Request
		wantCode int
		wantLoc  string
		wantBody string
	}{
		{name: "GET redirects", req: request("GET", "/mcp/abc?x=1", "mcp.example.com"), wantCode: 301, wantLoc: "https://mcp.example.com:8443/mcp/abc?x=1"},
		{name: "HEAD redirects", req: request("HEAD", "/", "mcp.example.com"), wantCode: 301, wantLoc: "https://mcp.example.com:8443/"},
		{name: "POST keeps its method", req: request("POST", "/mcp/abc", "mcp.example.com"), wantCode: 308, wantLoc: "https://mcp.example.com:8443/mcp/abc"},
		{name: "Host with port and case", req: request("GET", "/", "MCP.example.com.:80"), wantCode: 301, wantLoc: "https://mcp.example.com:8443/"},
		{name: "unknown Host", req: request("GET", "/", "evil.example"), wantCode: 400},
		{name: "suffix of a known Host", req: request("GET", "/", "xmcp.example.com"), wantCode: 400},
		{name: "no Host", req: request("GET", "/", ""), wantCode: 400},
		{name: "absolute-form target stays on our host", req: request("GET", "http://evil.example/x", "mcp.example.com"), wantCode: 301, wantLoc: "https://mcp.example.com:8443/x"},
		{name: "scheme-relative path stays on our host", req: request("GET", "//evil.example/x", "mcp.example.com"), wantCode: 301, wantLoc: "https://mcp.example.com:8443//evil.example/x"},
		{name: "challenge answered", req: request("GET", "/.well-known/acme-challenge/tok123", "mcp.example.com"), wantCode: 200, wantBody: "tok123.thumbprint"},
		{name: "challenge with validator's port", req: request("GET", "/.well-known/acme-challenge/tok123", "mcp.example.com:5002"), wantCode: 200, wantBody: "tok123.thumbprint"},
		{name: "unknown token", req: request("GET", "/.well-known/acme-challenge/nope", "mcp.example.com"), wantCode: 404},
		{name: "challenge for unknown Host", req: request("GET", "/.well-known/acme-challenge/tok123", "evil.example"), wantCode: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tc.req)
			assert.Equal(t, tc.wantCode, w.Code, w.Body.String())
			assert.Equal(t, tc.wantLoc, w.Header().Get("Location"))
			if tc.wantLoc != "" {
				u, err := url.Parse(tc.wantLoc)
				require.NoError(t, err)
				assert.Equal(t, "mcp.example.com", u.Hostname())
			}
			if tc.wantBody != "" {
				assert.Equal(t, tc.wantBody, w.Body.String())
			}
		})
	}
}

func TestHTTPHandlerFallbackAndDefaultPort(t *testing.T) {
	t.Parallel()
	m, err := New(Config{ACMEDomains: []string{"mcp.example.com"}, Cache: autocert.DirCache(t.TempDir())}, nil)
	require.NoError(t, err)

	w := httptest.NewRecorder()
	m.HTTPHandler(nil).ServeHTTP(w, request("GET", "/a", "mcp.example.com"))
	assert.Equal(t, "https://mcp.example.com/a", w.Header().Get("Location"), "no port for 443")

	fallback := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	w = httptest.NewRecorder()
	m.HTTPHandler(fallback).ServeHTTP(w, request("GET", "/a", "mcp.example.com"))
	assert.Equal(t, http.StatusTeapot, w.Code)
}

func TestHTTPHandlerPairRedirectsToCertificateNames(t *testing.T) {
	t.Parallel()
	p := newTestPair(t, "A", "mcp.example.com", "*.tenants.example.com", "192.0.2.7")
	certFile, keyFile := writePairFiles(t, t.TempDir(), p.certPEM, p.keyPEM, time.Now())
	m, err := New(Config{CertFile: certFile, KeyFile: keyFile}, nil)
	require.NoError(t, err)
	h := m.HTTPHandler(nil)

	tests := []struct {
		host     string
		wantCode int
		wantLoc  string
	}{
		{host: "mcp.example.com", wantCode: 301, wantLoc: "https://mcp.example.com/p"},
		{host: "acme.tenants.example.com:80", wantCode: 301, wantLoc: "https://acme.tenants.example.com/p"},
		{host: "192.0.2.7", wantCode: 301, wantLoc: "https://192.0.2.7/p"},
		{host: "a.b.tenants.example.com", wantCode: 400},
		{host: "evil.example", wantCode: 400},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, request("GET", "/p", tc.host))
			assert.Equal(t, tc.wantCode, w.Code)
			assert.Equal(t, tc.wantLoc, w.Header().Get("Location"))
		})
	}

	// No challenges in pair mode: the path is redirected like any other.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, request("GET", "/.well-known/acme-challenge/x", "mcp.example.com"))
	assert.Equal(t, http.StatusMovedPermanently, w.Code)
}

func TestHSTS(t *testing.T) {
	t.Parallel()
	h := HSTS(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	tests := []struct {
		name string
		tls  *tls.ConnectionState
		want string
	}{
		{name: "over TLS", tls: &tls.ConnectionState{HandshakeComplete: true}, want: "max-age=31536000"},
		{name: "plain HTTP", tls: nil, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.TLS = tc.tls
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Equal(t, tc.want, w.Header().Get("Strict-Transport-Security"))
			assert.Equal(t, "ok", w.Body.String())
		})
	}
}

func TestHSTSOverRealListeners(t *testing.T) {
	t.Parallel()
	h := HSTS(http.NotFoundHandler())

	plain := httptest.NewServer(h)
	defer plain.Close()
	resp, err := plain.Client().Get(plain.URL)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Empty(t, resp.Header.Get("Strict-Transport-Security"))

	secure := httptest.NewTLSServer(h)
	defer secure.Close()
	resp, err = secure.Client().Get(secure.URL)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, "max-age=31536000", resp.Header.Get("Strict-Transport-Security"))

	// A handler's own policy wins.
	own := HSTS(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=60")
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.TLS = &tls.ConnectionState{}
	w := httptest.NewRecorder()
	own.ServeHTTP(w, r)
	assert.Equal(t, "max-age=60", w.Header().Get("Strict-Transport-Security"))
}
