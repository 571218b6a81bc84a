package tokens_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/internal/clock/clocktest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The kill-and-restart test runs its first half in a child process that
// exits without closing anything, as a killed server would.
const (
	restartEnvPath = "BIGIN_TOKENS_RESTART_PATH"
	restartEnvKey  = "BIGIN_TOKENS_RESTART_KEY"
	restartEnvOut  = "BIGIN_TOKENS_RESTART_OUT"
	restartExit    = 3
)

// restartRecord is what the child tells the parent to expect.
type restartRecord struct {
	Now      time.Time                 `json:"now"`
	Accounts []string                  `json:"accounts"`
	Alive    map[string]map[string]any `json:"alive"` // token → the server's JSON as last returned
	Dead     []string                  `json:"dead"`  // tokens of deleted or expired servers
	Secrets  []string                  `json:"secrets"`
	Admin    string                    `json:"admin"`
}

// TestMain runs the kill-and-restart child instead of the tests when the
// parent test started this binary as that child (Go's helper-process
// pattern, dispatched here so that no test has to skip itself in normal
// runs).
func TestMain(m *testing.M) {
	if os.Getenv(restartEnvPath) != "" {
		testing.Main(func(string, string) (bool, error) { return true, nil },
			[]testing.InternalTest{{Name: "KillAndRestartChild", F: killAndRestartChild}}, nil, nil)
		return // not reached: the child exits without cleaning up
	}
	os.Exit(m.Run())
}

// killAndRestartChild is the first half of TestKillAndRestart: it makes
// changes through the admin API, then exits as if killed.
func killAndRestartChild(t *testing.T) {
	path := os.Getenv(restartEnvPath)
	key, err := base64.StdEncoding.DecodeString(os.Getenv(restartEnvKey))
	require.NoError(t, err)
	e := apptest.New(t, apptest.Options{PublicURL: "https://mcp.example.com", Clock: newTestClock(), Path: path, Key: key, Durable: true})

	rec := restartRecord{Alive: map[string]map[string]any{}, Admin: e.Admin}
	keep := e.SeedAccount("kept")
	gone := e.SeedAccount("deleted")
	rec.Accounts = append(rec.Accounts, keep.ID)
	rec.Secrets = append(rec.Secrets, keep.RefreshToken, keep.AccessToken, keep.ClientSecret, gone.RefreshToken, e.Admin)

	now := e.Clock.Now()
	m, tok := e.Mint(keep.ID, map[string]any{"name": "forever", "config": map[string]any{"methods": []string{"read"}, "tags": []string{"users"}}})
	rec.Alive[tok] = m
	m, tok = e.Mint(keep.ID, map[string]any{"name": "in a day", "expires_at": now.Add(24 * time.Hour).Format(time.RFC3339), "config": map[string]any{"require_api_token_auth": true}})
	rec.Alive[tok] = m
	m, tok = e.Mint(keep.ID, map[string]any{"name": "patched", "config": map[string]any{"methods": []string{"write"}}})
	r := e.Request("PATCH", "/admin/integrated-accounts/"+keep.ID+"/mcp/"+m["id"].(string), map[string]any{"name": "patched twice", "config": map[string]any{"methods": []string{"delete", "list"}, "tags": []string{"directory"}}})
	require.Equal(t, http.StatusOK, r.Status)
	rec.Alive[tok] = r.JSON(t)
	m, tok = e.Mint(keep.ID, map[string]any{"name": "deleted"})
	require.Equal(t, http.StatusNoContent, e.Request("DELETE", "/admin/integrated-accounts/"+keep.ID+"/mcp/"+m["id"].(string), nil).Status)
	rec.Dead = append(rec.Dead, tok)
	_, tok = e.Mint(keep.ID, map[string]any{"name": "expires", "expires_at": now.Add(61 * time.Second).Format(time.RFC3339)})
	rec.Dead = append(rec.Dead, tok)
	_, tok = e.Mint(gone.ID, map[string]any{"name": "of a deleted account"})
	rec.Dead = append(rec.Dead, tok)
	require.Equal(t, http.StatusNoContent, e.Request("DELETE", "/admin/integrated-accounts/"+gone.ID, nil).Status)
	for tok := range rec.Alive {
		rec.Secrets = append(rec.Secrets, tok)
	}
	rec.Secrets = append(rec.Secrets, rec.Dead...)

	// The expiring one expires while the process is down: the restarted
	// server's clock is two minutes on.
	rec.Now = now.Add(2 * time.Minute)
	buf, err := json.Marshal(rec)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(os.Getenv(restartEnvOut), buf, 0o600))
	os.Exit(restartExit) // no Close, no Cleanup: as if the process were killed
}

func TestKillAndRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path, out := filepath.Join(dir, "bigin-mcp.db"), filepath.Join(dir, "record.json")
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i * 7)
	}
	cmd := exec.Command(os.Args[0], "-test.count=1")
	cmd.Env = append(os.Environ(), restartEnvPath+"="+path, restartEnvKey+"="+base64.StdEncoding.EncodeToString(key), restartEnvOut+"="+out)
	outb, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "child output: %s", outb)
	require.Equal(t, restartExit, ee.ExitCode(), "child output: %s", outb)
	buf, err := os.ReadFile(out)
	require.NoError(t, err)
	var rec restartRecord
	require.NoError(t, json.Unmarshal(buf, &rec))

	clock := clocktest.New(rec.Now)
	e := apptest.New(t, apptest.Options{PublicURL: "https://mcp.example.com", Clock: clock, Path: path, Key: key, Durable: true, AdminToken: rec.Admin})
	ctx := context.Background()

	// Every account, URL, config and expiry is kept.
	r := e.Request("GET", "/admin/integrated-accounts", nil)
	require.Equal(t, http.StatusOK, r.Status, "the API token survives: %s", r.Body)
	var accounts []string
	for _, a := range r.JSON(t)["result"].([]any) {
		accounts = append(accounts, a.(map[string]any)["id"].(string))
	}
	assert.Equal(t, rec.Accounts, accounts)
	a, err := e.DB.Account(ctx, rec.Accounts[0])
	require.NoError(t, err)
	assert.NotEmpty(t, a.RefreshToken, "secrets unseal after the restart")

	for tok, want := range rec.Alive {
		res, err := e.Svc.Resolve(ctx, tok)
		require.NoError(t, err, "server %v", want["name"])
		assert.Equal(t, want["name"], res.Server.Name)
		assert.Equal(t, want["tools"], toAny(res.Tools))
		assert.Equal(t, rec.Accounts[0], res.Account.ID)
		g := e.Request("GET", "/admin/integrated-accounts/"+rec.Accounts[0]+"/mcp/"+want["id"].(string), nil)
		require.Equal(t, http.StatusOK, g.Status)
		got := g.JSON(t)
		delete(want, "url")
		assert.Equal(t, want, got, "config and expiry kept")
	}
	// Deleted and expired ones stay dead, before and after the sweep.
	for _, tok := range rec.Dead {
		_, err := e.Svc.Resolve(ctx, tok)
		assert.ErrorIs(t, err, tokens.ErrNotFound)
	}
	n, err := e.Svc.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the expired server is swept after the restart")
	for _, tok := range rec.Dead {
		_, err := e.Svc.Resolve(ctx, tok)
		assert.ErrorIs(t, err, tokens.ErrNotFound)
	}
	e.Close()
	assertNotInFile(t, path, rec.Accounts[0], rec.Secrets...)
}

// assertNotInFile fails when any secret (or its base64) appears in the raw
// bytes of the file; control, which must appear, proves the scan reads the
// records.
func assertNotInFile(t *testing.T, path, control string, secrets ...string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(raw), control, "the scan does not see the records")
	for _, s := range secrets {
		require.NotEmpty(t, s)
		for _, form := range []string{s, base64.StdEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s))} {
			assert.NotContains(t, string(raw), form, "a secret (%d chars, starting %.6s) is in the database file", len(s), s)
		}
	}
}
