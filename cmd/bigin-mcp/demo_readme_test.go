package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDemoCredentialsFitTheREADME takes the README's create-account
// example as written, fills its placeholders with the sandbox credentials
// the demo prints, and sends it to the demo: the account is created.
func TestDemoCredentialsFitTheREADME(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../docs/admin-api.md")
	require.NoError(t, err)
	m := regexp.MustCompile(`curl -s -X POST \$BASE/admin/integrated-accounts [^\n]*\n[^\n]*\n\s*-d '([^']+)'`).FindSubmatch(readme)
	require.NotNil(t, m, "docs/admin-api.md has the create-account example")
	var example map[string]string
	require.NoError(t, json.Unmarshal(m[1], &example))

	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"demo", "--addr", "127.0.0.1:0"}, envOf(nil), out, io.Discard) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("demo did not stop")
		}
	}()

	printed := map[string]string{}
	credRE := regexp.MustCompile(`(?m)^\s+(refresh_token|client_id|client_secret):\s+(\S+)$`)
	require.Eventually(t, func() bool {
		for _, c := range credRE.FindAllStringSubmatch(out.String(), -1) {
			printed[c[1]] = c[2]
		}
		return len(printed) == 3
	}, 15*time.Second, 20*time.Millisecond, "the demo prints the sandbox credentials")
	base := regexp.MustCompile(`Admin API base:\s+(http://\S+)/admin/`).FindStringSubmatch(out.String())[1]
	token := regexp.MustCompile(`Admin API token:\s+(\S+)`).FindStringSubmatch(out.String())[1]

	for k, v := range example {
		if strings.Contains(v, "…") {
			require.Contains(t, printed, k, "the demo prints a value for the README's placeholder %s", k)
			example[k] = printed[k]
		}
	}
	body, _ := json.Marshal(example)
	req, _ := http.NewRequest("POST", base+"/admin/integrated-accounts", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(got))
	var acct map[string]any
	require.NoError(t, json.Unmarshal(got, &acct))
	assert.Equal(t, example["name"], acct["name"])
	assert.Equal(t, "active", acct["status"])
}
