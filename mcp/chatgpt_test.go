package mcp_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
)

// ChatGPT's search and fetch, against the sandbox.

// The result shapes OpenAI publishes for the search and fetch tools of an
// MCP server that ChatGPT's deep research and connectors use: "Building
// MCP servers for ChatGPT and API integrations",
// https://platform.openai.com/docs/mcp (sections "search tool" and
// "fetch tool"). search returns an object with one key, results, an array
// of objects with id, title and url; fetch returns one object with id,
// title, text and url, and optional metadata (key/value pairs). Either
// comes back as exactly one content item of type text whose text is that
// object, JSON-encoded (structuredContent may repeat it).
const (
	openAISearchShape = `{
		"type": "object",
		"required": ["results"],
		"properties": {
			"results": {
				"type": "array",
				"items": {
					"type": "object",
					"required": ["id", "title", "url"],
					"properties": {
						"id": {"type": "string"},
						"title": {"type": "string"},
						"url": {"type": "string"}
					}
				}
			}
		}
	}`
	openAIFetchShape = `{
		"type": "object",
		"required": ["id", "title", "text", "url"],
		"properties": {
			"id": {"type": "string"},
			"title": {"type": "string"},
			"text": {"type": "string"},
			"url": {"type": "string"},
			"metadata": {"type": ["object", "null"]}
		}
	}`
)

// openAIShape validates a tool result's one text block against one of
// the shapes above and returns the object it holds.
func openAIShape(t testing.TB, shape string, res *sdk.CallToolResult) map[string]any {
	t.Helper()
	require.False(t, res.IsError, "%v", res.Content)
	require.Len(t, res.Content, 1, "exactly one content item")
	text, ok := res.Content[0].(*sdk.TextContent)
	require.True(t, ok, "of type text: %T", res.Content[0])
	var schema jsonschema.Schema
	require.NoError(t, json.Unmarshal([]byte(shape), &schema))
	resolved, err := schema.Resolve(nil)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(text.Text), &doc), "the text is a JSON object")
	require.NoError(t, resolved.Validate(doc), "OpenAI's shape: %s", text.Text)
	structured, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	assert.JSONEq(t, text.Text, string(structured), "structuredContent repeats the text")
	return doc
}

// chatStack is a records stack with a contact, its company and a deal,
// each with notes, that no seeded record shares a word with.
type chatStack struct {
	*records
	contact, company, deal string
	zgid                   string
}

func newChatStack(t *testing.T, config map[string]any) *chatStack {
	t.Helper()
	r := newRecords(t, config)
	s := &chatStack{records: r}
	create := func(module string, rec map[string]any) string {
		out := resultList(t, r.ok("create_zohobigin_records", map[string]any{"module": module, "records": []any{rec}}))
		require.Equal(t, "success", out[0]["status"], "%v", out)
		return out[0]["id"].(string)
	}
	s.company = create("Accounts", map[string]any{"Account_Name": "Brightwater Ceramics", "Website": "https://brightwater.example", "Phone": "+1 555 0100"})
	s.contact = create("Contacts", map[string]any{"First_Name": "Ada", "Last_Name": "Quillfeather", "Email": "ada@brightwater.example",
		"Title": "Head of Operations", "Account_Name": map[string]any{"id": s.company}})
	pipeline := r.ok("describe_zohobigin_module", map[string]any{"module": "Pipelines"})["result"].(map[string]any)["pipelines"].([]any)[0].(map[string]any)
	sub := pipeline["sub_pipelines"].([]any)[0].(map[string]any)
	s.deal = create("Pipelines", map[string]any{"Deal_Name": "Kiln replacement", "Amount": 12500, "Stage": "Qualification",
		"Pipeline": map[string]any{"id": pipeline["id"]}, "Sub_Pipeline": sub["name"],
		"Account_Name": map[string]any{"id": s.company}, "Contact_Name": map[string]any{"id": s.contact}})
	for i, n := range []struct{ module, id, content string }{
		{"Contacts", s.contact, "First call: wants a quote for two kilns."},
		{"Contacts", s.contact, "Second call: the budget is approved."},
		{"Accounts", s.company, "Family business, three studios."},
		{"Pipelines", s.deal, "Waiting for the site survey."},
	} {
		if i > 0 {
			r.Clock.Advance(time.Minute) // notes have their own times
		}
		r.ok("add_zohobigin_note", map[string]any{"module": n.module, "record_id": n.id, "content": n.content, "title": "Note " + string(rune('A'+i))})
	}
	var org struct {
		ZGID string `json:"zgid"`
	}
	require.NoError(t, json.Unmarshal(r.sb.OrgJSON(), &org))
	s.zgid = org.ZGID
	return s
}

