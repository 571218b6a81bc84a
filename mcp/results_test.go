package mcp_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"unicode/utf8"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/internal/catalog"
)

// Results sized for the model: a list page ends at limit records or at the
// result budget (characters of the text a model reads), whichever comes
// first, and next_cursor continues right after the last record returned.

// textPage is one page as the model reads it: the text block, and the
// records as the exact bytes the text holds.
type textPage struct {
	text    string
	records []json.RawMessage
	next    string
}

func callPage(t *testing.T, cs *sdk.ClientSession, tool string, args map[string]any) textPage {
	t.Helper()
	res, out := apptest.CallTool(t, cs, tool, args)
	require.False(t, res.IsError, "%v", out)
	p := textPage{text: textOf(res)}
	var body struct {
		Result     []json.RawMessage `json:"result"`
		NextCursor *string           `json:"next_cursor"`
	}
	require.NoError(t, json.Unmarshal([]byte(p.text), &body))
	p.records = body.Result
	if body.NextCursor != nil {
		p.next = *body.NextCursor
	}
	return p
}

// walk follows next_cursor from args to the end and returns every page.
func walk(t *testing.T, cs *sdk.ClientSession, tool string, args map[string]any) []textPage {
	t.Helper()
	var pages []textPage
	for {
		require.Less(t, len(pages), 400, "paging must end")
		p := callPage(t, cs, tool, args)
		pages = append(pages, p)
		if p.next == "" {
			return pages
		}
		args = copyArgs(args)
		args["next_cursor"] = p.next
	}
}

func recordIDs(t *testing.T, pages []textPage) []string {
	t.Helper()
	var ids []string
	for _, p := range pages {
		for _, r := range p.records {
			var rec struct {
				ID string `json:"id"`
			}
			require.NoError(t, json.Unmarshal(r, &rec))
			ids = append(ids, rec.ID)
		}
	}
	return ids
}

// assertBudgetCuts checks every page against the budget: a page is within
// it unless it holds a single record, and a page that ends before limit
// and before the last page ends because the next record would not fit.
func assertBudgetCuts(t *testing.T, pages []textPage, budget, limit int) {
	t.Helper()
	for i, p := range pages {
		chars := utf8.RuneCountInString(p.text)
		if len(p.records) > 1 {
			assert.LessOrEqual(t, chars, budget, "page %d holds %d records in %d characters", i, len(p.records), chars)
		}
		if i+1 < len(pages) && len(p.records) < limit {
			next := pages[i+1].records[0]
			assert.Greater(t, chars+1+utf8.RuneCount(next), budget, "page %d was cut short of limit although the next record fits", i)
		}
	}
}

func TestDefaultCallFitsTheBudgetAndPagesEveryUserOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sb := e.Sandboxes["us"]
	acct := e.ConnectAccount("us")
	_, url := e.MintURL(acct, map[string]any{})
	cs := e.MustConnect(url, "streamable")
	all := sb.UserIDs("AllUsers")
	require.Len(t, all, sandbox.DefaultUsers)

	first := callPage(t, cs, "list_all_zohobigin_users", nil)
	chars := utf8.RuneCountInString(first.text)
	assert.LessOrEqual(t, chars, catalog.DefaultMaxResultChars, "the default call fits the default budget")
	assert.Greater(t, chars, catalog.DefaultMaxResultChars*9/10, "and fills most of it")
	assert.Less(t, len(first.records), 100, "full user records cut the default page short of limit")
	require.NotEmpty(t, first.next)
	t.Logf("default call: %d records, %d characters", len(first.records), chars)

	pages := walk(t, cs, "list_all_zohobigin_users", map[string]any{})
	assert.Equal(t, all, recordIDs(t, pages), "every user once, in Zoho's order")
	assertBudgetCuts(t, pages, catalog.DefaultMaxResultChars, 100)
	assert.Equal(t, first.text, pages[0].text)

	t.Run("records are Zoho's bytes", func(t *testing.T) {
		u, ok := sb.User(all[0])
		require.True(t, ok)
		want, err := json.Marshal(u)
		require.NoError(t, err)
		assert.JSONEq(t, string(want), string(first.records[0]))
	})
	t.Run("limit stays a maximum", func(t *testing.T) {
		pages := walk(t, cs, "list_all_zohobigin_users", map[string]any{"limit": 13, "type": "ActiveUsers"})
		assert.Equal(t, sb.UserIDs("ActiveUsers"), recordIDs(t, pages))
		for _, p := range pages[:len(pages)-1] {
			assert.Len(t, p.records, 13, "small pages are not cut")
		}
	})
}

