package rest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/internal/catalog"
)

func TestListToolsFiltersLikeAnMCPURL(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	tests := []struct {
		query string
		want  []string
	}{
		{"", apptest.AllTools()},
		{"?methods=read", apptest.ReadTools()},
		{"?methods=write&tags=records&modules=Tasks", []string{"create_zohobigin_records", "update_zohobigin_records", "delete_zohobigin_records_by_ids"}},
		{"?tags=notes&modules=contacts,Tasks", []string{"add_zohobigin_note"}},
		{"?tags=roles,profiles", []string{"list_all_zohobigin_roles", "list_all_zohobigin_profiles"}},
		{"?tags=roles&tags=organization", []string{"list_all_zohobigin_current_organization", "list_all_zohobigin_roles"}},
		{"?methods=delete&tags=users", []string{"delete_a_zohobigin_user_by_id"}},
		{"?methods=GET", []string{"get_single_zohobigin_user_by_id", "describe_zohobigin_module", "get_single_zohobigin_record_by_id", "fetch"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			out := s.get("/integrated-account/"+s.account+"/tools"+tt.query, http.StatusOK)
			assert.Nil(t, out["next_cursor"])
			var names []string
			for _, v := range out["result"].([]any) {
				tool := v.(map[string]any)
				names = append(names, tool["name"].(string))
				for _, k := range []string{"description", "method", "tags", "input_schema", "output_schema"} {
					assert.NotEmpty(t, tool[k], "%s of %s", k, tool["name"])
				}
			}
			assert.Equal(t, tt.want, names)
		})
	}

	bad := []struct{ query, want string }{
		{"?methods=readonly", `unknown method "readonly" in methods; valid methods: read, write, list, get, create, update, delete`},
		{"?tags=nope", `unknown tag "nope" in tags`},
		{"?methods=delete&tags=organization", "methods and tags allow no tool"},
		{"?tags=notes&modules=Tasks", "methods, tags and modules allow no tool"},
		{"?modules=Deals", `unknown module "Deals" in modules; valid modules (Zoho's API names): Contacts, Accounts (the app's Companies), Pipelines (the app's Deals)`},
		{"?fields=x", `unknown query parameter "fields"; allowed: methods, tags, modules`},
	}
	for _, tt := range bad {
		t.Run(tt.query, func(t *testing.T) {
			r := s.Request(http.MethodGet, "/integrated-account/"+s.account+"/tools"+tt.query, nil)
			require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
			code, msg, _ := errorOf(t, r)
			assert.Equal(t, "invalid_argument", code)
			assert.Contains(t, msg, tt.want)
		})
	}
}

// The REST result of a tool is byte for byte the MCP tool's
// structuredContent.
func TestCallToolAnswersTheMCPStructuredContent(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	_, url := s.MintURL(s.account, nil)
	cs := s.MustConnect(url, "streamable")
	uid := s.Sandboxes["us"].UserIDs("ActiveUsers")[3]
	tests := []struct {
		tool string
		args map[string]any
	}{
		{"list_all_zohobigin_users", map[string]any{"limit": 5, "type": "ActiveUsers"}},
		{"get_single_zohobigin_user_by_id", map[string]any{"id": uid}},
		{"list_all_zohobigin_current_organization", map[string]any{}},
		{"list_all_zohobigin_me", nil},
		{"list_all_zohobigin_roles", map[string]any{"limit": 2}},
		{"list_all_zohobigin_profiles", map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.tool, func(t *testing.T) { s.sameAsMCP(t, cs, tt.tool, tt.args) })
	}
}

