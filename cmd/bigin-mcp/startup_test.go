package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFirstStartGuidance: serve on an empty data directory says in one
// block what to do next, and warns when connect links cannot work.
func TestFirstStartGuidance(t *testing.T) {
	t.Parallel()
	t.Run("generated token, no Zoho client", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		_, tok, logs, stop := startServe(t, map[string]string{"BIGIN_MCP_DATA_DIR": dir})
		require.NoError(t, stop())
		out := logs.String()
		assert.Contains(t, out, "bigin-mcp started on a new data directory ("+dir+")")
		assert.Contains(t, out, "Admin API token: "+tok)
		assert.Equal(t, 1, strings.Count(out, tok), "the token is printed once")
		assert.Contains(t, out, "$BASE/admin/connect-links")
		assert.Contains(t, out, "$BASE/admin/integrated-accounts")
		assert.Contains(t, out, `docs/admin-api.md`)
		assert.Contains(t, out, "Warning: no Zoho OAuth client is configured, so connect links will be\n  refused")
		assert.Regexp(t, `\{[^\n]*"level":"WARN"[^\n]*no Zoho OAuth client is configured[^\n]*BIGIN_MCP_ZOHO_CLIENT_ID`, out, "and the log says it too")

		// A restart is not a first start: no block, the warning stays.
		_, _, logs, stop = startServe(t, map[string]string{"BIGIN_MCP_DATA_DIR": dir})
		require.NoError(t, stop())
		assert.NotContains(t, logs.String(), "new data directory")
		assert.Contains(t, logs.String(), "no Zoho OAuth client is configured")
	})
	t.Run("admin token and Zoho client set", func(t *testing.T) {
		t.Parallel()
		admin := "bmcp_api_" + rand.Text() + rand.Text() // strong (52 random characters), and made here: no token-like literal in the repository
		_, _, logs, stop := startServe(t, map[string]string{
			"BIGIN_MCP_DATA_DIR":           t.TempDir(),
			"BIGIN_MCP_ADMIN_TOKEN":        admin,
			"BIGIN_MCP_ZOHO_CLIENT_ID":     "1000.CLIENT",
			"BIGIN_MCP_ZOHO_CLIENT_SECRET": "zoho-client-secret-value",
		})
		require.NoError(t, stop())
		out := logs.String()
		assert.Contains(t, out, "Admin API token: the value of BIGIN_MCP_ADMIN_TOKEN")
		assert.NotContains(t, out, admin, "the operator's own token is not echoed")
		assert.NotContains(t, out, "zoho-client-secret-value")
		assert.NotContains(t, out, "no Zoho OAuth client")
		assert.NotContains(t, out, "needs the Zoho OAuth client")
	})
}

// TestConfigErrorsNameTheVariableOnce: each bad setting stops startup with
// one line that names its variable once.
func TestConfigErrorsNameTheVariableOnce(t *testing.T) {
	t.Parallel()
	key := func(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }
	sealedWithEnv := t.TempDir()
	_, _, _, stop := startServe(t, map[string]string{"BIGIN_MCP_DATA_DIR": sealedWithEnv, "BIGIN_MCP_SECRET_KEY": key(1)})
	require.NoError(t, stop())
	sealedWithFile := t.TempDir()
	_, _, _, stop = startServe(t, map[string]string{"BIGIN_MCP_DATA_DIR": sealedWithFile})
	require.NoError(t, stop())
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))

	tests := []struct {
		name string
		env  map[string]string
		want string // the variable, named once
		text string
	}{
		{"key not base64", map[string]string{"BIGIN_MCP_SECRET_KEY": "not*base64!"}, "BIGIN_MCP_SECRET_KEY", "is not valid base64"},
		{"short key", map[string]string{"BIGIN_MCP_SECRET_KEY": "c2hvcnQ="}, "BIGIN_MCP_SECRET_KEY", "decodes to 5 bytes"},
		{"short admin token", map[string]string{"BIGIN_MCP_ADMIN_TOKEN": "short"}, "BIGIN_MCP_ADMIN_TOKEN", "at least 32 random characters"},
		{"admin token of 24 characters", map[string]string{"BIGIN_MCP_ADMIN_TOKEN": "bmcp_api_Qm3xT8vK1pZr6Yw0Ls9Dn4Hc"}, "BIGIN_MCP_ADMIN_TOKEN", "and this one has 24"},
		{"placeholder admin token", map[string]string{"BIGIN_MCP_ADMIN_TOKEN": "bmcp_api_" + strings.Repeat("a", 43)}, "BIGIN_MCP_ADMIN_TOKEN", "too few for a random token"},
		{"log level", map[string]string{"BIGIN_MCP_LOG_LEVEL": "loud"}, "BIGIN_MCP_LOG_LEVEL", "not one of"},
		{"datacenters", map[string]string{"BIGIN_MCP_DATACENTERS": `{"us":`}, "BIGIN_MCP_DATACENTERS", "invalid datacenters JSON"},
		{"data dir is a file", map[string]string{"BIGIN_MCP_DATA_DIR": file}, "BIGIN_MCP_DATA_DIR", "cannot create"},
		{"other key in the variable", map[string]string{"BIGIN_MCP_DATA_DIR": sealedWithEnv, "BIGIN_MCP_SECRET_KEY": key(2)}, "BIGIN_MCP_SECRET_KEY", "sealed with another secret key"},
		{"variable against the key file", map[string]string{"BIGIN_MCP_DATA_DIR": sealedWithFile, "BIGIN_MCP_SECRET_KEY": key(2)}, "BIGIN_MCP_SECRET_KEY", "or unset it to use " + filepath.Join(sealedWithFile, "secret.key")},
		{"key left out", map[string]string{"BIGIN_MCP_DATA_DIR": sealedWithEnv}, "BIGIN_MCP_SECRET_KEY", "sealed with a secret key that is not here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.env["BIGIN_MCP_DATA_DIR"] == "" {
				tt.env["BIGIN_MCP_DATA_DIR"] = t.TempDir()
			}
			tt.env["BIGIN_MCP_ADDR"] = "127.0.0.1:0"
			code, _, stderr := runCLI(t, tt.env, "serve")
			assert.Equal(t, 1, code)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %s", stderr)
			assert.Equal(t, 1, strings.Count(stderr, tt.want), "names %s once: %s", tt.want, stderr)
			assert.Contains(t, stderr, tt.text)
		})
	}
}

