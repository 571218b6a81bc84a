package sandbox_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

// rec is a record decoded for assertions.
type rec = map[string]any

// call sends a request with a JSON body ("" for none).
func (e *env) call(t testing.TB, method, path, token, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Zoho-oauthtoken "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return e.do(t, req)
}

// records decodes {"data":[…]}; a 204 is none.
func records(t testing.TB, a answer) []rec {
	t.Helper()
	if a.status == http.StatusNoContent {
		require.Empty(t, a.body)
		return nil
	}
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	var v struct {
		Data []rec `json:"data"`
	}
	require.NoError(t, json.Unmarshal(a.body, &v), string(a.body))
	return v.Data
}

// all reads every record of a module (or of another list path) with the
// fields, page after page, oldest first; extra is more of the query.
func (e *env) all(t testing.TB, at, path, fields string, extra ...string) []rec {
	t.Helper()
	var out []rec
	for page := 1; ; page++ {
		q := "sort_order=asc&per_page=200&page=" + strconv.Itoa(page) + "&fields=" + url.QueryEscape(fields)
		for _, x := range extra {
			q += "&" + x
		}
		a := e.call(t, "GET", "/bigin/v2/"+path+"?"+q, at, "")
		out = append(out, records(t, a)...)
		if a.status == http.StatusNoContent || !a.json(t)["info"].(map[string]any)["more_records"].(bool) {
			return out
		}
	}
}

// idsOf returns the records' ids.
func idsOf(rs []rec) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r["id"].(string)
	}
	return out
}

// where keeps the records ok accepts.
func where(rs []rec, ok func(rec) bool) []string {
	var out []string
	for _, r := range rs {
		if ok(r) {
			out = append(out, r["id"].(string))
		}
	}
	return out
}

func str(r rec, k string) string {
	s, _ := r[k].(string)
	return s
}

func num(r rec, k string) float64 {
	f, _ := r[k].(float64)
	return f
}

// refID is a lookup's id, "" when null.
func refID(r rec, k string) string {
	m, _ := r[k].(map[string]any)
	id, _ := m["id"].(string)
	return id
}

func refName(r rec, k string) string {
	m, _ := r[k].(map[string]any)
	n, _ := m["name"].(string)
	return n
}

// recordEnv is a sandbox and a token with every scope.
func recordEnv(t *testing.T) (*env, string) {
	t.Helper()
	e := start(t, sandbox.Options{Users: 40})
	return e, e.accessToken(t, e.sb.IssueRefreshToken())
}