func TestCallToolPagesAcrossAllUsers(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	seen := map[string]bool{}
	args := map[string]any{"limit": 100}
	for pages := 1; ; pages++ {
		// The result budget (40,000 characters by default) cuts pages of
		// ~1 KB users well before limit: about 42 users a page.
		require.LessOrEqual(t, pages, 10)
		r := s.call("list_all_zohobigin_users", args)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.LessOrEqual(t, utf8.RuneCount(bytes.TrimSpace(r.Body)), catalog.DefaultMaxResultChars, "the REST tools keep the result budget")
		var out struct {
			Result     []map[string]any `json:"result"`
			NextCursor *string          `json:"next_cursor"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &out))
		for _, u := range out.Result {
			seen[u["id"].(string)] = true
		}
		if out.NextCursor == nil {
			break
		}
		args["next_cursor"] = *out.NextCursor
	}
	assert.Len(t, seen, sandbox.DefaultUsers)
	assert.ElementsMatch(t, s.Sandboxes["us"].UserIDs("AllUsers"), keys(seen))
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestCallToolDeletes(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	uid := s.Sandboxes["us"].UserIDs("ActiveUsers")[5]
	r := s.call("delete_a_zohobigin_user_by_id", map[string]any{"id": uid})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.JSONEq(t, `{"result":{"id":"`+uid+`","deleted":true}}`, string(r.Body))
	u, _ := s.Sandboxes["us"].User(uid)
	assert.Equal(t, "deleted", u.Status)

	r = s.call("delete_a_zohobigin_user_by_id", map[string]any{"id": s.Sandboxes["us"].PrimaryUserID()})
	require.Equal(t, http.StatusBadGateway, r.Status, "%s", r.Body)
	code, msg, up := errorOf(t, r)
	assert.Equal(t, "upstream_error", code)
	assert.Equal(t, "INVALID_REQUEST", up["code"])
	assert.Contains(t, msg, "primary contact")
}

func TestCallToolBadInput(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	base := "/integrated-account/" + s.account + "/tools/"
	big := `{"id":"` + strings.Repeat("1", 1<<20) + `"}`
	tests := []struct {
		name, path, contentType string
		body                    any
		status                  int
		code, msg               string
	}{
		{"unknown tool", base + "nope", "application/json", "{}", 404, "not_found", `no tool named "nope"`},
		{"filtered out", base + "delete_a_zohobigin_user_by_id?methods=read", "application/json", `{"id":"1"}`, 404, "not_found", "no tool named"},
		{"bad id", base + "get_single_zohobigin_user_by_id", "application/json", `{"id":"abc"}`, 400, "invalid_argument", "id"},
		{"unknown user", base + "get_single_zohobigin_user_by_id", "application/json", `{"id":"123456789012345678"}`, 404, "not_found", "No user with id 123456789012345678"},
		{"missing id", base + "get_single_zohobigin_user_by_id", "application/json", `{}`, 400, "invalid_argument", "id"},
		{"unknown argument", base + "list_all_zohobigin_roles", "application/json", `{"page":2}`, 400, "invalid_argument", "page"},
		{"limit out of range", base + "list_all_zohobigin_roles", "application/json", `{"limit":500}`, 400, "invalid_argument", "limit"},
		{"bad JSON", base + "list_all_zohobigin_roles", "application/json", `{"limit":`, 400, "invalid_argument", "malformed JSON"},
		{"not an object", base + "list_all_zohobigin_roles", "application/json", `[1,2]`, 400, "invalid_argument", "JSON object"},
		{"not JSON", base + "list_all_zohobigin_roles", "text/plain", `limit=2`, 415, "unsupported_media_type", "application/json"},
		{"oversized", base + "get_single_zohobigin_user_by_id", "application/json", big, 413, "too_large", "1 MiB"},
		{"oversized, chunked", base + "get_single_zohobigin_user_by_id", "application/json", strings.NewReader(big), 413, "too_large", "1 MiB"},
		{"foreign cursor", base + "list_all_zohobigin_roles", "application/json", `{"next_cursor":"c1.AAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAA"}`, 400, "invalid_argument", "next_cursor"},
		{"unknown account", "/integrated-account/nope/tools/list_all_zohobigin_roles", "application/json", `{}`, 404, "not_found", "integrated account"},
		{"GET on a tool", base + "list_all_zohobigin_roles", "", nil, 405, "", "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := http.MethodPost
			if tt.body == nil {
				method = http.MethodGet
			}
			r := s.RequestAs(s.Admin, tt.contentType, method, tt.path, tt.body)
			require.Equal(t, tt.status, r.Status, "%s", r.Body)
			code, msg, _ := errorOf(t, r)
			if tt.code != "" {
				assert.Equal(t, tt.code, code)
			}
			assert.Contains(t, msg, tt.msg)
		})
	}
	assert.Zero(t, s.Sandboxes["us"].PendingFaults())
}
