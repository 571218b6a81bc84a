package catalog

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin"
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
		assert.Equal(t, tokens.Tool{Name: e.Name, Method: e.Method, Tags: e.Tags, Modules: e.Modules}, inv[i], "the policy reads the declaration")
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
	type args struct {
		Module string `json:"module"`
		Limit  int    `json:"limit"`
	}
	run := handle(func(context.Context, *Call, *args) ([]byte, error) { return nil, nil })
	input := object(map[string]any{
		"module": moduleSchema([]string{"Contacts"}, "m"),
		"limit":  map[string]any{"type": "integer"},
	})
	good := Tool{Name: "t", Title: "T", Description: "d", Method: tokens.MethodList, Modules: []string{"Contacts"}, Input: input, Run: run}
	_, err := build([]Tool{good})
	require.NoError(t, err)
	for name, mutate := range map[string]func(*Tool){
		"no handler":        func(t *Tool) { t.Run = nil },
		"no title":          func(t *Tool) { t.Title = "" },
		"bad method":        func(t *Tool) { t.Method = "read" },
		"bad schema":        func(t *Tool) { t.Input = map[string]any{"type": 12} },
		"fields without id": func(t *Tool) { t.Fields = []string{"email"} },
		"duplicate":         nil,
		"a property the arguments lack": func(t *Tool) {
			t.Input = object(map[string]any{"module": input["properties"].(map[string]any)["module"], "limit": map[string]any{"type": "integer"},
				"extra": map[string]any{"type": "string"}})
		},
		"an argument the schema lacks": func(t *Tool) {
			t.Input = object(map[string]any{"module": input["properties"].(map[string]any)["module"]})
		},
		"types disagree": func(t *Tool) {
			t.Input = object(map[string]any{"module": input["properties"].(map[string]any)["module"], "limit": map[string]any{"type": "string"}})
		},
		"modules not the enum": func(t *Tool) { t.Modules = []string{"Contacts", "Accounts"} },
		"enum without modules": func(t *Tool) { t.Modules = nil },
		"arguments not a struct": func(t *Tool) {
			t.Run = handle(func(context.Context, *Call, *string) ([]byte, error) { return nil, nil })
		},
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

// Argument failures read as a person writes them and name the argument,
// instead of the schema validator's "minimum: 0/1 is less than 1".
func TestArgumentMessages(t *testing.T) {
	cat, err := New()
	require.NoError(t, err)
	tests := []struct {
		tool, args, want string
	}{
		{"list_all_zohobigin_users", `{"limit":0}`, "limit must be between 1 and 200; got 0"},
		{"list_all_zohobigin_users", `{"limit":201}`, "limit must be between 1 and 200; got 201"},
		{"list_all_zohobigin_users", `{"limit":2.5}`, "limit must be an integer between 1 and 200; got 2.5"},
		{"list_all_zohobigin_users", `{"limit":"10"}`, `limit must be an integer between 1 and 200; got the string "10"`},
		{"list_all_zohobigin_users", `{"type":"Everyone"}`, `type must be one of ` + strings.Join(bigin.UserTypes(), ", ") + `; got the string "Everyone"`},
		{"list_all_zohobigin_users", `{"next_cursor":5}`, "next_cursor must be a string; got 5"},
		{"list_all_zohobigin_users", `{"bogus":1}`, `unknown argument "bogus"; this tool takes fields, limit, next_cursor, type`},
		{"list_all_zohobigin_users", `{"limit":0,"type":1}`, "limit must be between 1 and 200; got 0. type must be a string; got 1"},
		{"get_single_zohobigin_user_by_id", `{}`, "id is required"},
		{"get_single_zohobigin_user_by_id", `{"id":"../org"}`, `id must be a string of 1 to 30 digits (Zoho's numeric id, e.g. "4876876000000223001"); got the string "../org"`},
		{"get_single_zohobigin_user_by_id", `{"id":12}`, `id must be a string; got 12`},
		{"delete_a_zohobigin_user_by_id", `{"id":""}`, `id must be a string of 1 to 30 digits (Zoho's numeric id, e.g. "4876876000000223001"); got an empty string`},
		{"list_all_zohobigin_current_organization", `{"x":1,"a":2}`, `unknown arguments "a", "x"; this tool takes no arguments`},
		{"list_all_zohobigin_profiles", `[1]`, "the arguments must be a JSON object; got an array"},
		{"list_all_zohobigin_profiles", `{not json`, "the arguments are not valid JSON; send a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.tool+" "+tt.args, func(t *testing.T) {
			e, ok := cat.Lookup(tt.tool)
			require.True(t, ok)
			_, err := e.Decode(json.RawMessage(tt.args))
			var ae *ArgsError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.want, ae.Error())
			assert.Equal(t, tt.tool, ae.Tool)
		})
	}
}