func TestFieldsShrinkRecordsAndStillPageThroughAll(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sb := e.Sandboxes["us"]
	acct := e.ConnectAccount("us")
	_, url := e.MintURL(acct, map[string]any{})
	cs := e.MustConnect(url, "streamable")
	overview := []any{"status", "full_name", "email", "role", "profile"}

	pages := walk(t, cs, "list_all_zohobigin_users", map[string]any{"fields": overview})
	assert.Equal(t, sb.UserIDs("AllUsers"), recordIDs(t, pages))
	require.Len(t, pages, 3, "compact records fill pages to limit: 100, 100, 60")
	assert.Len(t, pages[0].records, 100)
	assert.LessOrEqual(t, utf8.RuneCountInString(pages[0].text), catalog.DefaultMaxResultChars)
	t.Logf("default call with an overview set of fields: %d records, %d characters", len(pages[0].records), utf8.RuneCountInString(pages[0].text))
	for _, r := range pages[0].records {
		var rec map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(r, &rec))
		keys := make([]string, 0, len(rec))
		for k := range rec {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		require.Equal(t, []string{"email", "full_name", "id", "profile", "role", "status"}, keys, "only the fields asked, and id")
	}
	var rec struct {
		ID       string `json:"id"`
		FullName string `json:"full_name"`
		Role     struct{ Name, ID string }
	}
	require.NoError(t, json.Unmarshal(pages[0].records[1], &rec))
	u, ok := sb.User(rec.ID)
	require.True(t, ok)
	assert.Equal(t, u.FullName, rec.FullName)
	assert.Equal(t, u.Role.ID, rec.Role.ID)

	t.Run("get one user's fields", func(t *testing.T) {
		id := sb.UserIDs("ActiveUsers")[3]
		_, out := apptest.CallTool(t, cs, "get_single_zohobigin_user_by_id", map[string]any{"id": id, "fields": []any{"email", "Modified_Time"}})
		u, ok := sb.User(id)
		require.True(t, ok)
		assert.Equal(t, map[string]any{"id": id, "email": u.Email, "Modified_Time": u.ModifiedTime}, out["result"])
	})
	// Bad arguments are tool results the model can correct itself from.
	t.Run("unknown field names the valid ones", func(t *testing.T) {
		for tool, args := range map[string]map[string]any{
			"list_all_zohobigin_users":        {"fields": []any{"email", "modified_time"}},
			"get_single_zohobigin_user_by_id": {"id": "1", "fields": []any{"email", "modified_time"}},
		} {
			res, out := apptest.CallTool(t, cs, tool, args)
			require.True(t, res.IsError, tool)
			e := out["error"].(map[string]any)
			assert.Equal(t, "invalid_argument", e["code"], tool)
			msg := e["message"].(string)
			assert.Contains(t, msg, `unknown field "modified_time" in fields`, tool)
			assert.Contains(t, msg, "valid fields: id, zuid, first_name, last_name, full_name, email, role, profile, status, confirm, Isonline, created_time, Modified_Time,", tool)
		}
	})
	t.Run("empty fields is refused", func(t *testing.T) {
		res, out := apptest.CallTool(t, cs, "list_all_zohobigin_users", map[string]any{"fields": []any{}})
		require.True(t, res.IsError)
		assert.Equal(t, "invalid_argument", out["error"].(map[string]any)["code"])
	})
	t.Run("the cursor is bound to fields", func(t *testing.T) {
		first := callPage(t, cs, "list_all_zohobigin_users", map[string]any{"limit": 10, "fields": []any{"email", "full_name"}})
		require.NotEmpty(t, first.next)
		for name, fields := range map[string]any{
			"other fields": []any{"email"},
			"no fields":    nil,
			"more fields":  []any{"email", "full_name", "status"},
		} {
			args := map[string]any{"limit": 10, "next_cursor": first.next}
			if fields != nil {
				args["fields"] = fields
			}
			res, out := apptest.CallTool(t, cs, "list_all_zohobigin_users", args)
			require.True(t, res.IsError, name)
			assert.Equal(t, "invalid_cursor", out["error"].(map[string]any)["code"], name)
		}
		same := []any{"full_name", "email", "id", "email"} // the same set, asked differently
		second := callPage(t, cs, "list_all_zohobigin_users", map[string]any{"limit": 10, "fields": same, "next_cursor": first.next})
		assert.Equal(t, sb.UserIDs("AllUsers")[10:20], recordIDs(t, []textPage{second}))
	})
}