// raw calls a tool and returns its result as the client got it.
func (s *chatStack) raw(tool string, args map[string]any) *sdk.CallToolResult {
	s.T.Helper()
	res, _ := apptest.CallTool(s.T, s.cs, tool, args)
	return res
}

// search returns the results of a search.
func (s *chatStack) search(query string) []map[string]any {
	s.T.Helper()
	doc := openAIShape(s.T, openAISearchShape, s.raw("search", map[string]any{"query": query}))
	var out []map[string]any
	for _, r := range doc["results"].([]any) {
		out = append(out, r.(map[string]any))
	}
	return out
}

// fetch returns the document of a fetch.
func (s *chatStack) fetch(id string) map[string]any {
	s.T.Helper()
	return openAIShape(s.T, openAIFetchShape, s.raw("fetch", map[string]any{"id": id}))
}

// page is a record's page in the sandbox's web app.
func (s *chatStack) page(tab, id string) string {
	return s.sb.BaseURL() + "/bigin/org" + s.zgid + "/Home#/" + tab + "/" + id
}

func TestChatGPTSearchAndFetch(t *testing.T) {
	s := newChatStack(t, nil)

	t.Run("a contact by last name", func(t *testing.T) {
		results := s.search("Quillfeather")
		require.NotEmpty(t, results)
		assert.Equal(t, map[string]any{"id": "Contacts:" + s.contact, "title": "Ada Quillfeather (Brightwater Ceramics)", "url": s.page("contacts", s.contact)}, results[0])

		doc := s.fetch("Contacts:" + s.contact)
		assert.Equal(t, "Contacts:"+s.contact, doc["id"])
		assert.Equal(t, "Ada Quillfeather (Brightwater Ceramics)", doc["title"])
		assert.Equal(t, s.page("contacts", s.contact), doc["url"])
		text := doc["text"].(string)
		assert.True(t, strings.HasPrefix(text, "Contact: Ada Quillfeather (Brightwater Ceramics)\n"), text)
		for _, line := range []string{"First Name: Ada", "Last Name: Quillfeather", "Email: ada@brightwater.example", "Title: Head of Operations",
			"Company Name: Brightwater Ceramics"} {
			assert.Contains(t, strings.Split(text, "\n"), line, "labels from the module's fields: %s", text)
		}
		assert.NotContains(t, text, s.contact, "the id is the document's, not a line")
		second, first := strings.Index(text, "Second call: the budget is approved."), strings.Index(text, "First call: wants a quote for two kilns.")
		require.Positive(t, first, text)
		require.Positive(t, second, text)
		assert.Less(t, second, first, "notes newest first")
		assert.Contains(t, text, "Notes (2, newest first):")
		assert.NotContains(t, text, "Family business", "another record's notes")

		meta := doc["metadata"].(map[string]any)
		rec := s.record("Contacts", s.contact)
		assert.Equal(t, map[string]any{"module": "Contacts", "owner": rec["Owner"].(map[string]any)["name"],
			"created_time": rec["Created_Time"], "modified_time": rec["Modified_Time"]}, meta)
	})

	t.Run("a company by name", func(t *testing.T) {
		results := s.search("Brightwater")
		require.NotEmpty(t, results)
		assert.Equal(t, map[string]any{"id": "Accounts:" + s.company, "title": "Brightwater Ceramics", "url": s.page("companies", s.company)}, results[0])
		assert.Contains(t, results, map[string]any{"id": "Contacts:" + s.contact, "title": "Ada Quillfeather (Brightwater Ceramics)", "url": s.page("contacts", s.contact)},
			"the contact matches by its email, after the company")

		doc := s.fetch("Accounts:" + s.company)
		text := doc["text"].(string)
		assert.True(t, strings.HasPrefix(text, "Company: Brightwater Ceramics\n"), text)
		assert.Contains(t, strings.Split(text, "\n"), "Website: https://brightwater.example")
		assert.Contains(t, text, "Family business, three studios.")
		assert.Equal(t, "Accounts", doc["metadata"].(map[string]any)["module"])
	})

	t.Run("a deal by name", func(t *testing.T) {
		results := s.search("kiln replacement")
		require.NotEmpty(t, results)
		assert.Equal(t, map[string]any{"id": "Pipelines:" + s.deal, "title": "Kiln replacement (Qualification, amount 12,500)", "url": s.page("deals", s.deal)}, results[0])

		doc := s.fetch("Pipelines:" + s.deal)
		text := doc["text"].(string)
		assert.True(t, strings.HasPrefix(text, "Deal: Kiln replacement (Qualification, amount 12,500)\n"), text)
		for _, line := range []string{"Deal Name: Kiln replacement", "Stage: Qualification", "Amount: 12,500", "Company Name: Brightwater Ceramics", "Contact Name: Ada Quillfeather"} {
			assert.Contains(t, strings.Split(text, "\n"), line, text)
		}
		assert.Contains(t, text, "Waiting for the site survey.")
	})

	t.Run("one Zoho call a module, at once", func(t *testing.T) {
		before := len(s.sb.APIRequests())
		s.search("Quillfeather")
		var paths []string
		for _, q := range s.sb.APIRequests()[before:] {
			paths = append(paths, q.Method+" "+q.Path+" word="+q.Query.Get("word"))
		}
		assert.ElementsMatch(t, []string{"GET /bigin/v2/Contacts/search word=Quillfeather", "GET /bigin/v2/Accounts/search word=Quillfeather",
			"GET /bigin/v2/Pipelines/search word=Quillfeather"}, paths, "the org's zgid and the fields' labels come from the cache")
	})

	t.Run("nothing found", func(t *testing.T) {
		assert.Empty(t, s.search("Xylophonist"))
	})

	t.Run("unknown and malformed ids", func(t *testing.T) {
		text, out := s.fails("fetch", map[string]any{"id": "Contacts:1234567"})
		assert.Equal(t, "INVALID_DATA", codeOf(out))
		assert.Contains(t, text, "No record with id Contacts:1234567 exists in this Bigin organization")
		before := len(s.sb.APIRequests())
		for id, want := range map[string]string{
			"1234567":        `id must be a module and a record id as search returns them, e.g. "Contacts:4876876000000223001"`,
			"Deals:1234567":  `id "Deals:1234567" does not name a contact, company or deal`,
			"Tasks:1234567":  `id "Tasks:1234567" does not name a contact, company or deal`,
			"Contacts:12a45": `id must be a module and a record id as search returns them`,
		} {
			text, out := s.fails("fetch", map[string]any{"id": id})
			assert.Equal(t, "invalid_argument", codeOf(out), id)
			assert.Contains(t, text, want, id)
		}
		text, out = s.fails("search", map[string]any{"query": "   "})
		assert.Equal(t, "invalid_argument", codeOf(out))
		assert.Contains(t, text, "query must hold a word to search for")
		assert.Len(t, s.sb.APIRequests(), before, "nothing reached Zoho")
	})
}

