package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
)

// The record tools through MCP, against the sandbox's seeded org.

// records is a stack with one account and an MCP session on a URL.
type records struct {
	*apptest.Env
	sb   *sandbox.Sandbox
	acct string
	cs   *sdk.ClientSession
}

// newRecords starts a stack and connects to a URL minted with config.
func newRecords(t *testing.T, config map[string]any) *records {
	t.Helper()
	e := newEnv(t)
	r := &records{Env: e, sb: e.Sandboxes["us"], acct: e.ConnectAccount("us")}
	_, url := e.MintURL(r.acct, config)
	r.cs = e.MustConnect(url, "streamable")
	return r
}

// call calls a tool and returns whether it failed and its structured
// content.
func (r *records) call(tool string, args map[string]any) (bool, map[string]any) {
	r.T.Helper()
	res, out := apptest.CallTool(r.T, r.cs, tool, args)
	return res.IsError, out
}

// ok calls a tool that must succeed.
func (r *records) ok(tool string, args map[string]any) map[string]any {
	r.T.Helper()
	failed, out := r.call(tool, args)
	require.False(r.T, failed, "%s: %v", tool, out)
	return out
}

// fails calls a tool that must fail and returns its text and error code.
func (r *records) fails(tool string, args map[string]any) (string, map[string]any) {
	r.T.Helper()
	res, out := apptest.CallTool(r.T, r.cs, tool, args)
	require.True(r.T, res.IsError, "%s: %v", tool, out)
	return res.Content[0].(*sdk.TextContent).Text, out
}

// zohoCalls counts the sandbox's API requests with the method whose path
// ends with suffix.
func (r *records) zohoCalls(method, suffix string) int {
	n := 0
	for _, q := range r.sb.APIRequests() {
		if q.Method == method && strings.HasSuffix(q.Path, suffix) {
			n++
		}
	}
	return n
}

// record reads a record from the sandbox itself.
func (r *records) record(module, id string) map[string]any {
	r.T.Helper()
	raw, ok := r.sb.Record(module, id)
	require.True(r.T, ok, "no %s %s in the sandbox", module, id)
	var m map[string]any
	require.NoError(r.T, json.Unmarshal(raw, &m))
	return m
}

func codeOf(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func resultList(t testing.TB, out map[string]any) []map[string]any {
	t.Helper()
	list, ok := out["result"].([]any)
	require.True(t, ok, "result is not a list: %v", out)
	recs := make([]map[string]any, len(list))
	for i, v := range list {
		recs[i] = v.(map[string]any)
	}
	return recs
}

func idsOf(recs []map[string]any) []string {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r["id"].(string)
	}
	return ids
}

// walk follows next_cursor and returns every record of a list tool.
func (r *records) walk(tool string, args map[string]any) []map[string]any {
	r.T.Helper()
	var all []map[string]any
	for pages := 0; ; pages++ {
		require.Less(r.T, pages, 200, "paging does not end")
		out := r.ok(tool, args)
		all = append(all, resultList(r.T, out)...)
		next, _ := out["next_cursor"].(string)
		if next == "" {
			return all
		}
		args = maps(args, "next_cursor", next)
	}
}

// maps returns a copy of m with k set to v.
func maps(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{k: v}
	for key, val := range m {
		if key != k {
			out[key] = val
		}
	}
	return out
}

