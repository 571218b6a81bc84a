package main

import (
	"bufio"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// asBinaryEnv makes the test binary run as bigin-mcp itself (see
// TestMain).
const asBinaryEnv = "BIGIN_MCP_TEST_RUN_AS_BINARY"

// TestMain lets the test binary run as the bigin-mcp binary in a child
// process, for tests that need a process of their own: Go reads
// SSL_CERT_FILE once per process, when it first loads the system roots.
func TestMain(m *testing.M) {
	if os.Getenv(asBinaryEnv) == "1" {
		main() // exits
	}
	os.Exit(m.Run())
}

// startBinary runs `bigin-mcp serve` in a child process with exactly env
// (plus a free loopback port and a temporary data directory) and returns
// its base URL and its stderr so far. The child is stopped when the test
// ends.
func startBinary(t *testing.T, env map[string]string) (base string, logs *syncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = []string{asBinaryEnv + "=1", "BIGIN_MCP_ADDR=127.0.0.1:0", "BIGIN_MCP_DATA_DIR=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	logs = &syncBuffer{}
	addr := make(chan string, 1)
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.Write(append(sc.Bytes(), '\n'))
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				select {
				case addr <- line.Addr:
				default:
				}
			}
		}
		_ = cmd.Wait()
	}()
	select {
	case a := <-addr:
		return "http://" + a, logs
	case <-exited:
		t.Fatalf("bigin-mcp exited before listening:\n%s", logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("bigin-mcp did not start listening:\n%s", logs)
	}
	return "", nil
}

// TestCIMDAllowLoopbackInTheBinary: with BIGIN_MCP_CIMD_ALLOW_LOOPBACK on,
// the binary fetches a client metadata document served over https on
// loopback (trusting the test's certificate through SSL_CERT_FILE), warns
// that the setting is on, and still refuses link-local addresses; with it
// off the same document is refused before any connection.
func TestCIMDAllowLoopbackInTheBinary(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	docs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"client_id": "https://" + r.Host + r.URL.Path, "client_name": "Loopback test client",
			"redirect_uris": []string{"http://127.0.0.1/cb"}, "token_endpoint_auth_method": "none",
		})
	}))
	t.Cleanup(docs.Close)
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: docs.Certificate().Raw}), 0o600))
	clientID := docs.URL + "/client.json"

	noRedirect := &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	authorize := func(t *testing.T, base, clientID string) *http.Response {
		t.Helper()
		q := url.Values{
			"client_id": {clientID}, "redirect_uri": {"http://127.0.0.1/cb"}, "response_type": {"code"},
			"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"},
			"resource": {base + "/mcp/bmcp_not-a-minted-url"}, "state": {"s1"},
		}
		resp, err := noRedirect.Get(base + "/oauth/authorize?" + q.Encode())
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	const warning = "BIGIN_MCP_CIMD_ALLOW_LOOPBACK is on"

	t.Run("on", func(t *testing.T) {
		base, logs := startBinary(t, map[string]string{"BIGIN_MCP_CIMD_ALLOW_LOOPBACK": "true", "SSL_CERT_FILE": caFile})
		before := hits.Load()
		resp := authorize(t, base, clientID)
		// The document was fetched and its redirect URI accepted, so the
		// next problem (the resource is no minted URL) goes back to the
		// client as an OAuth error.
		require.Equal(t, http.StatusFound, resp.StatusCode, logs.String())
		loc, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		assert.Equal(t, "127.0.0.1", loc.Host)
		assert.Equal(t, "invalid_target", loc.Query().Get("error"))
		assert.Equal(t, before+1, hits.Load(), "the document was fetched once")
		assert.Contains(t, logs.String(), warning)
		assert.Contains(t, logs.String(), `"level":"WARN"`)

		resp = authorize(t, base, "https://169.254.169.254/client.json")
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "link-local stays refused")
		// The request's log line is written once the answer has gone out.
		assert.Eventually(t, func() bool { return strings.Contains(logs.String(), "non-public address 169.254.169.254") },
			10*time.Second, 10*time.Millisecond, "the refusal is logged: %s", logs.String())
	})

	t.Run("off", func(t *testing.T) {
		base, logs := startBinary(t, map[string]string{"SSL_CERT_FILE": caFile})
		before := hits.Load()
		resp := authorize(t, base, clientID)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "the client is unknown: an error page, no redirect")
		assert.Empty(t, resp.Header.Get("Location"))
		assert.Equal(t, before, hits.Load(), "the document server was never reached")
		assert.Eventually(t, func() bool { return strings.Contains(logs.String(), "non-public address 127.0.0.1") },
			10*time.Second, 10*time.Millisecond, "the refusal is logged: %s", logs.String())
		assert.NotContains(t, logs.String(), warning)
	})
}