// A URL's modules narrow what search reads and what fetch may read, and
// a URL that allows none of the three lists neither.
func TestChatGPTToolsFollowTheURLsModules(t *testing.T) {
	s := newChatStack(t, nil)
	_, url := s.MintURL(s.acct, map[string]any{"modules": []string{"Accounts", "Tasks"}})
	s.cs = s.MustConnect(url, "streamable")
	assert.Subset(t, apptest.ToolNames(t, s.cs), apptest.ChatGPTTools())

	before := len(s.sb.APIRequests())
	results := s.search("Brightwater")
	for _, r := range results {
		assert.True(t, strings.HasPrefix(r["id"].(string), "Accounts:"), "only companies: %v", r)
	}
	require.NotEmpty(t, results)
	for _, q := range s.sb.APIRequests()[before:] {
		assert.NotContains(t, q.Path, "/Contacts/", "a module the URL leaves out is not searched")
		assert.NotContains(t, q.Path, "/Pipelines/", "a module the URL leaves out is not searched")
	}

	before = len(s.sb.APIRequests())
	for _, id := range []string{"Contacts:" + s.contact, "pipelines:" + s.deal} {
		text, out := s.fails("fetch", map[string]any{"id": id})
		assert.Equal(t, "module_not_allowed", codeOf(out), id)
		assert.Contains(t, text, "This MCP URL does not allow the", id)
	}
	assert.Len(t, s.sb.APIRequests(), before, "nothing reached Zoho")
	assert.Equal(t, "Accounts", s.fetch("Accounts:" + s.company)["metadata"].(map[string]any)["module"])

	for _, modules := range [][]string{{"Products"}, {"Tasks", "Events", "Calls"}} {
		_, url := s.MintURL(s.acct, map[string]any{"modules": modules})
		names := apptest.ToolNames(t, s.MustConnect(url, "streamable"))
		assert.NotContains(t, names, "search", modules)
		assert.NotContains(t, names, "fetch", modules)
		assert.Contains(t, names, "list_zohobigin_records", modules)
	}
}