func TestListRecords(t *testing.T) {
	r := newRecords(t, nil)
	defaults := []string{"id", "First_Name", "Last_Name", "Email", "Phone", "Account_Name", "Owner", "Modified_Time"}

	t.Run("a default page of 50 contacts fits the result budget", func(t *testing.T) {
		res, out := apptest.CallTool(t, r.cs, "list_zohobigin_records", map[string]any{"module": "Contacts"})
		require.False(t, res.IsError)
		recs := resultList(t, out)
		assert.Len(t, recs, 50, "the default limit, all of it within the budget")
		assert.LessOrEqual(t, utf8.RuneCountInString(res.Content[0].(*sdk.TextContent).Text), 40_000)
		for _, rec := range recs {
			assert.Contains(t, rec, "id")
			for k := range rec {
				assert.Contains(t, defaults, k, "only the default fields")
			}
		}
		assert.NotEmpty(t, out["next_cursor"])
	})
	t.Run("paging reaches every record once", func(t *testing.T) {
		ids := idsOf(r.walk("list_zohobigin_records", map[string]any{"module": "Accounts", "limit": 200, "fields": []string{"Account_Name"}}))
		assert.ElementsMatch(t, r.sb.RecordIDs("Accounts"), ids)
	})
	t.Run("fields", func(t *testing.T) {
		recs := resultList(t, r.ok("list_zohobigin_records", map[string]any{"module": "Contacts", "fields": []string{"Email", "Email"}, "limit": 5}))
		require.Len(t, recs, 5)
		for _, rec := range recs {
			assert.Equal(t, []string{"Email", "id"}, keys(rec))
		}
	})
	t.Run("sort", func(t *testing.T) {
		recs := resultList(t, r.ok("list_zohobigin_records", map[string]any{"module": "Tasks", "sort_by": "id", "sort_order": "asc", "limit": 3}))
		assert.Equal(t, r.sb.RecordIDs("Tasks")[:3], idsOf(recs))
	})
	t.Run("a team pipeline by name or id", func(t *testing.T) {
		tp := r.sb.TeamPipelines()[1]
		byName := r.walk("list_zohobigin_records", map[string]any{"module": "Pipelines", "pipeline": strings.ToUpper(tp.Name), "limit": 200})
		require.NotEmpty(t, byName)
		for _, d := range byName {
			assert.Equal(t, tp.ID, d["Pipeline"].(map[string]any)["id"])
		}
		byID := r.walk("list_zohobigin_records", map[string]any{"module": "Pipelines", "pipeline": tp.ID, "limit": 200})
		assert.Equal(t, idsOf(byName), idsOf(byID))
		assert.Less(t, len(byName), len(r.sb.RecordIDs("Pipelines")))
	})
	t.Run("an unknown team pipeline", func(t *testing.T) {
		text, out := r.fails("list_zohobigin_records", map[string]any{"module": "Pipelines", "pipeline": "Nope"})
		assert.Equal(t, "invalid_argument", codeOf(out))
		assert.Contains(t, text, `pipeline "Nope" is not a team pipeline of this organization; its team pipelines are Sales Pipeline (id `)
	})
	t.Run("a pipeline of another module", func(t *testing.T) {
		before := len(r.sb.APIRequests())
		_, out := r.fails("list_zohobigin_records", map[string]any{"module": "Contacts", "pipeline": "Sales Pipeline"})
		assert.Equal(t, "invalid_argument", codeOf(out))
		assert.Len(t, r.sb.APIRequests(), before, "nothing reached Zoho")
	})
	t.Run("a field Zoho does not know", func(t *testing.T) {
		text, out := r.fails("list_zohobigin_records", map[string]any{"module": "Contacts", "fields": []string{"Nickname"}})
		assert.Equal(t, "INVALID_DATA", codeOf(out))
		assert.Contains(t, text, "describe_zohobigin_module lists them")
	})
	t.Run("a module that is not one", func(t *testing.T) {
		text, out := r.fails("list_zohobigin_records", map[string]any{"module": "Deals"})
		assert.Equal(t, "invalid_argument", codeOf(out))
		assert.Contains(t, text, "module must be one of Contacts, Accounts, Pipelines, Products, Tasks, Events, Calls")
	})
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// describe answers from a cache of 10 minutes that every surface shares.
func TestDescribeModule(t *testing.T) {
	r := newRecords(t, nil)
	out := r.ok("describe_zohobigin_module", map[string]any{"module": "Contacts"})
	res := out["result"].(map[string]any)
	assert.Equal(t, "Contacts", res["module"])
	fields := map[string]map[string]any{}
	for _, f := range res["fields"].([]any) {
		fields[f.(map[string]any)["api_name"].(string)] = f.(map[string]any)
	}
	assert.Equal(t, map[string]any{"api_name": "Last_Name", "label": "Last Name", "type": "text", "required": true, "read_only": false}, fields["Last_Name"])
	assert.Equal(t, "Accounts", fields["Account_Name"]["lookup"])
	assert.Equal(t, []any{"Bronze", "Silver", "Gold", "Platinum"}, fields["Customer_Tier"]["options"])
	assert.Equal(t, true, fields["Full_Name"]["read_only"])
	assert.NotContains(t, res, "pipelines")

	deals := r.ok("describe_zohobigin_module", map[string]any{"module": "Pipelines"})["result"].(map[string]any)
	var want []any
	for _, tp := range r.sb.TeamPipelines() {
		var stages, subs []any
		for _, sp := range tp.SubPipelines {
			var spStages []any
			for _, st := range sp.Stages {
				spStages = append(spStages, st)
				if !slices.Contains(stages, any(st)) {
					stages = append(stages, st)
				}
			}
			subs = append(subs, map[string]any{"name": sp.Name, "stages": spStages})
		}
		want = append(want, map[string]any{"id": tp.ID, "name": tp.Name, "stages": stages, "sub_pipelines": subs})
	}
	assert.Equal(t, want, deals["pipelines"])

	fieldsCalls := r.zohoCalls(http.MethodGet, "/settings/fields")
	require.Equal(t, 2, fieldsCalls, "one per module")
	r.ok("describe_zohobigin_module", map[string]any{"module": "Contacts"})
	rest := r.Request(http.MethodPost, "/integrated-account/"+r.acct+"/tools/describe_zohobigin_module", map[string]any{"module": "Contacts"})
	require.Equal(t, http.StatusOK, rest.Status, "%s", rest.Body)
	assert.JSONEq(t, mustJSON(t, out), string(rest.Body), "the REST face answers the same")
	assert.Equal(t, fieldsCalls, r.zohoCalls(http.MethodGet, "/settings/fields"), "MCP and REST read the cache")
	r.Clock.Advance(10*time.Minute + time.Second)
	r.ok("describe_zohobigin_module", map[string]any{"module": "Contacts"})
	assert.Equal(t, fieldsCalls+1, r.zohoCalls(http.MethodGet, "/settings/fields"), "after 10 minutes Zoho is asked again")
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestGetRecord(t *testing.T) {
	r := newRecords(t, nil)
	id := r.sb.RecordIDs("Pipelines")[7]
	out := r.ok("get_single_zohobigin_record_by_id", map[string]any{"module": "Pipelines", "id": id})
	assert.Equal(t, r.record("Pipelines", id), out["result"], "Zoho's record, unchanged")
	out = r.ok("get_single_zohobigin_record_by_id", map[string]any{"module": "Pipelines", "id": id, "fields": []string{"Stage"}})
	assert.Equal(t, []string{"Stage", "id"}, keys(out["result"].(map[string]any)))

	text, out := r.fails("get_single_zohobigin_record_by_id", map[string]any{"module": "Contacts", "id": id})
	assert.Equal(t, "INVALID_DATA", codeOf(out))
	assert.Contains(t, text, "No record of this module has id "+id)
}

func TestSearchRecords(t *testing.T) {
	r := newRecords(t, nil)
	contact := r.record("Contacts", r.sb.RecordIDs("Contacts")[3])
	email := contact["Email"].(string)

	recs := resultList(t, r.ok("search_zohobigin_records", map[string]any{"module": "Contacts", "email": strings.ToUpper(email)}))
	require.Len(t, recs, 1)
	assert.Equal(t, contact["id"], recs[0]["id"])
	assert.Equal(t, email, recs[0]["Email"], "the default fields")

	last := contact["Last_Name"].(string)
	byWord := r.walk("search_zohobigin_records", map[string]any{"module": "Contacts", "word": last, "limit": 10})
	byCriteria := r.walk("search_zohobigin_records", map[string]any{"module": "Contacts", "criteria": "(Last_Name:equals:" + last + ")", "fields": []string{"Last_Name"}})
	assert.Contains(t, idsOf(byWord), contact["id"])
	assert.Contains(t, idsOf(byCriteria), contact["id"])
	for _, rec := range byCriteria {
		assert.Equal(t, last, rec["Last_Name"])
	}

	before := len(r.sb.APIRequests())
	for _, args := range []map[string]any{
		{"module": "Contacts"},
		{"module": "Contacts", "word": "a", "email": "b@c.d"},
	} {
		text, out := r.fails("search_zohobigin_records", args)
		assert.Equal(t, "invalid_argument", codeOf(out))
		assert.Contains(t, text, "a search takes exactly one of criteria, word, email and phone")
	}
	assert.Len(t, r.sb.APIRequests(), before, "nothing reached Zoho")

	text, out := r.fails("search_zohobigin_records", map[string]any{"module": "Contacts", "criteria": "Last_Name=Smith"})
	assert.Equal(t, "INVALID_QUERY", codeOf(out))
	assert.Contains(t, text, "(Field:operator:value)")
}

func TestQueryRecords(t *testing.T) {
	r := newRecords(t, nil)
	t.Run("without WHERE, paged by the server", func(t *testing.T) {
		rows := r.walk("query_zohobigin_records", map[string]any{"select_query": "select Last_Name from Contacts", "limit": 200})
		assert.Equal(t, r.sb.RecordIDs("Contacts"), idsOf(rows), "every contact once, in id order")
		assert.Equal(t, []string{"Last_Name", "id"}, keys(rows[0]))
	})
	t.Run("with its own LIMIT, as written", func(t *testing.T) {
		out := r.ok("query_zohobigin_records", map[string]any{"select_query": "SELECT Deal_Name, Amount FROM Pipelines WHERE Amount > 0 ORDER BY Amount DESC LIMIT 5"})
		rows := resultList(t, out)
		require.Len(t, rows, 5)
		assert.Nil(t, out["next_cursor"])
		for i := 1; i < len(rows); i++ {
			assert.GreaterOrEqual(t, rows[i-1]["Amount"].(float64), rows[i]["Amount"].(float64))
		}
	})
	t.Run("Zoho's errors", func(t *testing.T) {
		for _, tt := range []struct{ query, code, hint string }{
			{"select Last_Name from Contacts where", "SYNTAX_ERROR", "Check the query's grammar"},
			{"select Nickname from Contacts where id is not null", "INVALID_QUERY", "Check the column and module names"},
			{"select Last_Name from Contacts where id is not null limit 500", "LIMIT_EXCEEDED", "at most 200 rows a call"},
		} {
			text, out := r.fails("query_zohobigin_records", map[string]any{"select_query": tt.query})
			assert.Equal(t, tt.code, codeOf(out), tt.query)
			assert.Contains(t, text, tt.hint, tt.query)
		}
		_, out := r.fails("query_zohobigin_records", map[string]any{"select_query": "select Last_Name"})
		assert.Equal(t, "invalid_argument", codeOf(out))
	})
}

func TestRelatedRecords(t *testing.T) {
	r := newRecords(t, nil)
	// A contact with deals in both team pipelines, found from the deals.
	byContact := map[string][]string{}
	pipelinesOf := map[string]map[string]bool{}
	for _, id := range r.sb.RecordIDs("Pipelines") {
		d := r.record("Pipelines", id)
		c, ok := d["Contact_Name"].(map[string]any)
		if !ok {
			continue
		}
		cid := c["id"].(string)
		byContact[cid] = append(byContact[cid], id)
		if pipelinesOf[cid] == nil {
			pipelinesOf[cid] = map[string]bool{}
		}
		pipelinesOf[cid][d["Pipeline"].(map[string]any)["id"].(string)] = true
	}
	var contact string
	for cid, ps := range pipelinesOf {
		if len(ps) == 2 && (contact == "" || cid < contact) {
			contact = cid
		}
	}
	require.NotEmpty(t, contact, "the seed has a contact with deals in both team pipelines")
	for _, limit := range []int{1, 50} {
		deals := r.walk("list_zohobigin_related_records", map[string]any{"module": "Contacts", "id": contact, "related": "Pipelines", "limit": limit})
		assert.ElementsMatch(t, byContact[contact], idsOf(deals), "every team pipeline's deals, limit %d", limit)
	}
	one := r.walk("list_zohobigin_related_records", map[string]any{"module": "Contacts", "id": contact, "related": "Pipelines",
		"pipeline": r.sb.TeamPipelines()[0].Name})
	assert.NotEmpty(t, one)
	assert.Less(t, len(one), len(byContact[contact]))

	deal := byContact[contact][0]
	contacts := resultList(t, r.ok("list_zohobigin_related_records", map[string]any{"module": "Pipelines", "id": deal, "related": "Contacts"}))
	assert.Equal(t, []string{contact}, idsOf(contacts))

	text, out := r.fails("list_zohobigin_related_records", map[string]any{"module": "Contacts", "id": contact, "related": "Accounts"})
	assert.Equal(t, "invalid_argument", codeOf(out))
	assert.Contains(t, text, "related must be one of Notes, Pipelines, Products, Tasks, Events, Calls for a Contacts record")
	text, out = r.fails("list_zohobigin_related_records", map[string]any{"module": "Accounts", "id": deal, "related": "Notes"})
	assert.Equal(t, "INVALID_DATA", codeOf(out))
	assert.Contains(t, text, "No record of this module has id "+deal)
}

func TestWriteRecords(t *testing.T) {
	r := newRecords(t, nil)
	existing := r.record("Contacts", r.sb.RecordIDs("Contacts")[0])

	t.Run("per-record outcomes in input order", func(t *testing.T) {
		out := r.ok("create_zohobigin_records", map[string]any{"module": "Contacts", "records": []any{
			map[string]any{"Last_Name": "Okafor", "First_Name": "Ada", "Email": "ada.okafor@new.example"},
			map[string]any{"First_Name": "NoLastName"},
			map[string]any{"Last_Name": "Twin", "Email": existing["Email"]},
			map[string]any{"Last_Name": "Typo", "Email": "not-an-email"},
		}})
		res := resultList(t, out)
		require.Len(t, res, 4)
		assert.Equal(t, "success", res[0]["status"])
		assert.Equal(t, "Okafor", r.record("Contacts", res[0]["id"].(string))["Last_Name"])
		assert.Equal(t, map[string]any{"index": float64(1), "status": "error", "code": "MANDATORY_NOT_FOUND", "message": "required field not found", "field": "Last_Name"}, res[1])
		assert.Equal(t, map[string]any{"index": float64(2), "status": "error", "code": "DUPLICATE_DATA", "message": "duplicate data", "field": "Email",
			"existing_id": existing["id"]}, res[2], "the existing record's id, to update instead")
		assert.Equal(t, "INVALID_DATA", res[3]["code"])
		assert.Equal(t, "Email", res[3]["field"])
	})
	t.Run("every record failed", func(t *testing.T) {
		text, out := r.fails("create_zohobigin_records", map[string]any{"module": "Contacts", "records": []any{
			map[string]any{"Last_Name": "Again", "Email": existing["Email"]},
		}})
		assert.Equal(t, "DUPLICATE_DATA", codeOf(out))
		assert.Equal(t, existing["id"], resultList(t, out)[0]["existing_id"])
		assert.Contains(t, text, "update it with update_zohobigin_records instead")
		assert.Contains(t, text, "Record 0: DUPLICATE_DATA duplicate data (field Email); existing record "+existing["id"].(string)+".")
	})
	t.Run("move a deal's stage", func(t *testing.T) {
		deal := r.record("Pipelines", r.sb.RecordIDs("Pipelines")[2])
		var stages []string
		for _, tp := range r.sb.TeamPipelines() {
			for _, sp := range tp.SubPipelines {
				if sp.Name == deal["Sub_Pipeline"] {
					stages = sp.Stages
				}
			}
		}
		next := stages[(slices.Index(stages, deal["Stage"].(string))+1)%len(stages)]
		res := resultList(t, r.ok("update_zohobigin_records", map[string]any{"module": "Pipelines", "records": []any{
			map[string]any{"id": deal["id"], "Stage": next},
			map[string]any{"id": "999999999999999999", "Stage": next},
		}}))
		assert.Equal(t, "success", res[0]["status"])
		assert.Equal(t, deal["id"], res[0]["id"])
		assert.Equal(t, next, r.record("Pipelines", deal["id"].(string))["Stage"])
		assert.Equal(t, "INVALID_DATA", res[1]["code"])
	})
	t.Run("an update without ids is refused before Zoho", func(t *testing.T) {
		before := len(r.sb.APIRequests())
		text, out := r.fails("update_zohobigin_records", map[string]any{"module": "Contacts", "records": []any{map[string]any{"Last_Name": "X"}}})
		assert.Equal(t, "invalid_argument", codeOf(out))
		assert.Contains(t, text, "records must be an array whose items are each an object with id; item 0 is not (it has no id)")
		assert.Len(t, r.sb.APIRequests(), before)
	})
	t.Run("delete", func(t *testing.T) {
		created := resultList(t, r.ok("create_zohobigin_records", map[string]any{"module": "Tasks", "records": []any{
			map[string]any{"Subject": "One"}, map[string]any{"Subject": "Two"},
		}}))
		ids := []string{created[0]["id"].(string), created[1]["id"].(string)}
		res := resultList(t, r.ok("delete_zohobigin_records_by_ids", map[string]any{"module": "Tasks", "ids": ids}))
		assert.Equal(t, []string{"success", "success"}, []string{res[0]["status"].(string), res[1]["status"].(string)})
		assert.Equal(t, ids, idsOf(res))
		_, still := r.sb.Record("Tasks", ids[0])
		assert.False(t, still)
		_, out := r.fails("delete_zohobigin_records_by_ids", map[string]any{"module": "Tasks", "ids": ids})
		assert.Equal(t, "INVALID_DATA", codeOf(out), "deleting them again fails for each")
	})
	t.Run("add a note", func(t *testing.T) {
		deal := r.sb.RecordIDs("Pipelines")[4]
		res := resultList(t, r.ok("add_zohobigin_note", map[string]any{"module": "Pipelines", "record_id": deal, "title": "Call", "content": "They said yes."}))
		require.Len(t, res, 1)
		assert.Equal(t, "success", res[0]["status"])
		notes := r.walk("list_zohobigin_related_records", map[string]any{"module": "Pipelines", "id": deal, "related": "Notes"})
		i := slices.Index(idsOf(notes), res[0]["id"].(string))
		require.GreaterOrEqual(t, i, 0, "the note is among the deal's notes")
		assert.Equal(t, "They said yes.", notes[i]["Note_Content"])

		_, out := r.fails("add_zohobigin_note", map[string]any{"module": "Pipelines", "record_id": "999999999999999999", "content": "x"})
		assert.Equal(t, "INVALID_DATA", codeOf(out))
	})
}

// A URL's modules narrow every record tool's module enum and are
// enforced at call time; a read-only URL has no record writes.
func TestRecordPolicy(t *testing.T) {
	r := newRecords(t, map[string]any{"modules": []string{"Contacts"}})
	res, err := r.cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		var schema struct {
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
		}
		require.NoError(t, json.Unmarshal([]byte(mustJSON(t, tool.InputSchema)), &schema))
		if m, ok := schema.Properties["module"]; ok {
			assert.Equal(t, []string{"Contacts"}, m.Enum, tool.Name)
		}
	}
	assert.ElementsMatch(t, apptest.AllTools(), names, "Contacts has related lists and notes: every tool is offered")
	instructions := r.cs.InitializeResult().Instructions
	assert.Contains(t, instructions, "Record tools act only on these modules: Contacts.")
	assert.Contains(t, instructions, "This URL can change data")

	before := len(r.sb.APIRequests())
	for _, c := range []struct {
		tool string
		args map[string]any
		not  string
	}{
		{"list_zohobigin_records", map[string]any{"module": "Accounts"}, "Accounts"},
		{"create_zohobigin_records", map[string]any{"module": "Pipelines", "records": []any{map[string]any{"Deal_Name": "x"}}, "idempotency_key": "k"}, "Pipelines"},
		{"list_zohobigin_related_records", map[string]any{"module": "Contacts", "id": "1", "related": "Pipelines"}, "Pipelines"},
		{"query_zohobigin_records", map[string]any{"select_query": "select Account_Name from Accounts where id is not null"}, "Accounts"},
		{"query_zohobigin_records", map[string]any{"select_query": "SELECT Account_Name FROM accounts"}, "Accounts"},
	} {
		text, out := r.fails(c.tool, c.args)
		assert.Equal(t, "module_not_allowed", codeOf(out), c.tool)
		assert.Contains(t, text, "This MCP URL does not allow the "+c.not+" module: its tools act only on Contacts; nothing was sent to Zoho.", c.tool)
	}
	assert.Len(t, r.sb.APIRequests(), before, "nothing reached Zoho")
	rows := resultList(t, r.ok("query_zohobigin_records", map[string]any{"select_query": "select Last_Name from Contacts limit 2"}))
	assert.Len(t, rows, 2)
	notes := r.ok("list_zohobigin_related_records", map[string]any{"module": "Contacts", "id": r.sb.RecordIDs("Contacts")[0], "related": "Notes"})
	assert.Contains(t, notes, "result", "a record's notes belong to its module")

	read := newRecords(t, map[string]any{"methods": []string{"read"}})
	assert.ElementsMatch(t, apptest.ReadTools(), apptest.ToolNames(t, read.cs))
	assert.Contains(t, read.cs.InitializeResult().Instructions, "This URL is read-only")
	_, err = read.cs.CallTool(context.Background(), &sdk.CallToolParams{Name: "create_zohobigin_records",
		Arguments: map[string]any{"module": "Contacts", "records": []any{map[string]any{"Last_Name": "x"}}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown tool")

	tasks := newRecords(t, map[string]any{"modules": []string{"Tasks"}, "tags": []string{"records"}})
	assert.ElementsMatch(t, []string{"describe_zohobigin_module", "list_zohobigin_records", "get_single_zohobigin_record_by_id", "search_zohobigin_records",
		"query_zohobigin_records", "create_zohobigin_records", "update_zohobigin_records", "delete_zohobigin_records_by_ids"},
		apptest.ToolNames(t, tasks.cs), "Tasks have no related lists or notes")
}

// An account connected before the record tools lacks their scopes: its
// record tools say to reconnect it, and nothing else of it changes.
func TestRecordToolsNeedTheRecordScopes(t *testing.T) {
	e := newEnv(t)
	sb := e.Sandboxes["us"]
	acct := e.ConnectAccountWithScopes("us", sandbox.DirectoryScopes()...)
	_, url := e.MintURL(acct, nil)
	cs := e.MustConnect(url, "streamable")
	refreshes := sb.RefreshCount()
	for _, c := range []struct {
		tool  string
		args  map[string]any
		scope string
	}{
		{"list_zohobigin_records", map[string]any{"module": "Contacts"}, "ZohoBigin.modules.ALL"},
		{"describe_zohobigin_module", map[string]any{"module": "Contacts"}, "ZohoBigin.settings.ALL"},
		{"query_zohobigin_records", map[string]any{"select_query": "select Last_Name from Contacts"}, "ZohoBigin.coql.READ"},
	} {
		res, out := apptest.CallTool(t, cs, c.tool, c.args)
		require.True(t, res.IsError, c.tool)
		assert.Equal(t, "scope_missing", codeOf(out), c.tool)
		text := res.Content[0].(*sdk.TextContent).Text
		assert.Contains(t, text, "this Bigin account was connected without an OAuth scope "+c.tool+" needs", c.tool)
		assert.Contains(t, text, c.scope, c.tool)
		assert.Contains(t, text, fmt.Sprintf(`make a reconnect link for the account (POST /admin/connect-links with {"account_id": "%s"}`, acct), c.tool)
	}
	assert.Equal(t, refreshes, sb.RefreshCount(), "a missing scope is not an expired token")
	got := e.AdminCall("GET", "/admin/integrated-accounts/"+acct, nil, http.StatusOK)
	assert.Equal(t, "active", got["status"])
	res, _ := apptest.CallTool(t, cs, "list_all_zohobigin_me", nil)
	assert.False(t, res.IsError, "the directory tools keep working")
}

// Zoho's answers the model must act on come back as tool errors with
// their retry hints.
func TestRecordToolsZohoFaults(t *testing.T) {
	r := newRecords(t, nil)
	r.sb.FailNext(1, sandbox.RateLimited)
	text, out := r.fails("list_zohobigin_records", map[string]any{"module": "Contacts"})
	assert.Equal(t, "TOO_MANY_REQUESTS", codeOf(out))
	assert.Equal(t, float64(30), out["error"].(map[string]any)["retry_after_seconds"])
	assert.Contains(t, text, "The server did not retry.")

	r.sb.FailNext(1, sandbox.InternalError)
	text, out = r.fails("create_zohobigin_records", map[string]any{"module": "Contacts", "records": []any{map[string]any{"Last_Name": "Lost"}}})
	assert.Equal(t, "INTERNAL_ERROR", codeOf(out))
	assert.Contains(t, text, "whether it happened is not known: look the records up")
	assert.Equal(t, 1, r.zohoCalls(http.MethodPost, "/bigin/v2/Contacts"), "a create is never retried by the server")
}

// A create retried with its idempotency_key reaches Zoho once.
func TestIdempotentWrites(t *testing.T) {
	r := newRecords(t, nil)
	create := map[string]any{"module": "Contacts", "records": []any{map[string]any{"Last_Name": "Once", "Email": "once@new.example"}}, "idempotency_key": "create-once-1"}
	first := r.ok("create_zohobigin_records", create)
	again := r.ok("create_zohobigin_records", map[string]any{"idempotency_key": "create-once-1", "records": []any{map[string]any{"Email": "once@new.example", "Last_Name": "Once"}}, "module": "Contacts"})
	assert.Equal(t, first, again, "the first call's result")
	assert.Equal(t, 1, r.zohoCalls(http.MethodPost, "/bigin/v2/Contacts"), "Zoho saw one create")

	text, out := r.fails("create_zohobigin_records", maps(create, "records", []any{map[string]any{"Last_Name": "Other"}}))
	assert.Equal(t, "idempotency_key_reused", codeOf(out))
	assert.Contains(t, text, "used in the last 24 hours for a call with other arguments")
	_, out = r.fails("add_zohobigin_note", map[string]any{"module": "Contacts", "record_id": r.sb.RecordIDs("Contacts")[0], "content": "x", "idempotency_key": "create-once-1"})
	assert.Equal(t, "idempotency_key_reused", codeOf(out), "another tool")
	assert.Equal(t, 1, r.zohoCalls(http.MethodPost, "/bigin/v2/Contacts"))

	// A write every record of which failed is an outcome too.
	dup := map[string]any{"module": "Contacts", "records": []any{map[string]any{"Last_Name": "Dup", "Email": "once@new.example"}}, "idempotency_key": "dup-1"}
	text1, out1 := r.fails("create_zohobigin_records", dup)
	text2, out2 := r.fails("create_zohobigin_records", dup)
	assert.Equal(t, text1, text2)
	assert.Equal(t, out1, out2)
	assert.Equal(t, 2, r.zohoCalls(http.MethodPost, "/bigin/v2/Contacts"))

	// Zoho refused the call as a whole: nothing was written, so a retry
	// with the key writes.
	r.sb.FailNext(1, sandbox.RateLimited)
	note := map[string]any{"module": "Contacts", "record_id": r.sb.RecordIDs("Contacts")[1], "content": "Met at the fair.", "idempotency_key": "note-1"}
	_, out = r.fails("add_zohobigin_note", note)
	assert.Equal(t, "TOO_MANY_REQUESTS", codeOf(out))
	r.ok("add_zohobigin_note", note)
	r.ok("add_zohobigin_note", note)
	assert.Equal(t, 2, r.zohoCalls(http.MethodPost, "/Notes"), "the refused call and the one that wrote")

	// Another URL has keys of its own.
	_, url := r.MintURL(r.acct, nil)
	other := r.MustConnect(url, "streamable")
	res, _ := apptest.CallTool(t, other, "create_zohobigin_records", maps(create, "records", []any{map[string]any{"Last_Name": "Elsewhere"}}))
	assert.False(t, res.IsError)
	assert.Equal(t, 3, r.zohoCalls(http.MethodPost, "/bigin/v2/Contacts"))
}

// Writes spend the URL's rate limit like reads; a replayed outcome does
// not reach Zoho and spends nothing.
func TestWritesCountAgainstRateLimits(t *testing.T) {
	r := newRecords(t, map[string]any{"rate_limit": map[string]any{"requests": 2, "per_seconds": 60}})
	create := map[string]any{"module": "Tasks", "records": []any{map[string]any{"Subject": "Limited"}}, "idempotency_key": "limited"}
	r.ok("create_zohobigin_records", create)
	r.ok("create_zohobigin_records", create)
	r.ok("update_zohobigin_records", map[string]any{"module": "Tasks", "records": []any{map[string]any{"id": r.sb.RecordIDs("Tasks")[0], "Subject": "Renamed"}}})
	_, out := r.fails("delete_zohobigin_records_by_ids", map[string]any{"module": "Tasks", "ids": []string{r.sb.RecordIDs("Tasks")[0]}})
	assert.Equal(t, "rate_limited", codeOf(out))
	assert.Equal(t, 0, r.zohoCalls(http.MethodDelete, "/bigin/v2/Tasks"))

	// The account's limit counts them too, across its URLs.
	acct := newRecords(t, nil)
	acct.AdminCall("PATCH", "/admin/integrated-accounts/"+acct.acct, map[string]any{"rate_limit": map[string]any{"requests": 2, "per_seconds": 60}}, http.StatusOK)
	acct.ok("create_zohobigin_records", map[string]any{"module": "Tasks", "records": []any{map[string]any{"Subject": "Counted"}}})
	acct.ok("update_zohobigin_records", map[string]any{"module": "Tasks", "records": []any{map[string]any{"id": acct.sb.RecordIDs("Tasks")[0], "Subject": "Renamed"}}})
	text, out := acct.fails("delete_zohobigin_records_by_ids", map[string]any{"module": "Tasks", "ids": []string{acct.sb.RecordIDs("Tasks")[0]}})
	assert.Equal(t, "rate_limited", codeOf(out))
	assert.Contains(t, text, "this Bigin account's")
	assert.Equal(t, 0, acct.zohoCalls(http.MethodDelete, "/bigin/v2/Tasks"))
}

// The conversation docs/mcp.md shows, against the same seeded org.
func TestTheDocumentedConversation(t *testing.T) {
	r := newRecords(t, nil)
	const deal = "315674000003000661"
	found := resultList(t, r.ok("search_zohobigin_records", map[string]any{"module": "Pipelines", "word": "Atlas Farms"}))
	i := slices.Index(idsOf(found), deal)
	require.GreaterOrEqual(t, i, 0, "the search finds the deal: %v", idsOf(found))
	assert.Equal(t, "Atlas Farms Ltd - Annual renewal", found[i]["Deal_Name"])
	assert.Equal(t, "Proposal/Price Quote", found[i]["Stage"])
	assert.Equal(t, "Sales Pipeline Standard", found[i]["Sub_Pipeline"])

	var stages []any
	for _, p := range r.ok("describe_zohobigin_module", map[string]any{"module": "Pipelines"})["result"].(map[string]any)["pipelines"].([]any) {
		for _, sp := range p.(map[string]any)["sub_pipelines"].([]any) {
			if sp.(map[string]any)["name"] == "Sales Pipeline Standard" {
				stages = sp.(map[string]any)["stages"].([]any)
			}
		}
	}
	assert.Equal(t, []any{"Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"}, stages)

	updated := resultList(t, r.ok("update_zohobigin_records", map[string]any{"module": "Pipelines", "records": []any{map[string]any{"id": deal, "Stage": "Negotiation/Review"}}}))
	assert.Equal(t, []map[string]any{{"index": float64(0), "id": deal, "status": "success", "code": "SUCCESS", "message": "record updated"}}, updated)
	noted := resultList(t, r.ok("add_zohobigin_note", map[string]any{"module": "Pipelines", "record_id": deal, "title": "Next steps",
		"content": "Wants the revised quote by Friday.", "idempotency_key": "atlas-quote-note"}))
	require.Len(t, noted, 1)
	assert.Equal(t, "record added", noted[0]["message"])
	assert.Equal(t, "Negotiation/Review", r.record("Pipelines", deal)["Stage"])
}

// The audit keeps the tool, the module and ids of a record call, and of
// its records only how many; never their contents, search terms or
// queries, in the log or the audit.
func TestRecordCallsAreAuditedWithoutContents(t *testing.T) {
	r := newRecords(t, nil)
	r.ok("create_zohobigin_records", map[string]any{"module": "Contacts", "idempotency_key": "audit-key",
		"records": []any{map[string]any{"Last_Name": "Confidential", "Email": "confidential@secret.example"}}})
	r.ok("search_zohobigin_records", map[string]any{"module": "Contacts", "email": "confidential@secret.example"})
	r.ok("query_zohobigin_records", map[string]any{"select_query": "select Email from Contacts where Last_Name = 'Confidential'"})
	r.App.Flush()
	entries, _, err := r.Store.Audit(context.Background(), "", 3)
	require.NoError(t, err)
	require.Len(t, entries, 3)
	type row struct {
		Tool string
		Args map[string]any
	}
	var got []row
	for _, e := range entries {
		got = append(got, row{e.Tool, e.Args})
		assert.NotContains(t, mustJSON(t, e), "onfidential", "no record content, search term or query in the audit")
	}
	assert.Equal(t, []row{
		{"query_zohobigin_records", map[string]any{"module": "Contacts"}},
		{"search_zohobigin_records", map[string]any{"module": "Contacts"}},
		{"create_zohobigin_records", map[string]any{"module": "Contacts", "records": float64(1), "idempotency_key": true}},
	}, got)
}

// COQL reads a lookup's record by dot notation, in SELECT, WHERE and
// ORDER BY: on a URL limited to some modules, a query may follow a lookup
// only into a module the URL allows, whatever the FROM.
func TestQueryLookupsKeepToTheURLsModules(t *testing.T) {
	r := newRecords(t, map[string]any{"modules": []string{"Contacts"}})
	for _, c := range []struct{ query, column, module string }{
		{"select Last_Name, Account_Name.Phone from Contacts where id is not null", "Account_Name.Phone", "Accounts"},
		{"select Last_Name from Contacts where Account_Name.Account_Name like '%a%'", "Account_Name.Account_Name", "Accounts"},
		{"select Last_Name from Contacts where id is not null order by Account_Name.Phone desc limit 5", "Account_Name.Phone", "Accounts"},
		{"select Last_Name, 'Account_Name.Phone' from Contacts where id is not null", "Account_Name.Phone", "Accounts"},
		{"select Last_Name from Contacts where \"Account_Name\".Website is not null", "Account_Name.Website", "Accounts"},
		{"select Last_Name, account_name . phone from Contacts", "account_name.phone", "Accounts"},
	} {
		text, out := r.fails("query_zohobigin_records", map[string]any{"select_query": c.query})
		assert.Equal(t, "module_not_allowed", codeOf(out), c.query)
		assert.Contains(t, text, "This MCP URL does not allow the "+c.module+" module, which the query's column "+c.column+" reads through a lookup", c.query)
		assert.Contains(t, text, "its tools act only on Contacts", c.query)
	}
	for _, c := range []struct{ query, text string }{
		{"select Last_Name, Owner.email from Contacts where id is not null", "the query's column Owner.email does not follow a lookup to one of them"},
		{"select Last_Name from Contacts where Account_Name in (select id from Accounts where Phone like '5%')",
			"This MCP URL does not allow the Accounts module: its tools act only on Contacts"},
	} {
		text, out := r.fails("query_zohobigin_records", map[string]any{"select_query": c.query})
		assert.Equal(t, "module_not_allowed", codeOf(out), c.query)
		assert.Contains(t, text, c.text, c.query)
	}
	assert.Zero(t, r.zohoCalls(http.MethodPost, "/coql"), "no refused query reached Zoho")

	// Values with dots, and a lookup's own id, stay the module's.
	rows := resultList(t, r.ok("query_zohobigin_records", map[string]any{
		"select_query": "select Last_Name, Email, Account_Name from Contacts where Email like '%.%' and Account_Name is not null limit 3"}))
	require.Len(t, rows, 3)
	assert.Equal(t, []string{"Account_Name", "Email", "Last_Name", "id"}, keys(rows[0]))

	both := newRecords(t, map[string]any{"modules": []string{"Contacts", "Accounts"}})
	rows = resultList(t, both.ok("query_zohobigin_records", map[string]any{
		"select_query": "select Last_Name, Account_Name.Account_Name from Contacts where Account_Name.Account_Name is not null order by Account_Name.Phone limit 3"}))
	require.Len(t, rows, 3)
	assert.NotEmpty(t, rows[0]["Account_Name.Account_Name"], "a lookup into an allowed module")

	all := newRecords(t, nil)
	rows = resultList(t, all.ok("query_zohobigin_records", map[string]any{
		"select_query": "select Last_Name, Account_Name.Phone from Contacts where Account_Name is not null limit 2"}))
	require.Len(t, rows, 2)
	assert.Zero(t, all.zohoCalls(http.MethodGet, "/settings/fields"), "a URL with every module reads no metadata for a query")
}
