package mcp_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the tool schema snapshots in testdata/toolsnaps")

// TestToolSnapshots pins every tool's name, title, description, schemas and
// annotations as an MCP client receives them from tools/list: what a model
// sees is API, so a change must be deliberate
// (go test ./mcp -run TestToolSnapshots -update) and reviewed in the diff.
func TestToolSnapshots(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.ConnectAccount("us")
	_, url := e.MintURL(acct, map[string]any{})
	cs := e.MustConnect(url, "streamable")
	res, err := cs.ListTools(t.Context(), nil)
	require.NoError(t, err)
	require.Len(t, res.Tools, len(e.App.Catalog.Entries()), "a URL without a policy offers every tool")
	seen := map[string]bool{}
	for _, tool := range res.Tools {
		got, err := json.MarshalIndent(tool, "", "  ")
		require.NoError(t, err)
		got = append(got, '\n')
		path := filepath.Join("testdata", "toolsnaps", tool.Name+".snap")
		seen[tool.Name+".snap"] = true
		if *update {
			require.NoError(t, os.WriteFile(path, got, 0o644))
			continue
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "no snapshot for %s: run go test ./mcp -run TestToolSnapshots -update", tool.Name)
		assert.JSONEq(t, string(want), string(got), "tool %s changed: if on purpose, run go test ./mcp -run TestToolSnapshots -update", tool.Name)
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "toolsnaps"))
	require.NoError(t, err)
	for _, e := range entries {
		assert.True(t, seen[e.Name()], "stale snapshot %s for a tool that no longer exists", e.Name())
	}
}
