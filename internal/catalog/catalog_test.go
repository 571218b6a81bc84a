package catalog

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

func TestAnnotationsFollowTheMethod(t *testing.T) {
	tests := []struct {
		method string
		want   Annotations
	}{
		{tokens.MethodList, Annotations{ReadOnly: true, Idempotent: true, OpenWorld: true}},
		{tokens.MethodGet, Annotations{ReadOnly: true, Idempotent: true, OpenWorld: true}},
		{tokens.MethodDelete, Annotations{Destructive: true, Idempotent: true, OpenWorld: true}},
		{tokens.MethodUpdate, Annotations{Destructive: true, OpenWorld: true}},
		{tokens.MethodCreate, Annotations{OpenWorld: true}},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			tool := Tool{Method: tt.method}
			assert.Equal(t, tt.want, tool.Annotations())
		})
	}
}

func TestCatalogFeedsThePolicy(t *testing.T) {
	cat, err := New()
	require.NoError(t, err)
	inv := cat.Inventory().Tools()
	require.Len(t, inv, len(cat.Entries()))
	for i, e := range cat.Entries() {
		assert.Equal(t, tokens.Tool{Name: e.Name, Method: e.Method, Tags: e.Tags}, inv[i], "the policy reads the declaration")
		assert.NotEmpty(t, e.Title, e.Name)
		assert.NotEmpty(t, e.Description, e.Name)
		assert.NotEmpty(t, e.OutputSchema, e.Name)
		got, ok := cat.Lookup(e.Name)
		require.True(t, ok)
		assert.Same(t, e, got)
	}
	_, ok := cat.Lookup("no_such_tool")
	assert.False(t, ok)
}

func TestBadDeclarationsAreRefused(t *testing.T) {
	run := func(context.Context, *Call) ([]byte, error) { return nil, nil }
	good := Tool{Name: "t", Title: "T", Description: "d", Method: tokens.MethodList, Input: map[string]any{"type": "object"}, Run: run}
	_, err := build([]Tool{good})
	require.NoError(t, err)
	for name, mutate := range map[string]func(*Tool){
		"no handler":        func(t *Tool) { t.Run = nil },
		"no title":          func(t *Tool) { t.Title = "" },
		"bad method":        func(t *Tool) { t.Method = "read" },
		"bad schema":        func(t *Tool) { t.Input = map[string]any{"type": 12} },
		"fields without id": func(t *Tool) { t.Fields = []string{"email"} },
		"duplicate":         nil,
	} {
		t.Run(name, func(t *testing.T) {
			bad := good
			tools := []Tool{bad, bad}
			if mutate != nil {
				mutate(&bad)
				tools = []Tool{bad}
			}
			_, err := build(tools)
			assert.Error(t, err)
		})
	}
}

func TestDecodeArguments(t *testing.T) {
	cat, err := New()
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
		{"list_all_zohobigin_users", `{"fields":["full_name","email","role","profile","status"]}`, true},
		{"list_all_zohobigin_users", `{"fields":["id"]}`, true},
		{"list_all_zohobigin_users", `{"fields":["Isonline","Modified_Time"]}`, true},
		{"list_all_zohobigin_users", `{"fields":["modified_time"]}`, false},
		{"list_all_zohobigin_users", `{"fields":[]}`, false},
		{"list_all_zohobigin_users", `{"fields":"email"}`, false},
		{"list_all_zohobigin_users", `{"fields":[1]}`, false},
		{"get_single_zohobigin_user_by_id", `{"id":"1","fields":["email"]}`, true},
		{"get_single_zohobigin_user_by_id", `{"id":"1","fields":["bogus"]}`, false},
		{"list_all_zohobigin_roles", `{"fields":["name"]}`, false},
		{"list_all_zohobigin_me", `{"fields":["email"]}`, false},
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
			e, ok := cat.Lookup(tt.tool)
			require.True(t, ok)
			_, err := e.Decode(json.RawMessage(tt.args))
			if tt.ok {
				assert.NoError(t, err)
			} else {
				var ae *ArgsError
				assert.ErrorAs(t, err, &ae)
			}
		})
	}
}
