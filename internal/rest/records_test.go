package rest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

// The record tools on the REST face: the same results as MCP, the same
// policy with ?modules=, and their failures in HTTP form.

func TestRecordToolsAnswerTheMCPStructuredContent(t *testing.T) {
	s := newStack(t)
	_, url := s.MintURL(s.account, nil)
	cs := s.MustConnect(url, "streamable")
	sb := s.Sandboxes["us"]
	contact, deal := sb.RecordIDs("Contacts")[5], sb.RecordIDs("Pipelines")[5]
	tests := []struct {
		tool string
		args map[string]any
	}{
		{"describe_zohobigin_module", map[string]any{"module": "Pipelines"}},
		{"list_zohobigin_records", map[string]any{"module": "Contacts", "limit": 20}},
		{"list_zohobigin_records", map[string]any{"module": "Pipelines", "pipeline": "Sales Pipeline", "fields": []string{"Deal_Name", "Stage"}}},
		{"get_single_zohobigin_record_by_id", map[string]any{"module": "Contacts", "id": contact}},
		{"search_zohobigin_records", map[string]any{"module": "Accounts", "word": "Logistics"}},
		{"query_zohobigin_records", map[string]any{"select_query": "select Deal_Name, Amount from Pipelines where Amount > 50000 order by Amount desc", "limit": 10}},
		{"list_zohobigin_related_records", map[string]any{"module": "Pipelines", "id": deal, "related": "Notes"}},
		{"list_zohobigin_related_records", map[string]any{"module": "Contacts", "id": contact, "related": "Pipelines"}},
		{"search", map[string]any{"query": "Atlas Farms"}},
		{"fetch", map[string]any{"id": "Pipelines:" + deal}},
	}
	for _, tt := range tests {
		t.Run(tt.tool, func(t *testing.T) { s.sameAsMCP(t, cs, tt.tool, tt.args) })
	}
}

// sameAsMCP calls a tool over REST and over MCP, and requires the REST
// answer to be the MCP tool's structuredContent.
func (s *stack) sameAsMCP(t *testing.T, cs *sdk.ClientSession, tool string, args map[string]any) {
	t.Helper()
	r := s.call(tool, args)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: tool, Arguments: args})
	require.NoError(t, err)
	require.False(t, res.IsError)
	want, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(r.Body))
}