func TestBudgetSmallerThanARecordReturnsOnePerPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sb := e.Sandboxes["us"]
	acct := e.ConnectAccount("us")
	_, url := e.MintURL(acct, map[string]any{"max_result_chars": 500})
	cs := e.MustConnect(url, "streamable")

	deleted := sb.UserIDs("DeletedUsers")
	require.Greater(t, len(deleted), 2)
	pages := walk(t, cs, "list_all_zohobigin_users", map[string]any{"type": "DeletedUsers"})
	assert.Equal(t, deleted, recordIDs(t, pages))
	for i, p := range pages {
		require.Len(t, p.records, 1, "page %d", i)
		assert.Greater(t, utf8.RuneCountInString(p.text), 500, "a record larger than the budget comes alone rather than never")
	}

	t.Run("roles and profiles too", func(t *testing.T) {
		for tool, n := range map[string]int{"list_all_zohobigin_roles": len(sb.Roles()), "list_all_zohobigin_profiles": len(sb.Profiles())} {
			pages := walk(t, cs, tool, nil)
			assert.Len(t, recordIDs(t, pages), n, tool)
			assertBudgetCuts(t, pages, 500, 100)
		}
	})
	t.Run("cuts inside Zoho's pages visit every user once", func(t *testing.T) {
		// About six compact records fit in 500 characters, so pages end
		// inside Zoho's pages of 40 and the next call reads on across
		// Zoho's page boundary.
		args := map[string]any{"limit": 40, "fields": []any{"full_name"}}
		pages := walk(t, cs, "list_all_zohobigin_users", args)
		assert.Equal(t, sb.UserIDs("AllUsers"), recordIDs(t, pages))
		assertBudgetCuts(t, pages, 500, 40)
		assert.Greater(t, len(pages), 30)
	})
}

func TestURLBudgetOverridesTheServers(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.MaxResultChars = 10_000 }})
	acct := e.ConnectAccount("us")
	srvID, url := e.MintURL(acct, map[string]any{})
	cs := e.MustConnect(url, "streamable")

	small := callPage(t, cs, "list_all_zohobigin_users", nil)
	assert.LessOrEqual(t, utf8.RuneCountInString(small.text), 10_000, "the server's budget")
	assert.Greater(t, utf8.RuneCountInString(small.text), 9_000)

	// A budget changed mid-way keeps the cursor: it is a position, not a
	// page of a given size.
	e.AdminCall("PATCH", "/admin/integrated-accounts/"+acct+"/mcp/"+srvID, map[string]any{"config": map[string]any{"max_result_chars": 60_000}}, http.StatusOK)
	cs = e.MustConnect(url, "streamable")
	big := callPage(t, cs, "list_all_zohobigin_users", map[string]any{"next_cursor": small.next})
	chars := utf8.RuneCountInString(big.text)
	assert.LessOrEqual(t, chars, 60_000, "the URL's budget")
	assert.Greater(t, chars, 50_000)
	assert.Equal(t, e.Sandboxes["us"].UserIDs("AllUsers")[:len(small.records)+len(big.records)],
		recordIDs(t, []textPage{small, big}), "the next page starts right after the last record returned")
}
