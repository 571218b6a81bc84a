package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs serve on a free loopback port until the test ends.
func startServe(t *testing.T, env map[string]string) (base, adminToken string, logs *syncBuffer, stop func() error) {
	t.Helper()
	if env["BIGIN_MCP_ADDR"] == "" {
		env["BIGIN_MCP_ADDR"] = "127.0.0.1:0"
	}
	cfg, err := parseConfig("t", nil, envOf(env), io.Discard)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	logs = &syncBuffer{}
	ready := make(chan [2]string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, logs, func(addr, tok string) { ready <- [2]string{addr, tok} }) }()
	select {
	case r := <-ready:
		scheme := "http"
		if env["BIGIN_MCP_TLS_CERT"] != "" || env["BIGIN_MCP_ACME_DOMAINS"] != "" {
			scheme = "https"
		}
		base, adminToken = scheme+"://"+r[0], r[1]
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	var once sync.Once
	var serr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case serr = <-done:
			case <-time.After(60 * time.Second): // serve's own shutdown gives up after 25 s
				serr = errors.New("serve did not return within 60 s of its context's end")
			}
		})
		return serr
	}
	t.Cleanup(func() { stop() })
	return base, adminToken, logs, stop
}

// sandboxServe starts a fake Zoho and serve pointed at it (with env added
// to the settings), connects one account through the admin API and mints
// an MCP URL for it with the default config.
func sandboxServe(t *testing.T, env map[string]string) (sb *sandbox.Sandbox, base, adminToken, mcpURL string, logs *syncBuffer, stop func() error) {
	t.Helper()
	sb = sandbox.New(sandbox.Options{})
	zs := httptest.NewServer(sb)
	t.Cleanup(zs.Close)
	sb.SetBaseURL(zs.URL)
	env["BIGIN_MCP_DATACENTERS"] = fmt.Sprintf(`{"us":{"accounts_url":%q,"api_url":%q}}`, zs.URL, zs.URL)
	env["BIGIN_MCP_ZOHO_CLIENT_ID"] = sb.ClientID()
	env["BIGIN_MCP_ZOHO_CLIENT_SECRET"] = sb.ClientSecret()
	base, adminToken, logs, stop = startServe(t, env)
	post := func(path string, body any) map[string]any {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusCreated, resp.StatusCode)
		out := map[string]any{}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return out
	}
	acct := post("/admin/integrated-accounts", map[string]any{"name": "a", "datacenter": "us", "refresh_token": sb.IssueRefreshToken()})
	mcpURL = post("/admin/integrated-accounts/"+acct["id"].(string)+"/mcp", map[string]any{"name": "u", "config": map[string]any{}})["url"].(string)
	return sb, base, adminToken, mcpURL, logs, stop
}

func TestServeHealthAndBootstrapToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base, tok, logs, stop := startServe(t, map[string]string{"BIGIN_MCP_DATA_DIR": dir})
	require.True(t, strings.HasPrefix(tok, "bmcp_api_"), "a bootstrap token is generated on first start")

	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(base + p)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode, p)
	}
	req, _ := http.NewRequest("GET", base+"/admin/api-tokens", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)

	require.NoError(t, stop())
	printed := 0
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.HasPrefix(line, "{") {
			assert.NotContains(t, line, tok, "no log line holds the token")
		} else if strings.Contains(line, tok) {
			printed++
		}
	}
	assert.Equal(t, 1, printed, "the token is printed once to stderr, outside the JSON log")
	for _, name := range []string{"bigin-mcp.db", "secret.key"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
	}

	// Second start: the token exists, so none is printed; the old one works.
	base, tok2, _, _ := startServe(t, map[string]string{"BIGIN_MCP_DATA_DIR": dir})
	assert.Empty(t, tok2)
	req, _ = http.NewRequest("GET", base+"/admin/api-tokens", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
}

func TestServeStartupErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, _, _, stop := startServe(t, map[string]string{"BIGIN_MCP_DATA_DIR": dir})
	require.NoError(t, stop())

	wrongKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"wrong key", map[string]string{"BIGIN_MCP_DATA_DIR": dir, "BIGIN_MCP_SECRET_KEY": wrongKey}, "BIGIN_MCP_SECRET_KEY"},
		{"short key", map[string]string{"BIGIN_MCP_DATA_DIR": t.TempDir(), "BIGIN_MCP_SECRET_KEY": "c2hvcnQ="}, "BIGIN_MCP_SECRET_KEY"},
		{"data dir is a file", map[string]string{"BIGIN_MCP_DATA_DIR": file}, "BIGIN_MCP_DATA_DIR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.env["BIGIN_MCP_ADDR"] = "127.0.0.1:0"
			cfg, err := parseConfig("t", nil, envOf(tt.env), io.Discard)
			require.NoError(t, err)
			err = serve(context.Background(), cfg, io.Discard, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestRunUnknownCommand(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"frobnicate"}, envOf(nil), io.Discard, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown command")
}

// TestServeMetricsListener: BIGIN_MCP_METRICS_ADDR serves /metrics on a
// listener of its own, and the main listener does not.
func TestServeMetricsListener(t *testing.T) {
	t.Parallel()
	base, _, logs, _ := startServe(t, map[string]string{"BIGIN_MCP_DATA_DIR": t.TempDir(), "BIGIN_MCP_METRICS_ADDR": "127.0.0.1:0"})
	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()

	var addr string
	for _, line := range strings.Split(logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "metrics listening" {
			addr, _ = m["addr"].(string)
		}
	}
	require.NotEmpty(t, addr, "the metrics address is logged")
	resp, err = http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), `http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/healthz"} 1`)
	assert.Contains(t, string(body), "bigin_mcp_urls 0")

	resp, err = http.Get("http://" + addr + "/other")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "only /metrics")
	resp, err = http.Get(base + "/metrics")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "the public listener does not serve metrics")
}