// A small result budget cuts fetch's text and search's results to fit,
// saying what was left out.
func TestChatGPTToolsKeepToTheResultBudget(t *testing.T) {
	s := newChatStack(t, nil)
	for i := range 30 {
		s.ok("add_zohobigin_note", map[string]any{"module": "Contacts", "record_id": s.contact,
			"content": strings.Repeat("A long note about kilns. ", 8) + string(rune('a'+i%26))})
	}
	const budget = 2000
	_, url := s.MintURL(s.acct, map[string]any{"max_result_chars": budget})
	s.cs = s.MustConnect(url, "streamable")

	res := s.raw("fetch", map[string]any{"id": "Contacts:" + s.contact})
	doc := openAIShape(t, openAIFetchShape, res)
	body := res.Content[0].(*sdk.TextContent).Text
	assert.LessOrEqual(t, utf8.RuneCountInString(body), budget)
	text := doc["text"].(string)
	assert.Contains(t, text, "Last Name: Quillfeather", "the fields come first")
	assert.Regexp(t, regexp.MustCompile(`\[\d+ older notes do not fit the result size budget; list_zohobigin_related_records with related Notes lists them all\.\]$`), text)

	tiny := s.MustConnect(func() string {
		_, u := s.MintURL(s.acct, map[string]any{"max_result_chars": 500})
		return u
	}(), "streamable")
	res, _ = apptest.CallTool(t, tiny, "search", map[string]any{"query": "a"})
	assert.LessOrEqual(t, utf8.RuneCountInString(res.Content[0].(*sdk.TextContent).Text), 500)
	doc = openAIShape(t, openAISearchShape, res)
	assert.NotEmpty(t, doc["results"])
}

