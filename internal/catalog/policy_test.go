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
	all := []string{"Contacts", "Accounts", "Pipelines", "Products", "Tasks", "Events", "Calls"}
	parents := []string{"Contacts", "Accounts", "Pipelines", "Products"}
	chat := []string{"Contacts", "Accounts", "Pipelines"}
	want := []tokens.Tool{
		{Name: "list_all_zohobigin_users", Method: "list", Tags: []string{"users", "directory"}},
		{Name: "get_single_zohobigin_user_by_id", Method: "get", Tags: []string{"users", "directory"}},
		{Name: "delete_a_zohobigin_user_by_id", Method: "delete", Tags: []string{"users", "directory"}},
		{Name: "list_all_zohobigin_current_organization", Method: "list", Tags: []string{"organization"}},
		{Name: "list_all_zohobigin_me", Method: "list", Tags: []string{"users", "directory"}},
		{Name: "list_all_zohobigin_roles", Method: "list", Tags: []string{"roles", "directory", "permissions"}},
		{Name: "list_all_zohobigin_profiles", Method: "list", Tags: []string{"profiles", "directory", "permissions"}},
		{Name: "describe_zohobigin_module", Method: "get", Tags: []string{"records", "metadata"}, Modules: all},
		{Name: "list_zohobigin_records", Method: "list", Tags: []string{"records"}, Modules: all},
		{Name: "get_single_zohobigin_record_by_id", Method: "get", Tags: []string{"records"}, Modules: all},
		{Name: "search_zohobigin_records", Method: "list", Tags: []string{"records", "search"}, Modules: all},
		{Name: "query_zohobigin_records", Method: "list", Tags: []string{"records", "search"}, Modules: all},
		{Name: "list_zohobigin_related_records", Method: "list", Tags: []string{"records"}, Modules: parents},
		{Name: "create_zohobigin_records", Method: "create", Tags: []string{"records"}, Modules: all},
		{Name: "update_zohobigin_records", Method: "update", Tags: []string{"records"}, Modules: all},
		{Name: "delete_zohobigin_records_by_ids", Method: "delete", Tags: []string{"records"}, Modules: all},
		{Name: "add_zohobigin_note", Method: "create", Tags: []string{"records", "notes"}, Modules: parents},
		{Name: "search", Method: "list", Tags: []string{"search", "chatgpt"}, Modules: chat},
		{Name: "fetch", Method: "get", Tags: []string{"search", "chatgpt"}, Modules: chat},
	}
	assert.Equal(t, want, inv.Tools())
	assert.Equal(t, []string{"chatgpt", "directory", "metadata", "notes", "organization", "permissions", "profiles", "records", "roles", "search", "users"}, inv.Tags())
	assert.Equal(t, all, inv.Modules())

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
		{name: "write", in: tokens.Config{Methods: []string{"write"}}, want: tokens.Config{Methods: []string{"write"}},
			tools: []string{"delete_a_zohobigin_user_by_id", "create_zohobigin_records", "update_zohobigin_records", "delete_zohobigin_records_by_ids", "add_zohobigin_note"}},
		{name: "exact get", in: tokens.Config{Methods: []string{"get"}}, want: tokens.Config{Methods: []string{"get"}},
			tools: []string{"get_single_zohobigin_user_by_id", "describe_zohobigin_module", "get_single_zohobigin_record_by_id", "fetch"}},
		{name: "directory only", in: tokens.Config{Tags: []string{"directory", "organization"}}, want: tokens.Config{Tags: []string{"directory", "organization"}},
			tools: apptest.DirectoryTools()},
		{name: "records only", in: tokens.Config{Tags: []string{"records"}}, want: tokens.Config{Tags: []string{"records"}}, tools: apptest.RecordTools()},
		{name: "read records", in: tokens.Config{Methods: []string{"read"}, Tags: []string{"records"}}, want: tokens.Config{Methods: []string{"read"}, Tags: []string{"records"}},
			tools: apptest.RecordReadTools()},
		{name: "modules", in: tokens.Config{Modules: []string{"Pipelines", " contacts", "Contacts"}}, want: tokens.Config{Modules: []string{"Contacts", "Pipelines"}},
			tools: apptest.AllTools()},
		{name: "modules without related lists", in: tokens.Config{Modules: []string{"Tasks"}}, want: tokens.Config{Modules: []string{"Tasks"}},
			tools: append(apptest.DirectoryTools(), "describe_zohobigin_module", "list_zohobigin_records", "get_single_zohobigin_record_by_id",
				"search_zohobigin_records", "query_zohobigin_records", "create_zohobigin_records", "update_zohobigin_records", "delete_zohobigin_records_by_ids")},
		{name: "modules none of search and fetch read", in: tokens.Config{Modules: []string{"Products"}}, want: tokens.Config{Modules: []string{"Products"}},
			tools: append(apptest.DirectoryTools(), apptest.RecordTools()...)},
		{name: "one module search and fetch read", in: tokens.Config{Modules: []string{"Tasks", "Pipelines"}}, want: tokens.Config{Modules: []string{"Pipelines", "Tasks"}},
			tools: apptest.AllTools()},
		{name: "chatgpt", in: tokens.Config{Tags: []string{"chatgpt"}}, want: tokens.Config{Tags: []string{"chatgpt"}}, tools: apptest.ChatGPTTools()},
		{name: "search", in: tokens.Config{Tags: []string{"search"}}, want: tokens.Config{Tags: []string{"search"}},
			tools: []string{"search_zohobigin_records", "query_zohobigin_records", "search", "fetch"}},
		{name: "unknown module", in: tokens.Config{Modules: []string{"Deals"}},
			errSubstr: `unknown module "Deals" in config.modules; valid modules (Zoho's API names): Contacts, Accounts (the app's Companies), Pipelines (the app's Deals), Products, Tasks, Events, Calls`},
		{name: "no tool: notes of tasks", in: tokens.Config{Tags: []string{"notes"}, Modules: []string{"Tasks"}},
			errSubstr: "config allows no tool: no tool has one of the tags [notes] and acts on one of the modules [Tasks] or on no module; widen tags or modules (empty means all)"},
		{name: "no tool: deleting notes of tasks", in: tokens.Config{Methods: []string{"delete"}, Tags: []string{"notes"}, Modules: []string{"Tasks"}},
			errSubstr: "config allows no tool: no tool has one of the methods [delete], has one of the tags [notes] and acts on one of the modules [Tasks] or on no module; widen methods, tags or modules (empty means all)"},
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
		{name: "unknown tag", in: tokens.Config{Tags: []string{"contacts"}}, errSubstr: `unknown tag "contacts" in config.tags; valid tags: chatgpt, directory, metadata, notes, organization, permissions, profiles, records, roles, search, users`},
		{name: "no tool: create a user", in: tokens.Config{Methods: []string{"create", "update"}, Tags: []string{"users"}},
			errSubstr: "config allows no tool: no tool has one of the methods [create, update] and has one of the tags [users]; widen methods or tags (empty means all)"},
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
	assert.Equal(t, apptest.DirectoryTools(), inv.Allowed(tokens.Config{Modules: []string{"bogus"}}), "an unknown module offers no record tool")
}

// Preview is what a policy form shows: each tool a config offers with the
// modules it takes under it, or the error minting would answer.
func TestPreviewNamesEachToolsModules(t *testing.T) {
	inv := inventory(t)
	got, err := inv.Preview(tokens.Config{Methods: []string{"create"}, Modules: []string{"tasks", "Contacts"}})
	require.NoError(t, err)
	assert.Equal(t, []tokens.Offer{
		{Name: "create_zohobigin_records", Method: "create", Modules: []string{"Contacts", "Tasks"}},
		{Name: "add_zohobigin_note", Method: "create", Modules: []string{"Contacts"}},
	}, got)
	got, err = inv.Preview(tokens.Config{Tags: []string{"organization"}})
	require.NoError(t, err)
	assert.Equal(t, []tokens.Offer{{Name: "list_all_zohobigin_current_organization", Method: "list"}}, got)
	_, err = inv.Preview(tokens.Config{Modules: []string{"Leads"}})
	var e *tokens.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, tokens.CodeInvalidArgument, e.Code)
}