// TestAdminTokenIsCheckedBeforeTheDataDir: a bad BIGIN_MCP_ADMIN_TOKEN
// leaves no data directory or database behind.
func TestAdminTokenIsCheckedBeforeTheDataDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	code, _, stderr := runCLI(t, map[string]string{"BIGIN_MCP_DATA_DIR": dir, "BIGIN_MCP_ADMIN_TOKEN": "too-short"}, "serve")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "BIGIN_MCP_ADMIN_TOKEN")
	assert.NotContains(t, stderr, "too-short", "the value is not repeated")
	_, err := os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "the data directory was not created")
}

// TestRestartWithoutTheSecretKeyWritesNothing: a data directory created
// with BIGIN_MCP_SECRET_KEY, restarted without it, is refused without a
// second secret.key or any other write; with the key it starts again.
func TestRestartWithoutTheSecretKeyWritesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"BIGIN_MCP_DATA_DIR": dir, "BIGIN_MCP_SECRET_KEY": base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))}
	_, _, _, stop := startServe(t, env)
	require.NoError(t, stop())
	snapshot := func() map[string]string {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		files := map[string]string{}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			require.NoError(t, err)
			files[e.Name()] = string(b)
		}
		return files
	}
	before := snapshot()
	require.NotContains(t, before, "secret.key")

	code, _, stderr := runCLI(t, map[string]string{"BIGIN_MCP_DATA_DIR": dir, "BIGIN_MCP_ADDR": "127.0.0.1:0"}, "serve")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "was sealed with a secret key that is not here")
	assert.Contains(t, stderr, "set BIGIN_MCP_SECRET_KEY to the key it was created with")
	assert.Equal(t, before, snapshot(), "nothing was written")

	_, _, _, stop = startServe(t, env)
	assert.NoError(t, stop(), "the right key opens it")
}

// TestListenersAreBoundBeforeAnythingIsCreated: a listen address that is
// busy, or that another of the server's addresses already takes, stops
// startup with one line naming its setting, before the data directory,
// an admin token or the "started" banner exists.
func TestListenersAreBoundBeforeAnythingIsCreated(t *testing.T) {
	t.Parallel()
	held, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { held.Close() })
	busy := held.Addr().String()
	_, busyPort, _ := net.SplitHostPort(busy)
	certFile, keyFile, _ := writeCertPair(t, t.TempDir())
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"metrics address busy", map[string]string{"BIGIN_MCP_METRICS_ADDR": busy},
			[]string{"BIGIN_MCP_METRICS_ADDR: " + busy + " is already in use", "--metrics-addr"}},
		{"metrics address is the main one", map[string]string{"BIGIN_MCP_ADDR": busy, "BIGIN_MCP_METRICS_ADDR": busy},
			[]string{"BIGIN_MCP_METRICS_ADDR: " + busy + " is also the address of BIGIN_MCP_ADDR"}},
		{"metrics on every interface, same port", map[string]string{"BIGIN_MCP_ADDR": busy, "BIGIN_MCP_METRICS_ADDR": ":" + busyPort},
			[]string{"BIGIN_MCP_METRICS_ADDR: :" + busyPort + " is also the address of BIGIN_MCP_ADDR"}},
		{"plain-HTTP address busy", map[string]string{"BIGIN_MCP_TLS_CERT": certFile, "BIGIN_MCP_TLS_KEY": keyFile, "BIGIN_MCP_HTTP_ADDR": busy},
			[]string{"BIGIN_MCP_HTTP_ADDR: " + busy + " is already in use", "--http-addr"}},
		{"plain-HTTP address is the main one", map[string]string{"BIGIN_MCP_TLS_CERT": certFile, "BIGIN_MCP_TLS_KEY": keyFile, "BIGIN_MCP_ADDR": busy, "BIGIN_MCP_HTTP_ADDR": busy},
			[]string{"BIGIN_MCP_HTTP_ADDR: " + busy + " is also the address of BIGIN_MCP_ADDR"}},
		{"main address busy", map[string]string{"BIGIN_MCP_ADDR": busy},
			[]string{"BIGIN_MCP_ADDR: " + busy + " is already in use", "--addr"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "data")
			tt.env["BIGIN_MCP_DATA_DIR"] = dir
			if tt.env["BIGIN_MCP_ADDR"] == "" {
				tt.env["BIGIN_MCP_ADDR"] = "127.0.0.1:0"
			}
			code, stdout, stderr := runCLI(t, tt.env, "serve")
			assert.Equal(t, 1, code)
			assert.Empty(t, stdout)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %s", stderr)
			for _, w := range tt.want {
				assert.Contains(t, stderr, w)
			}
			assert.NotContains(t, stderr, "bmcp_api_", "no admin token was minted")
			assert.NotContains(t, stderr, "started")
			_, err := os.Stat(dir)
			assert.True(t, os.IsNotExist(err), "the data directory was not created")
		})
	}
}