// ChatGPT reads search's and fetch's results from their text block, so
// they keep it even where the structured-only opt-in leaves it out of
// the other tools' results.
func TestChatGPTToolsKeepTheirTextBlock(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.StructuredOnly = true }})
	acct := e.ConnectAccount("us")
	_, url := e.MintURL(acct, nil)
	cs := connectAt(t, url, "streamable", "2026-07-28")
	assert.Empty(t, callRaw(t, cs, "list_all_zohobigin_users", map[string]any{"limit": 1}).Content, "the opt-in is on")
	doc := openAIShape(t, openAISearchShape, callRaw(t, cs, "search", map[string]any{"query": "Atlas Farms"}))
	results := doc["results"].([]any)
	require.NotEmpty(t, results)
	id := results[0].(map[string]any)["id"].(string)
	openAIShape(t, openAIFetchShape, callRaw(t, cs, "fetch", map[string]any{"id": id}))
}

// The audit keeps fetch's id and module, and never search's query.
func TestChatGPTCallsAreAudited(t *testing.T) {
	s := newChatStack(t, nil)
	s.search("Quillfeather")
	s.fetch("Contacts:" + s.contact)
	s.App.Flush()
	entries, _, err := s.Store.Audit(context.Background(), "", 2)
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Equal(t, "fetch", entries[0].Tool)
	assert.Equal(t, map[string]any{"id": "Contacts:" + s.contact, "module": "Contacts"}, entries[0].Args)
	assert.Equal(t, "search", entries[1].Tool)
	assert.Nil(t, entries[1].Args)
	assert.NotContains(t, mustJSON(t, entries[1]), "Quillfeather", "no search term in the audit")
}

// A URL for ChatGPT alone (tags ["chatgpt"]) is read-only and lists the
// two tools; its instructions name no tool it does not offer.
func TestChatGPTOnlyURL(t *testing.T) {
	r := newRecords(t, map[string]any{"tags": []string{"chatgpt"}})
	assert.ElementsMatch(t, apptest.ChatGPTTools(), apptest.ToolNames(t, r.cs))
	instructions := r.cs.InitializeResult().Instructions
	assert.Contains(t, instructions, "This URL is read-only")
	assert.Contains(t, instructions, "Tools: search, fetch.")
	assert.NotContains(t, instructions, "describe_zohobigin_module")
}

// search asks Zoho in every allowed module at once, not one after the
// other, and returns at most 20 results in all, however many each module
// finds.
func TestChatGPTSearchAsksTheModulesAtOnceForTwentyResults(t *testing.T) {
	s := &chatStack{records: newRecords(t, nil)}
	s.search("warm") // the org's zgid is then in the account's cache

	held, release := s.sb.HoldAPI()
	defer release()
	type answer struct {
		res *sdk.CallToolResult
		err error
	}
	done := make(chan answer, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		res, err := s.cs.CallTool(ctx, &sdk.CallToolParams{Name: "search", Arguments: map[string]any{"query": "a"}})
		done <- answer{res, err}
	}()
	for i := range 3 {
		select {
		case <-held:
		case <-time.After(20 * time.Second):
			t.Fatalf("Zoho had %d of the 3 modules' searches in flight at once; a search waits for another module's answer", i)
		}
	}
	release()
	var got answer
	select {
	case got = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the search did not answer once Zoho did")
	}
	require.NoError(t, got.err)
	doc := openAIShape(t, openAISearchShape, got.res)
	var results []map[string]any
	for _, r := range doc["results"].([]any) {
		results = append(results, r.(map[string]any))
	}
	require.Len(t, results, 20, "every module finds more than 20 records with an a; 20 in all come back")
	modules := map[string]bool{}
	for _, r := range results {
		module, _, _ := strings.Cut(r["id"].(string), ":")
		modules[module] = true
	}
	assert.Greater(t, len(modules), 1, "the best of every module, not one module's first 20: %v", results)
}
