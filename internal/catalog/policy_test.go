package catalog_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/internal/catalog"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// The policy (tokens.Inventory) over the published catalog.

func inventory(t *testing.T) *tokens.Inventory {
	t.Helper()
	cat, err := catalog.New()
	require.NoError(t, err)
	return cat.Inventory()
}

func TestPublishedInventory(t *testing.T) {
	inv := inventory(t)
	want := []tokens.Tool{
		{Name: "list_all_zohobigin_users", Method: "list", Tags: []string{"users", "directory"}},
		{Name: "get_single_zohobigin_user_by_id", Method: "get", Tags: []string{"users", "directory"}},
		{Name: "delete_a_zohobigin_user_by_id", Method: "delete", Tags: []string{"users", "directory"}},
		{Name: "list_all_zohobigin_current_organization", Method: "list", Tags: []string{"organization"}},
		{Name: "list_all_zohobigin_me", Method: "list", Tags: []string{"users", "directory"}},
		{Name: "list_all_zohobigin_roles", Method: "list", Tags: []string{"roles", "directory", "permissions"}},
		{Name: "list_all_zohobigin_profiles", Method: "list", Tags: []string{"profiles", "directory", "permissions"}},
	}
	assert.Equal(t, want, inv.Tools())
	assert.Equal(t, []string{"directory", "organization", "permissions", "profiles", "roles", "users"}, inv.Tags())

	c := inv.Tools()
	c[0].Tags[0] = "changed"
	c[0].Name = "changed"
	require.Equal(t, want, inv.Tools(), "Tools returns a copy")
}

func TestNormalizeConfig(t *testing.T) {
	inv := inventory(t)
	tests := []struct {
		name      string
		in        tokens.Config
		want      tokens.Config
		tools     []string
		errSubstr string // non-empty: a 400 whose message holds this
	}{
		{name: "empty is all", in: tokens.Config{}, want: tokens.Config{}, tools: apptest.AllTools()},
		{name: "empty lists are all", in: tokens.Config{Methods: []string{}, Tags: []string{}}, want: tokens.Config{}, tools: apptest.AllTools()},
		{name: "read", in: tokens.Config{Methods: []string{"read"}}, want: tokens.Config{Methods: []string{"read"}}, tools: apptest.ReadTools()},
		{name: "write", in: tokens.Config{Methods: []string{"write"}}, want: tokens.Config{Methods: []string{"write"}}, tools: []string{"delete_a_zohobigin_user_by_id"}},
		{name: "exact get", in: tokens.Config{Methods: []string{"get"}}, want: tokens.Config{Methods: []string{"get"}}, tools: []string{"get_single_zohobigin_user_by_id"}},
		{name: "normalised", in: tokens.Config{Methods: []string{" LIST", "get", "list"}, Tags: []string{"Users", "users"}},
			want:  tokens.Config{Methods: []string{"get", "list"}, Tags: []string{"users"}},
			tools: []string{"list_all_zohobigin_users", "get_single_zohobigin_user_by_id", "list_all_zohobigin_me"}},
		{name: "tags any", in: tokens.Config{Tags: []string{"organization", "roles"}}, want: tokens.Config{Tags: []string{"organization", "roles"}},
			tools: []string{"list_all_zohobigin_current_organization", "list_all_zohobigin_roles"}},
		{name: "methods and tags", in: tokens.Config{Methods: []string{"delete"}, Tags: []string{"directory"}, RequireAPITokenAuth: true},
			want:  tokens.Config{Methods: []string{"delete"}, Tags: []string{"directory"}, RequireAPITokenAuth: true},
			tools: []string{"delete_a_zohobigin_user_by_id"}},
		{name: "result budget", in: tokens.Config{MaxResultChars: 8000}, want: tokens.Config{MaxResultChars: 8000}, tools: apptest.AllTools()},
		{name: "result budget bounds", in: tokens.Config{Tags: []string{"roles"}, MaxResultChars: tokens.MinResultChars}, want: tokens.Config{Tags: []string{"roles"}, MaxResultChars: 500},
			tools: []string{"list_all_zohobigin_roles"}},
		{name: "result budget too small", in: tokens.Config{MaxResultChars: 40}, errSubstr: "config.max_result_chars must be 500 to 1000000 characters, got 40; null (or 0) uses the server's budget"},
		{name: "result budget too large", in: tokens.Config{MaxResultChars: 1_000_001}, errSubstr: "config.max_result_chars must be 500 to 1000000 characters, got 1000001"},
		{name: "negative result budget", in: tokens.Config{MaxResultChars: -1}, errSubstr: "got -1"},
		{name: "unknown method", in: tokens.Config{Methods: []string{"read", "destroy"}}, errSubstr: `unknown method "destroy" in config.methods; valid methods: read, write, list, get, create, update, delete`},
		{name: "unknown tag", in: tokens.Config{Tags: []string{"contacts"}}, errSubstr: `unknown tag "contacts" in config.tags; valid tags: directory, organization, permissions, profiles, roles, users`},
		{name: "no tool: create", in: tokens.Config{Methods: []string{"create", "update"}}, errSubstr: "config allows no tool"},
		{name: "no tool: delete organization", in: tokens.Config{Methods: []string{"write"}, Tags: []string{"organization"}}, errSubstr: "config allows no tool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := inv.Normalize(tt.in)
			if tt.errSubstr != "" {
				var e *tokens.Error
				require.True(t, errors.As(err, &e), "want *Error, got %v", err)
				assert.Equal(t, tokens.CodeInvalidArgument, e.Code)
				assert.Contains(t, e.Message, tt.errSubstr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.tools, inv.Allowed(got))
			again, err := inv.Normalize(got)
			require.NoError(t, err)
			assert.Equal(t, got, again, "normalising is idempotent")
		})
	}
}

func TestAllowedToolsIgnoresUnknownWords(t *testing.T) {
	inv := inventory(t)
	assert.Empty(t, inv.Allowed(tokens.Config{Methods: []string{"bogus"}}))
	assert.Equal(t, apptest.AllTools(), inv.Allowed(tokens.Config{}))
}