func TestSeededRecords(t *testing.T) {
	e, at := recordEnv(t)
	counts := map[string]int{}
	for _, m := range append(sandbox.Modules(), sandbox.Notes) {
		counts[m] = len(e.sb.RecordIDs(m))
	}
	assert.GreaterOrEqual(t, counts[sandbox.Contacts], 300, "hundreds of contacts")
	assert.GreaterOrEqual(t, counts[sandbox.Accounts], 100, "hundreds of companies")
	assert.GreaterOrEqual(t, counts[sandbox.Pipelines], 200, "hundreds of deals")
	for _, m := range []string{sandbox.Products, sandbox.Tasks, sandbox.Events, sandbox.Calls, sandbox.Notes} {
		assert.Positive(t, counts[m], m)
	}

	t.Run("the same seed gives the same org", func(t *testing.T) {
		other := start(t, sandbox.Options{Users: 40})
		id := e.sb.RecordIDs(sandbox.Pipelines)[17]
		a, _ := e.sb.Record(sandbox.Pipelines, id)
		b, ok := other.sb.Record(sandbox.Pipelines, id)
		require.True(t, ok)
		assert.JSONEq(t, string(a), string(b))
		eu := start(t, sandbox.Options{Users: 40, Location: "eu"})
		c, _ := eu.sb.Record(sandbox.Pipelines, eu.sb.RecordIDs(sandbox.Pipelines)[17])
		assert.NotEqual(t, string(a), string(c), "another datacenter, another org")
	})

	t.Run("deals sit in a stage of their sub-pipeline and team pipeline", func(t *testing.T) {
		deals := e.all(t, at, sandbox.Pipelines, "Pipeline,Sub_Pipeline,Stage,Account_Name,Contact_Name")
		byPipeline := map[string]int{}
		for _, d := range deals {
			var sub *sandbox.SubPipeline
			for _, tp := range e.sb.TeamPipelines() {
				for i, sp := range tp.SubPipelines {
					if sp.Name == str(d, "Sub_Pipeline") {
						sub = &tp.SubPipelines[i]
						assert.Equal(t, tp.ID, refID(d, "Pipeline"))
						assert.Equal(t, tp.Name, refName(d, "Pipeline"))
					}
				}
			}
			require.NotNil(t, sub, "sub-pipeline %q", d["Sub_Pipeline"])
			assert.Contains(t, sub.Stages, str(d, "Stage"))
			assert.NotEmpty(t, refID(d, "Account_Name"))
			byPipeline[refID(d, "Pipeline")]++
		}
		require.Len(t, e.sb.TeamPipelines(), 2)
		for _, tp := range e.sb.TeamPipelines() {
			assert.Greater(t, byPipeline[tp.ID], 50, "both team pipelines hold deals")
			assert.Len(t, tp.SubPipelines, 2)
			assert.Equal(t, tp.Name+" Standard", tp.SubPipelines[0].Name, "the default sub-pipeline")
		}
	})

	t.Run("every note and activity points at a record that exists", func(t *testing.T) {
		for _, m := range []string{sandbox.Notes, sandbox.Tasks, sandbox.Calls} {
			for _, id := range e.sb.RecordIDs(m)[:40] {
				raw, ok := e.sb.Record(m, id)
				require.True(t, ok)
				var r rec
				require.NoError(t, json.Unmarshal(raw, &r))
				field := "Related_To"
				if m == sandbox.Notes {
					field = "Parent_Id"
				}
				se := str(r, "$se_module")
				_, exists := e.sb.Record(se, refID(r, field))
				assert.True(t, exists, "%s %s points at %s %s", m, id, se, refID(r, field))
			}
		}
	})
}