// ChatGPT's search and fetch on the REST face: listed when ?modules=
// allows one of Contacts, Accounts and Pipelines, fetch's id held to it,
// an unknown id a 404.
func TestChatGPTToolsOnREST(t *testing.T) {
	s := newStack(t)
	names := func(query string) []string {
		var out []string
		for _, v := range s.get("/integrated-account/"+s.account+"/tools"+query, http.StatusOK)["result"].([]any) {
			out = append(out, v.(map[string]any)["name"].(string))
		}
		return out
	}
	assert.Equal(t, []string{"search", "fetch"}, names("?tags=chatgpt"))
	assert.Equal(t, []string{"search", "fetch"}, names("?tags=chatgpt&modules=Pipelines"))
	assert.NotContains(t, names("?modules=Products"), "search")
	assert.NotContains(t, names("?modules=Products"), "fetch")

	sb := s.Sandboxes["us"]
	account := sb.RecordIDs("Accounts")[0]
	before := len(sb.APIRequests())
	r := s.Request(http.MethodPost, "/integrated-account/"+s.account+"/tools/fetch?modules=Contacts", map[string]any{"id": "Accounts:" + account})
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	code, msg, _ := errorOf(t, r)
	assert.Equal(t, "module_not_allowed", code)
	assert.Contains(t, msg, "does not allow the Accounts module")
	assert.Len(t, sb.APIRequests(), before, "nothing reached Zoho")

	r = s.Request(http.MethodPost, "/integrated-account/"+s.account+"/tools/fetch", map[string]any{"id": "Accounts:1234567"})
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	code, msg, _ = errorOf(t, r)
	assert.Equal(t, "not_found", code)
	assert.Contains(t, msg, "No record with id Accounts:1234567 exists")

	r = s.Request(http.MethodPost, "/integrated-account/"+s.account+"/tools/search?modules=Accounts", map[string]any{"query": "Logistics"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var found struct {
		Results []struct{ ID, Title, URL string }
	}
	require.NoError(t, json.Unmarshal(r.Body, &found))
	require.NotEmpty(t, found.Results)
	named := 0 // the companies named Logistics come first, then those Zoho found by another field (their industry)
	for i, res := range found.Results {
		assert.True(t, strings.HasPrefix(res.ID, "Accounts:"), res.ID)
		assert.True(t, strings.HasPrefix(res.URL, sb.BaseURL()+"/bigin/org"), res.URL)
		if strings.Contains(res.Title, "Logistics") {
			assert.Equal(t, named, i, "%s ranks after a company not named Logistics", res.Title)
			named++
		}
	}
	assert.Positive(t, named)
	assert.Less(t, named, len(found.Results), "some companies are found by their industry")
}

// ?modules= narrows the module enums of GET …/tools and refuses a call
// naming another module, as an MCP URL's config.modules does.
func TestRecordToolsModulesQuery(t *testing.T) {
	s := newStack(t)
	out := s.get("/integrated-account/"+s.account+"/tools?modules=Pipelines,contacts&tags=records", http.StatusOK)
	for _, v := range out["result"].([]any) {
		tool := v.(map[string]any)
		props := tool["input_schema"].(map[string]any)["properties"].(map[string]any)
		if m, ok := props["module"].(map[string]any); ok {
			assert.Equal(t, []any{"Contacts", "Pipelines"}, m["enum"], tool["name"])
		}
	}
	before := len(s.Sandboxes["us"].APIRequests())
	r := s.Request(http.MethodPost, "/integrated-account/"+s.account+"/tools/list_zohobigin_records?modules=Contacts", map[string]any{"module": "Accounts"})
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	code, msg, _ := errorOf(t, r)
	assert.Equal(t, "module_not_allowed", code)
	assert.Contains(t, msg, "does not allow the Accounts module")
	assert.Len(t, s.Sandboxes["us"].APIRequests(), before, "nothing reached Zoho")

	// A COQL lookup into another module is refused on the REST face too.
	r = s.Request(http.MethodPost, "/integrated-account/"+s.account+"/tools/query_zohobigin_records?modules=Contacts",
		map[string]any{"select_query": "select Last_Name, Account_Name.Phone from Contacts where id is not null"})
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	code, msg, _ = errorOf(t, r)
	assert.Equal(t, "module_not_allowed", code)
	assert.Contains(t, msg, "does not allow the Accounts module, which the query's column Account_Name.Phone reads through a lookup")
	for _, q := range s.Sandboxes["us"].APIRequests()[before:] {
		assert.NotEqual(t, "/bigin/v2/coql", q.Path, "the query never reached Zoho")
	}

	r = s.Request(http.MethodPost, "/integrated-account/"+s.account+"/tools/add_zohobigin_note?modules=Tasks",
		map[string]any{"module": "Contacts", "record_id": "1", "content": "x"})
	require.Equal(t, http.StatusNotFound, r.Status, "Tasks take no notes, so the tool is not offered: %s", r.Body)
	code, _, _ = errorOf(t, r)
	assert.Equal(t, "not_found", code)
}

func TestRecordWritesOnREST(t *testing.T) {
	s := newStack(t)
	sb := s.Sandboxes["us"]
	var existing map[string]any
	raw, _ := sb.Record("Contacts", sb.RecordIDs("Contacts")[0])
	require.NoError(t, json.Unmarshal(raw, &existing))

	r := s.call("create_zohobigin_records", map[string]any{"module": "Contacts", "records": []any{
		map[string]any{"Last_Name": "Rest"}, map[string]any{"First_Name": "Nameless"},
	}})
	require.Equal(t, http.StatusOK, r.Status, "some records were written: %s", r.Body)
	var ok struct {
		Result []map[string]any `json:"result"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &ok))
	require.Len(t, ok.Result, 2)
	assert.Equal(t, "success", ok.Result[0]["status"])
	assert.Equal(t, "MANDATORY_NOT_FOUND", ok.Result[1]["code"])

	for _, tt := range []struct {
		record       map[string]any
		status       int
		code, zoho   string
		existingID   any
		messageWords string
	}{
		{map[string]any{"First_Name": "Nameless"}, http.StatusBadRequest, "invalid_argument", "MANDATORY_NOT_FOUND", nil, "give the field it names"},
		{map[string]any{"Last_Name": "Twin", "Email": existing["Email"]}, http.StatusConflict, "conflict", "DUPLICATE_DATA", existing["id"], "update it with update_zohobigin_records"},
	} {
		r := s.call("create_zohobigin_records", map[string]any{"module": "Contacts", "records": []any{tt.record}})
		require.Equal(t, tt.status, r.Status, "%s", r.Body)
		code, msg, upstream := errorOf(t, r)
		assert.Equal(t, tt.code, code)
		assert.Equal(t, tt.zoho, upstream["code"])
		assert.Contains(t, msg, tt.messageWords)
		var body struct {
			Result []map[string]any `json:"result"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &body))
		require.Len(t, body.Result, 1, "each record's outcome beside the error")
		assert.Equal(t, tt.zoho, body.Result[0]["code"])
		assert.Equal(t, tt.existingID, body.Result[0]["existing_id"])
	}
}

