package mcp

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

var update = flag.Bool("update", false, "rewrite the tool schema snapshots in testdata/toolsnaps")

// TestToolSnapshots pins every tool's name, title, description, schemas and
// annotations: what a model sees is API, so a change must be deliberate
// (go test ./mcp -run TestToolSnapshots -update) and reviewed in the diff.
func TestToolSnapshots(t *testing.T) {
	reg, err := NewRegistry()
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, tool := range reg.Tools() {
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

func TestRegistryMatchesCatalog(t *testing.T) {
	reg, err := NewRegistry()
	require.NoError(t, err)
	catalog := tokens.Catalog()
	require.Len(t, reg.Tools(), len(catalog))
	for i, tool := range reg.Tools() {
		assert.Equal(t, catalog[i].Name, tool.Name, "registry order follows the catalog")
		ann := tool.Annotations
		require.NotNil(t, ann, tool.Name)
		require.NotNil(t, ann.DestructiveHint, tool.Name)
		require.NotNil(t, ann.OpenWorldHint, tool.Name)
		assert.True(t, *ann.OpenWorldHint, tool.Name)
		assert.True(t, ann.IdempotentHint, tool.Name)
		if catalog[i].Method == tokens.MethodDelete {
			assert.False(t, ann.ReadOnlyHint, tool.Name)
			assert.True(t, *ann.DestructiveHint, tool.Name)
		} else {
			assert.True(t, ann.ReadOnlyHint, tool.Name)
			assert.False(t, *ann.DestructiveHint, tool.Name)
		}
		assert.NotEmpty(t, tool.Title, tool.Name)
		assert.NotEmpty(t, tool.Description, tool.Name)
		assert.NotNil(t, tool.OutputSchema, tool.Name)
	}
}

func TestDecodeArguments(t *testing.T) {
	reg, err := NewRegistry()
	require.NoError(t, err)
	tests := []struct {
		tool, args string
		ok         bool
	}{
		{"list_all_zohobigin_users", `{}`, true},
		{"list_all_zohobigin_users", ``, true},
		{"list_all_zohobigin_users", `{"type":"ActiveUsers","limit":200}`, true},
		{"list_all_zohobigin_users", `{"next_cursor":null}`, true},
		{"list_all_zohobigin_users", `{"limit":0}`, false},
		{"list_all_zohobigin_users", `{"limit":201}`, false},
		{"list_all_zohobigin_users", `{"limit":"10"}`, false},
		{"list_all_zohobigin_users", `{"type":"Everyone"}`, false},
		{"list_all_zohobigin_users", `{"bogus":1}`, false},
		{"get_single_zohobigin_user_by_id", `{"id":"4876876000000223001"}`, true},
		{"get_single_zohobigin_user_by_id", `{}`, false},
		{"get_single_zohobigin_user_by_id", `{"id":"../org"}`, false},
		{"get_single_zohobigin_user_by_id", `{"id":12}`, false},
		{"delete_a_zohobigin_user_by_id", `{"id":"1"}`, true},
		{"delete_a_zohobigin_user_by_id", `{"id":""}`, false},
		{"list_all_zohobigin_current_organization", `{}`, true},
		{"list_all_zohobigin_current_organization", `{"x":1}`, false},
		{"list_all_zohobigin_roles", `{"limit":5,"next_cursor":"c1.x"}`, true},
		{"list_all_zohobigin_profiles", `[1]`, false},
		{"list_all_zohobigin_profiles", `{not json`, false},
	}
	for _, tt := range tests {
		t.Run(tt.tool+" "+tt.args, func(t *testing.T) {
			_, err := reg.byName[tt.tool].decode(json.RawMessage(tt.args))
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}