func TestListRecords(t *testing.T) {
	e, at := recordEnv(t)
	contacts := e.sb.RecordIDs(sandbox.Contacts)
	newestFirst := slices.Clone(contacts)
	slices.Reverse(newestFirst)

	t.Run("fields are required, 50 at most, and must be the module's", func(t *testing.T) {
		m := zohoError(t, e.call(t, "GET", "/bigin/v2/Contacts", at, ""), 400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing")
		assert.Equal(t, map[string]any{"param_name": "fields"}, m["details"])
		zohoError(t, e.call(t, "GET", "/bigin/v2/Contacts?fields=", at, ""), 400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing")
		many := strings.TrimSuffix(strings.Repeat("Last_Name,", 51), ",")
		zohoError(t, e.call(t, "GET", "/bigin/v2/Contacts?fields="+many, at, ""), 400, "LIMIT_EXCEEDED", "the number of fields exceeds the limit")
		fifty := strings.TrimSuffix(strings.Repeat("Last_Name,", 50), ",")
		assert.Equal(t, 200, e.call(t, "GET", "/bigin/v2/Contacts?fields="+fifty, at, "").status)
		m = zohoError(t, e.call(t, "GET", "/bigin/v2/Contacts?fields=Last_Name,Deal_Name", at, ""), 400, "INVALID_DATA", "invalid data")
		assert.Equal(t, "Deal_Name", m["details"].(map[string]any)["api_name"])
	})

	t.Run("only the fields asked for, and id", func(t *testing.T) {
		rs := records(t, e.call(t, "GET", "/bigin/v2/Contacts?fields=Last_Name,Account_Name&per_page=5", at, ""))
		require.Len(t, rs, 5)
		for _, r := range rs {
			assert.ElementsMatch(t, []string{"Last_Name", "Account_Name", "id"}, slices.Collect(maps.Keys(r)))
		}
		assert.Equal(t, newestFirst[:5], idsOf(rs), "Zoho's default order: id, newest first")
	})

	pages := []struct {
		name            string
		query           string
		want            []string
		page, perPage   int
		more            bool
		sortBy, sortBy2 string
	}{
		{"first page", "per_page=7", newestFirst[:7], 1, 7, true, "id", "desc"},
		{"third page", "per_page=7&page=3", newestFirst[14:21], 3, 7, true, "id", "desc"},
		{"last page", "per_page=200&page=2", newestFirst[200:min(400, len(contacts))], 2, 200, len(contacts) > 400, "id", "desc"},
		{"ascending", "per_page=3&sort_by=id&sort_order=asc", contacts[:3], 1, 3, true, "id", "asc"},
		{"per_page above 200 serves 200", "per_page=500", newestFirst[:200], 1, 200, true, "id", "desc"},
	}
	for _, tt := range pages {
		t.Run(tt.name, func(t *testing.T) {
			a := e.call(t, "GET", "/bigin/v2/Contacts?fields=Last_Name&"+tt.query, at, "")
			assert.Equal(t, tt.want, idsOf(records(t, a)))
			info := a.json(t)["info"].(map[string]any)
			assert.Equal(t, map[string]any{"per_page": float64(tt.perPage), "count": float64(len(tt.want)), "page": float64(tt.page),
				"more_records": tt.more, "sort_by": tt.sortBy, "sort_order": tt.sortBy2,
				"next_page_token": nil, "previous_page_token": nil, "page_token_expiry": nil}, info)
		})
	}

	t.Run("past the end is 204 with no body", func(t *testing.T) {
		a := e.call(t, "GET", "/bigin/v2/Contacts?fields=Last_Name&per_page=200&page=50", at, "")
		assert.Equal(t, http.StatusNoContent, a.status)
		assert.Empty(t, a.body)
	})

	t.Run("sorting by time", func(t *testing.T) {
		for _, by := range []string{"Created_Time", "Modified_Time"} {
			for _, order := range []string{"asc", "desc"} {
				rs := records(t, e.call(t, "GET", "/bigin/v2/Pipelines?fields="+by+"&per_page=200&sort_by="+by+"&sort_order="+order, at, ""))
				require.Len(t, rs, 200)
				assert.True(t, slices.IsSortedFunc(rs, func(a, b rec) int {
					c := strings.Compare(str(a, by), str(b, by))
					if order == "desc" {
						c = -c
					}
					return c
				}), "%s %s", by, order)
			}
		}
		zohoError(t, e.call(t, "GET", "/bigin/v2/Contacts?fields=Last_Name&sort_by=Last_Name", at, ""), 400, "INVALID_DATA", "invalid data")
		zohoError(t, e.call(t, "GET", "/bigin/v2/Contacts?fields=Last_Name&sort_order=up", at, ""), 400, "INVALID_DATA", "invalid data")
	})

	t.Run("pipeline_id lists one team pipeline", func(t *testing.T) {
		total := 0
		for _, tp := range e.sb.TeamPipelines() {
			rs := e.all(t, at, sandbox.Pipelines, "Pipeline", "pipeline_id="+tp.ID)
			require.NotEmpty(t, rs)
			for _, r := range rs {
				assert.Equal(t, tp.ID, refID(r, "Pipeline"))
			}
			total += len(rs)
		}
		assert.Equal(t, len(e.sb.RecordIDs(sandbox.Pipelines)), total)
		zohoError(t, e.call(t, "GET", "/bigin/v2/Pipelines?fields=Deal_Name&pipeline_id=123", at, ""), 400, "INVALID_DATA", "invalid data")
	})

	t.Run("get one record, all fields or some", func(t *testing.T) {
		id := contacts[5]
		rs := records(t, e.call(t, "GET", "/bigin/v1/Contacts/"+id, at, ""))
		require.Len(t, rs, 1)
		want, _ := e.sb.Record(sandbox.Contacts, id)
		got, _ := json.Marshal(rs[0])
		assert.JSONEq(t, string(want), string(got))
		for _, k := range []string{"Owner", "Last_Name", "Full_Name", "Email", "Created_Time", "Modified_By", "Description"} {
			assert.Contains(t, rs[0], k, "a whole record has every field, null or not")
		}
		rs = records(t, e.call(t, "GET", "/bigin/v2/Contacts/"+id+"?fields=Email", at, ""))
		assert.ElementsMatch(t, []string{"Email", "id"}, slices.Collect(maps.Keys(rs[0])))
		for _, bad := range []string{"123456789012345678", "abc", e.sb.RecordIDs(sandbox.Accounts)[0]} {
			m := zohoError(t, e.call(t, "GET", "/bigin/v2/Contacts/"+bad, at, ""), 400, "INVALID_DATA", "the id given seems to be invalid")
			assert.Equal(t, map[string]any{"resource_path_index": float64(1)}, m["details"])
		}
	})

	t.Run("module names are Zoho's, case and all", func(t *testing.T) {
		for _, p := range []string{"/bigin/v2/contacts?fields=Last_Name", "/bigin/v2/Deals?fields=Deal_Name", "/bigin/v2/Notes?fields=Note_Title", "/bigin/v2/Tasks/1/Notes", "/bigin/v2/Contacts/1/Notes/2"} {
			zohoError(t, e.call(t, "GET", p, at, ""), 404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one")
		}
		zohoError(t, e.call(t, "PATCH", "/bigin/v2/Contacts", at, ""), 400, "INVALID_REQUEST_METHOD", "The http request method type is not a valid one")
		zohoError(t, e.call(t, "POST", "/bigin/v2/Contacts/search", at, ""), 400, "INVALID_REQUEST_METHOD", "The http request method type is not a valid one")
	})
}

func TestRecordScopes(t *testing.T) {
	e := start(t, sandbox.Options{Users: 20})
	contact := e.sb.RecordIDs(sandbox.Contacts)[0]
	account := e.sb.RecordIDs(sandbox.Accounts)[0]
	calls := map[string]func(at string) answer{
		"list":          func(at string) answer { return e.call(t, "GET", "/bigin/v2/Contacts?fields=Last_Name", at, "") },
		"list accounts": func(at string) answer { return e.call(t, "GET", "/bigin/v2/Accounts?fields=Account_Name", at, "") },
		"get":           func(at string) answer { return e.call(t, "GET", "/bigin/v2/Contacts/"+contact, at, "") },
		"create": func(at string) answer {
			return e.call(t, "POST", "/bigin/v2/Contacts", at, `{"data":[{"Last_Name":"Scope"}]}`)
		},
		"delete": func(at string) answer { return e.call(t, "DELETE", "/bigin/v2/Contacts?ids=1", at, "") },
		"search": func(at string) answer { return e.call(t, "GET", "/bigin/v2/Contacts/search?word=a", at, "") },
		"coql": func(at string) answer {
			return e.call(t, "POST", "/bigin/v2/coql", at, `{"select_query":"select Last_Name from Contacts where id is not null limit 1"}`)
		},
		"coql accounts": func(at string) answer {
			return e.call(t, "POST", "/bigin/v2/coql", at, `{"select_query":"select Account_Name from Accounts where id is not null limit 1"}`)
		},
		"related": func(at string) answer {
			return e.call(t, "GET", "/bigin/v2/Accounts/"+account+"/Contacts?fields=Last_Name", at, "")
		},
		"notes": func(at string) answer {
			return e.call(t, "GET", "/bigin/v2/Contacts/"+contact+"/Notes?fields=Note_Content", at, "")
		},
		"add note": func(at string) answer {
			return e.call(t, "POST", "/bigin/v2/Contacts/"+contact+"/Notes", at, `{"data":[{"Note_Content":"x"}]}`)
		},
		"fields":  func(at string) answer { return e.call(t, "GET", "/bigin/v2/settings/fields?module=Contacts", at, "") },
		"layouts": func(at string) answer { return e.call(t, "GET", "/bigin/v2/settings/layouts?module=Pipelines", at, "") },
	}
	tests := []struct {
		name   string
		scopes []string
		ok     []string // the calls that pass the scope check; the rest get OAUTH_SCOPE_MISMATCH
	}{
		{"directory scopes only (an account connected before the record tools)", sandbox.DirectoryScopes(), nil},
		{"every scope", sandbox.Scopes(), slices.Collect(maps.Keys(calls))},
		{"read contacts", []string{"ZohoBigin.modules.contacts.READ"}, []string{"list", "get"}},
		{"one module's ALL, spelt as Zoho's team-pipeline page does", []string{"ZohoBigin.modules.Contacts.ALL"}, []string{"list", "get", "create", "delete"}},
		{"WRITE creates but does not delete", []string{"ZohoBigin.modules.contacts.WRITE"}, []string{"create"}},
		{"search needs Zoho's search scope too", []string{"ZohoBigin.modules.ALL"}, []string{"list", "list accounts", "get", "create", "delete", "related"}},
		{"search with it", []string{"ZohoBigin.modules.contacts.READ", "ZohoSearch.securesearch.READ"}, []string{"list", "get", "search"}},
		{"COQL needs the FROM module's scope", []string{"ZohoBigin.coql.READ", "ZohoBigin.modules.contacts.READ"}, []string{"list", "get", "coql"}},
		{"notes need the notes scope besides modules.ALL", []string{"ZohoBigin.modules.ALL", "ZohoBigin.modules.notes.READ"},
			[]string{"list", "list accounts", "get", "create", "delete", "related", "notes"}},
		{"notes.CREATE adds notes", []string{"ZohoBigin.modules.contacts.READ", "ZohoBigin.modules.notes.CREATE"}, []string{"list", "get", "add note"}},
		{"a related list needs both modules' scopes", []string{"ZohoBigin.modules.accounts.READ"}, []string{"list accounts"}},
		{"settings.ALL covers fields and layouts", []string{"ZohoBigin.settings.ALL"}, []string{"fields", "layouts"}},
		{"settings.fields.READ covers fields only", []string{"ZohoBigin.settings.fields.READ"}, []string{"fields"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := e.accessToken(t, e.sb.IssueRefreshToken(tt.scopes...))
			for name, call := range calls {
				a := call(at)
				if slices.Contains(tt.ok, name) {
					assert.NotEqual(t, http.StatusUnauthorized, a.status, "%s: %s", name, a.body)
				} else {
					zohoError(t, a, 401, "OAUTH_SCOPE_MISMATCH", "Unauthorized")
				}
			}
		})
	}
}

// TestConsentScopesDecideRecordAccess: a token from the consent flow
// carries the scopes the authorization asked for, so an account connected
// with the directory scopes only is refused its record calls until it is
// connected again with the record scopes.
func TestConsentScopesDecideRecordAccess(t *testing.T) {
	e := start(t, sandbox.Options{Users: 20})
	connect := func(t *testing.T, scopes []string) string {
		t.Helper()
		q := url.Values{"scope": {strings.Join(scopes, ",")}, "client_id": {e.sb.ClientID()}, "response_type": {"code"},
			"redirect_uri": {"https://app.example/cb"}, "access_type": {"offline"}, "prompt": {"consent"}}
		req, err := http.NewRequest(http.MethodGet, e.ts.URL+"/oauth/v2/auth?"+q.Encode(), nil)
		require.NoError(t, err)
		a := e.do(t, req)
		require.Equal(t, http.StatusFound, a.status, string(a.body))
		loc, err := url.Parse(a.header.Get("Location"))
		require.NoError(t, err)
		code := loc.Query().Get("code")
		require.NotEmpty(t, code, loc.String())
		tok := e.tokenForm(t, url.Values{"grant_type": {"authorization_code"}, "client_id": {e.sb.ClientID()}, "client_secret": {e.sb.ClientSecret()},
			"code": {code}, "redirect_uri": {"https://app.example/cb"}}).json(t)
		assert.Equal(t, strings.Join(scopes, " "), tok["scope"])
		return e.accessToken(t, tok["refresh_token"].(string))
	}
	list := func(at string) answer {
		return e.call(t, "GET", "/bigin/v2/Pipelines?fields=Deal_Name&per_page=1", at, "")
	}
	search := func(at string) answer { return e.call(t, "GET", "/bigin/v2/Accounts/search?word=a&per_page=1", at, "") }

	old := connect(t, sandbox.DirectoryScopes())
	zohoError(t, list(old), 401, "OAUTH_SCOPE_MISMATCH", "Unauthorized")
	zohoError(t, search(old), 401, "OAUTH_SCOPE_MISMATCH", "Unauthorized")
	assert.Equal(t, http.StatusOK, e.call(t, "GET", "/bigin/v2/users?type=CurrentUser", old, "").status, "the directory still works")

	again := connect(t, sandbox.Scopes())
	assert.Equal(t, http.StatusOK, list(again).status)
	assert.Equal(t, http.StatusOK, search(again).status)
}