func TestRecordToolFailuresOnREST(t *testing.T) {
	s := newStack(t)
	sb := s.Sandboxes["us"]

	r := s.call("query_zohobigin_records", map[string]any{"select_query": "select Last_Name from Contacts where id is not null limit 500"})
	require.Equal(t, http.StatusBadGateway, r.Status, "COQL's LIMIT_EXCEEDED is about the query, not a rate limit: %s", r.Body)
	_, msg, upstream := errorOf(t, r)
	assert.Equal(t, "LIMIT_EXCEEDED", upstream["code"])
	assert.Contains(t, msg, "at most 200 rows a call")

	r = s.call("search_zohobigin_records", map[string]any{"module": "Contacts"})
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
	_, msg, _ = errorOf(t, r)
	assert.Contains(t, msg, "a search takes exactly one of criteria, word, email and phone")

	sb.FailNext(1, sandbox.RateLimited)
	r = s.call("list_zohobigin_records", map[string]any{"module": "Contacts"})
	require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Body)
	assert.Equal(t, "30", r.Header.Get("Retry-After"))

	old := s.ConnectAccountWithScopes("us", sandbox.DirectoryScopes()...)
	r = s.Request(http.MethodPost, "/integrated-account/"+old+"/tools/list_zohobigin_records", map[string]any{"module": "Contacts"})
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	code, msg, _ := errorOf(t, r)
	assert.Equal(t, "scope_missing", code)
	assert.Contains(t, msg, "reconnect link")
}

// On the REST face an idempotency_key is kept per API token and account.
func TestRecordIdempotencyOnREST(t *testing.T) {
	s := newStack(t)
	sb := s.Sandboxes["us"]
	posts := func() int {
		n := 0
		for _, q := range sb.APIRequests() {
			if q.Method == http.MethodPost && strings.HasSuffix(q.Path, "/Contacts") {
				n++
			}
		}
		return n
	}
	args := map[string]any{"module": "Contacts", "records": []any{map[string]any{"Last_Name": "Keyed"}}, "idempotency_key": "rest-key"}
	first := s.call("create_zohobigin_records", args)
	require.Equal(t, http.StatusOK, first.Status, "%s", first.Body)
	again := s.call("create_zohobigin_records", args)
	assert.JSONEq(t, string(first.Body), string(again.Body))
	assert.Equal(t, 1, posts())

	tok := s.AdminCall(http.MethodPost, "/admin/api-tokens", map[string]any{"name": "agent", "scopes": []string{"tools"}}, http.StatusCreated)["token"].(string)
	other := s.RequestAs(tok, "application/json", http.MethodPost, "/integrated-account/"+s.account+"/tools/create_zohobigin_records", args)
	require.Equal(t, http.StatusOK, other.Status, "%s", other.Body)
	assert.NotEqual(t, string(first.Body), string(other.Body), "another token's key is its own")
	assert.Equal(t, 2, posts())

	r := s.call("create_zohobigin_records", map[string]any{"module": "Contacts", "records": []any{map[string]any{"Last_Name": "Other"}}, "idempotency_key": "rest-key"})
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	code, _, _ := errorOf(t, r)
	assert.Equal(t, "idempotency_key_reused", code)
}