// A long value is quoted back clipped, at a character boundary.
func TestArgumentMessagesClipWhatWasSent(t *testing.T) {
	cat, err := New()
	require.NoError(t, err)
	e, _ := cat.Lookup("get_single_zohobigin_user_by_id")
	_, err = e.Decode(json.RawMessage(`{"id":"` + strings.Repeat("é", 100) + `"}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `got the string "`+strings.Repeat("é", 20)+`…"`)
	assert.True(t, utf8.ValidString(err.Error()))
}

// TestInputSchemasHaveOneTypePerProperty: every argument of every tool,
// and every schema nested in one, names exactly one JSON type, so that
// function-calling dialects that take one type per property (Gemini's)
// accept every tool; an optional argument is left out, never null.
func TestInputSchemasHaveOneTypePerProperty(t *testing.T) {
	cat, err := New()
	require.NoError(t, err)
	var walk func(t *testing.T, path string, s map[string]any)
	walk = func(t *testing.T, path string, s map[string]any) {
		typ, ok := s["type"].(string)
		assert.True(t, ok, "%s: type is %#v, not one type", path, s["type"])
		assert.NotEqual(t, "null", typ, "%s", path)
		if props, ok := s["properties"].(map[string]any); ok {
			for name, p := range props {
				walk(t, path+"."+name, p.(map[string]any))
			}
		}
		if items, ok := s["items"].(map[string]any); ok {
			walk(t, path+"[]", items)
		}
	}
	var cursors int
	for _, e := range cat.Entries() {
		t.Run(e.Name, func(t *testing.T) {
			walk(t, e.Name, e.Input)
			if c, ok := e.Input["properties"].(map[string]any)["next_cursor"].(map[string]any); ok {
				cursors++
				assert.Equal(t, "string", c["type"])
				required, _ := e.Input["required"].([]string)
				assert.NotContains(t, required, "next_cursor")
			}
		})
	}
	assert.Positive(t, cursors, "the paged tools take next_cursor")

	// A null cursor passed back from a last page still means the first.
	e, ok := cat.Lookup("list_all_zohobigin_roles")
	require.True(t, ok)
	decoded, err := e.Decode(json.RawMessage(`{"limit":5,"next_cursor":null}`))
	require.NoError(t, err)
	args := decoded.(*pagingArgs)
	assert.Nil(t, args.NextCursor)
	assert.Equal(t, 5, args.Limit)
}

// A URL's modules narrow the module enum of its tools' input schemas;
// each distinct set is encoded once and shared.
func TestInputSchemaForModules(t *testing.T) {
	cat, err := New()
	require.NoError(t, err)
	list, _ := cat.Lookup("list_zohobigin_records")
	cfg := tokens.Config{Modules: []string{"Contacts", "Pipelines"}}
	mods := list.ModulesUnder(cfg)
	assert.Equal(t, []string{"Contacts", "Pipelines"}, mods)
	narrowed := list.InputSchemaFor(mods)
	var got struct {
		Properties map[string]map[string]any `json:"properties"`
		Required   []string                  `json:"required"`
	}
	require.NoError(t, json.Unmarshal(narrowed, &got))
	assert.Equal(t, []any{"Contacts", "Pipelines"}, got.Properties["module"]["enum"])
	assert.Equal(t, []string{"module"}, got.Required)
	var full struct {
		Properties map[string]map[string]any `json:"properties"`
	}
	require.NoError(t, json.Unmarshal(list.InputSchema, &full))
	assert.Len(t, full.Properties["module"]["enum"], 7, "the shared full schema is untouched")
	delete(full.Properties, "module")
	delete(got.Properties, "module")
	assert.Equal(t, full.Properties, got.Properties, "only the enum differs")
	again := list.InputSchemaFor([]string{"Contacts", "Pipelines"})
	assert.Same(t, &narrowed[0], &again[0], "a set is encoded once")
	assert.Same(t, &list.InputSchema[0], &list.InputSchemaFor(nil)[0], "every module is the full schema")
	assert.Same(t, &list.InputSchema[0], &list.InputSchemaFor(list.Modules)[0])

	query, _ := cat.Lookup("query_zohobigin_records")
	assert.Same(t, &query.InputSchema[0], &query.InputSchemaFor(query.ModulesUnder(cfg))[0], "a tool without a module argument has one schema")
	notes, _ := cat.Lookup("add_zohobigin_note")
	assert.Empty(t, notes.ModulesUnder(tokens.Config{Modules: []string{"Tasks"}}))
}

// Every tool's Zoho scopes are among those connect and reconnect links
// ask for, so a newly connected account can call every tool.
func TestToolScopesAreAskedForByConnectLinks(t *testing.T) {
	cat, err := New()
	require.NoError(t, err)
	for _, e := range cat.Entries() {
		assert.NotEmpty(t, e.Scopes, e.Name)
		for _, s := range e.Scopes {
			assert.Contains(t, bigin.Scopes(), s, e.Name)
		}
	}
}
