package sandbox_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

// searchAll runs a search and reads every page of it.
func (e *env) searchAll(t *testing.T, at, module, query string) []string {
	t.Helper()
	var ids []string
	for page := 1; ; page++ {
		a := e.call(t, "GET", "/bigin/v2/"+module+"/search?per_page=200&page="+strconv.Itoa(page)+"&"+query, at, "")
		ids = append(ids, idsOf(records(t, a))...)
		if a.status == http.StatusNoContent || !a.json(t)["info"].(map[string]any)["more_records"].(bool) {
			return ids
		}
	}
}

func TestSearch(t *testing.T) {
	e, at := recordEnv(t)
	textFields := []string{"First_Name", "Last_Name", "Full_Name", "Email", "Phone", "Mobile", "Title", "Mailing_Street", "Mailing_City",
		"Mailing_State", "Mailing_Zip", "Mailing_Country", "Customer_Tier", "Description"}
	contacts := e.all(t, at, sandbox.Contacts, strings.Join(textFields, ",")+",Account_Name,Created_Time")
	hasText := func(r rec, word string) bool {
		for _, k := range textFields {
			if strings.Contains(strings.ToLower(str(r, k)), strings.ToLower(word)) {
				return true
			}
		}
		return false
	}
	digits := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r < '0' || r > '9' {
				return -1
			}
			return r
		}, s)
	}
	var phone string // a phone number written another way
	for _, c := range contacts {
		if d := digits(str(c, "Phone")); d != "" {
			phone = d[len(d)-8:len(d)-4] + "-" + d[len(d)-4:]
			break
		}
	}
	require.NotEmpty(t, phone)
	deals := e.all(t, at, sandbox.Pipelines, "Deal_Name,Stage,Amount,Closing_Date,Account_Name")
	some := contacts[42]
	company := refName(some, "Account_Name")
	require.NotEmpty(t, company)
	stamp := str(contacts[len(contacts)/2], "Created_Time")
	stampT, err := time.Parse(time.RFC3339, stamp)
	require.NoError(t, err)

	// A company whose name needs every escape.
	odd := e.call(t, "POST", "/bigin/v2/Accounts", at, `{"data":[{"Account_Name":"Smith (UK), Ltd: a\\b"}]}`)
	require.Equal(t, http.StatusCreated, odd.status, string(odd.body))
	oddID := odd.json(t)["data"].([]any)[0].(map[string]any)["details"].(map[string]any)["id"].(string)

	fold := strings.EqualFold
	tests := []struct {
		name   string
		module string
		query  string
		all    []rec
		want   func(rec) bool
	}{
		{"equals, without case", sandbox.Contacts, "(Last_Name:equals:kHAN)", contacts, func(r rec) bool { return fold(str(r, "Last_Name"), "Khan") }},
		{"not_equal", sandbox.Contacts, "(Last_Name:not_equal:Khan)", contacts, func(r rec) bool { return !fold(str(r, "Last_Name"), "Khan") }},
		{"starts_with", sandbox.Contacts, "(Last_Name:starts_with:Ku)", contacts, func(r rec) bool { return strings.HasPrefix(str(r, "Last_Name"), "Ku") }},
		{"in", sandbox.Contacts, "(Last_Name:in:Khan,Kim,Li)", contacts, func(r rec) bool { return slices.Contains([]string{"Khan", "Kim", "Li"}, str(r, "Last_Name")) }},
		{"a lookup by name", sandbox.Contacts, "(Account_Name:equals:" + escape(company) + ")", contacts, func(r rec) bool { return refName(r, "Account_Name") == company }},
		{"a lookup by id", sandbox.Contacts, "(Account_Name:equals:" + refID(some, "Account_Name") + ")", contacts, func(r rec) bool { return refID(r, "Account_Name") == refID(some, "Account_Name") }},
		{"${EMPTY}", sandbox.Contacts, "(Email:equals:${EMPTY})", contacts, func(r rec) bool { return r["Email"] == nil }},
		{"a datetime after", sandbox.Contacts, "(Created_Time:greater_than:" + stamp + ")", contacts, func(r rec) bool {
			tm, _ := time.Parse(time.RFC3339, str(r, "Created_Time"))
			return tm.After(stampT)
		}},
		{"greater_than", sandbox.Pipelines, "(Amount:greater_than:140000)", deals, func(r rec) bool { return num(r, "Amount") > 140000 }},
		{"less_equal", sandbox.Pipelines, "(Amount:less_equal:5000)", deals, func(r rec) bool { return num(r, "Amount") <= 5000 }},
		{"between", sandbox.Pipelines, "(Amount:between:10000,20000)", deals, func(r rec) bool { return num(r, "Amount") >= 10000 && num(r, "Amount") <= 20000 }},
		{"a date", sandbox.Pipelines, "(Closing_Date:less_than:2024-06-01)", deals, func(r rec) bool { return str(r, "Closing_Date") < "2024-06-01" }},
		{"and", sandbox.Pipelines, "((Stage:equals:Closed Won)and(Amount:greater_than:50000))", deals, func(r rec) bool {
			return str(r, "Stage") == "Closed Won" && num(r, "Amount") > 50000
		}},
		{"or", sandbox.Pipelines, "((Stage:equals:Closed Won)or(Stage:equals:Closed Lost))", deals, func(r rec) bool {
			return str(r, "Stage") == "Closed Won" || str(r, "Stage") == "Closed Lost"
		}},
		{"nested groups", sandbox.Pipelines, "((Stage:equals:Closed Won)and((Amount:greater_than:100000)or(Amount:less_than:20000)))", deals, func(r rec) bool {
			return str(r, "Stage") == "Closed Won" && (num(r, "Amount") > 100000 || num(r, "Amount") < 20000)
		}},
		{"and before or", sandbox.Pipelines, "((Stage:equals:Closed Won)or(Stage:equals:Closed Lost)and(Amount:greater_than:100000))", deals, func(r rec) bool {
			return str(r, "Stage") == "Closed Won" || str(r, "Stage") == "Closed Lost" && num(r, "Amount") > 100000
		}},
		{"a value with a colon and spaces", sandbox.Pipelines, "(Stage:equals:Proposal/Price Quote)", deals, func(r rec) bool { return str(r, "Stage") == "Proposal/Price Quote" }},
		{"email", sandbox.Contacts, "email=" + url.QueryEscape(strings.ToUpper(str(some, "Email"))), contacts, func(r rec) bool { return fold(str(r, "Email"), str(some, "Email")) }},
		{"phone, whatever its format", sandbox.Contacts, "phone=" + url.QueryEscape(phone), contacts, func(r rec) bool {
			d := digits(strings.ReplaceAll(phone, "-", ""))
			return strings.Contains(digits(str(r, "Phone")), d) || strings.Contains(digits(str(r, "Mobile")), d)
		}},
		{"word", sandbox.Contacts, "word=" + url.QueryEscape(strings.ToLower(str(some, "Title"))), contacts, func(r rec) bool { return hasText(r, str(some, "Title")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.query
			if strings.HasPrefix(q, "(") {
				q = "criteria=" + url.QueryEscape(q)
			}
			got := e.searchAll(t, at, tt.module, q)
			want := where(tt.all, tt.want)
			require.NotEmpty(t, want, "the case must match something")
			require.Less(t, len(want), len(tt.all)+1)
			assert.ElementsMatch(t, want, got)
		})
	}

	t.Run("escaped brackets, commas, colons and backslashes", func(t *testing.T) {
		for _, q := range []string{`(Account_Name:equals:Smith \(UK\)\, Ltd: a\\b)`, `(Account_Name:in:Nobody,Smith \(UK\)\, Ltd: a\\b)`} {
			assert.Equal(t, []string{oddID}, e.searchAll(t, at, sandbox.Accounts, "criteria="+url.QueryEscape(q)), q)
		}
	})

	t.Run("paging, and 204 when nothing matches", func(t *testing.T) {
		want := where(contacts, func(r rec) bool { return !fold(str(r, "Last_Name"), "Khan") })
		a := e.call(t, "GET", "/bigin/v2/Contacts/search?per_page=10&page=2&criteria="+url.QueryEscape("(Last_Name:not_equal:Khan)"), at, "")
		assert.Equal(t, want[10:20], idsOf(records(t, a)))
		assert.Equal(t, map[string]any{"per_page": float64(10), "count": float64(10), "page": float64(2), "more_records": true}, a.json(t)["info"])
		none := e.call(t, "GET", "/bigin/v2/Contacts/search?criteria="+url.QueryEscape("(Last_Name:equals:Nobody)"), at, "")
		assert.Equal(t, http.StatusNoContent, none.status)
		assert.Empty(t, none.body)
		full := records(t, e.call(t, "GET", "/bigin/v2/Contacts/search?email="+url.QueryEscape(str(some, "Email")), at, ""))
		require.Len(t, full, 1)
		assert.Contains(t, full[0], "Mailing_City", "without fields, whole records")
	})

	bad := []struct {
		name, query, code string
		details           map[string]any
	}{
		{"no brackets", "criteria=Last_Name:equals:Khan", "INVALID_QUERY", nil},
		{"an unknown field", "criteria=" + url.QueryEscape("(Nickname:equals:x)"), "INVALID_QUERY", map[string]any{"api_name": "Nickname"}},
		{"an operator the type lacks", "criteria=" + url.QueryEscape("(Last_Name:greater_than:K)"), "INVALID_QUERY", map[string]any{"operator": "greater_than"}},
		{"an unknown operator", "criteria=" + url.QueryEscape("(Last_Name:contains:K)"), "INVALID_QUERY", map[string]any{"operator": "contains"}},
		{"a value of the wrong type", "criteria=" + url.QueryEscape("(Created_Time:greater_than:yesterday)"), "INVALID_QUERY", map[string]any{"api_name": "Created_Time"}},
		{"between one value", "criteria=" + url.QueryEscape("(Created_Time:between:2024-01-01T00:00:00+00:00)"), "INVALID_QUERY", nil},
		{"an unclosed bracket", "criteria=" + url.QueryEscape("((Last_Name:equals:Khan)"), "INVALID_QUERY", nil},
		{"a joiner that is not and/or", "criteria=" + url.QueryEscape("((Last_Name:equals:Khan)xor(Last_Name:equals:Kim))"), "INVALID_QUERY", nil},
		{"text after the criteria", "criteria=" + url.QueryEscape("(Last_Name:equals:Khan)x"), "INVALID_QUERY", nil},
		{"more than 10 criteria", "criteria=" + url.QueryEscape("("+strings.Repeat("(Last_Name:equals:Khan)or", 10)+"(Last_Name:equals:Kim))"), "INVALID_QUERY", nil},
		{"two kinds at once", "word=a&email=a@b.example", "INVALID_QUERY", nil},
		{"none", "fields=Last_Name", "REQUIRED_PARAM_MISSING", map[string]any{"param_name": "criteria"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			a := e.call(t, "GET", "/bigin/v2/Contacts/search?"+tt.query, at, "")
			require.Equal(t, http.StatusBadRequest, a.status, string(a.body))
			m := a.json(t)
			assert.Equal(t, tt.code, m["code"])
			assert.Equal(t, "error", m["status"])
			for k, v := range tt.details {
				assert.Equal(t, v, m["details"].(map[string]any)[k], k)
			}
		})
	}
}

// escape escapes a criteria value.
func escape(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`, `,`, `\,`)
	return r.Replace(v)
}

// coql runs a query and returns the answer.
func (e *env) coql(t *testing.T, at, query string) answer {
	t.Helper()
	body, err := json.Marshal(map[string]string{"select_query": query})
	require.NoError(t, err)
	return e.call(t, "POST", "/bigin/v2/coql", at, string(body))
}

func TestCOQL(t *testing.T) {
	e, at := recordEnv(t)
	contacts := e.all(t, at, sandbox.Contacts, "Last_Name,Email,Account_Name,Title")
	deals := e.all(t, at, sandbox.Pipelines, "Deal_Name,Stage,Amount,Closing_Date,Account_Name")
	company := refName(contacts[7], "Account_Name")
	require.NotEmpty(t, company)
	lower := strings.ToLower

	tests := []struct {
		name  string
		query string
		all   []rec
		want  func(rec) bool
	}{
		{"=", "select Last_Name from Contacts where Last_Name = 'khan'", contacts, func(r rec) bool { return lower(str(r, "Last_Name")) == "khan" }},
		{"!=", "SELECT Last_Name FROM Contacts WHERE Last_Name != 'Khan'", contacts, func(r rec) bool { return str(r, "Last_Name") != "Khan" }},
		{"like a prefix", "select Last_Name from Contacts where Last_Name like 'K%'", contacts, func(r rec) bool { return strings.HasPrefix(str(r, "Last_Name"), "K") }},
		{"like a middle", "select Last_Name from Contacts where Email like '%outfitters%'", contacts, func(r rec) bool { return strings.Contains(str(r, "Email"), "outfitters") }},
		{"not like", "select Last_Name from Contacts where Last_Name not like '%a%'", contacts, func(r rec) bool { return !strings.Contains(lower(str(r, "Last_Name")), "a") }},
		{"in", "select Last_Name from Contacts where Last_Name in ('Khan', 'Kim')", contacts, func(r rec) bool { return str(r, "Last_Name") == "Khan" || str(r, "Last_Name") == "Kim" }},
		{"not in", "select Last_Name from Contacts where Last_Name not in ('Khan', 'Kim')", contacts, func(r rec) bool { return str(r, "Last_Name") != "Khan" && str(r, "Last_Name") != "Kim" }},
		{"is null", "select Last_Name from Contacts where Email is null", contacts, func(r rec) bool { return r["Email"] == nil }},
		{"is not null", "select Last_Name from Contacts where Account_Name is not null", contacts, func(r rec) bool { return r["Account_Name"] != nil }},
		{"a lookup's field", "select Last_Name from Contacts where Account_Name.Account_Name = '" + company + "'", contacts, func(r rec) bool { return refName(r, "Account_Name") == company }},
		{"a lookup by id", "select Last_Name from Contacts where Account_Name = '" + refID(contacts[7], "Account_Name") + "'", contacts, func(r rec) bool { return refID(r, "Account_Name") == refID(contacts[7], "Account_Name") }},
		{">", "select Deal_Name from Pipelines where Amount > 140000", deals, func(r rec) bool { return num(r, "Amount") > 140000 }},
		{"<=", "select Deal_Name from Pipelines where Amount <= 5000", deals, func(r rec) bool { return num(r, "Amount") <= 5000 }},
		{"between", "select Deal_Name from Pipelines where Amount between 10000 and 20000", deals, func(r rec) bool { return num(r, "Amount") >= 10000 && num(r, "Amount") <= 20000 }},
		{"not between", "select Deal_Name from Pipelines where Amount not between 10000 and 140000", deals, func(r rec) bool { return num(r, "Amount") < 10000 || num(r, "Amount") > 140000 }},
		{"a date", "select Deal_Name from Pipelines where Closing_Date >= '2024-06-01'", deals, func(r rec) bool { return str(r, "Closing_Date") >= "2024-06-01" }},
		{"and, or, brackets", "select Deal_Name from Pipelines where ((Stage = 'Closed Won' or Stage = 'Closed Lost') and Amount > 100000)", deals, func(r rec) bool {
			return (str(r, "Stage") == "Closed Won" || str(r, "Stage") == "Closed Lost") && num(r, "Amount") > 100000
		}},
		{"a quote inside a string", "select Deal_Name from Pipelines where Deal_Name != 'O''Brien' and Stage like 'Closed%'", deals, func(r rec) bool { return strings.HasPrefix(str(r, "Stage"), "Closed") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for offset := 0; ; offset += 200 {
				a := e.coql(t, at, tt.query+" limit 200 offset "+strconv.Itoa(offset))
				got = append(got, idsOf(records(t, a))...)
				if a.status == http.StatusNoContent || !a.json(t)["info"].(map[string]any)["more_records"].(bool) {
					break
				}
			}
			want := where(tt.all, tt.want)
			require.NotEmpty(t, want, "the case must match something")
			assert.Equal(t, want, got, "in id order, ascending")
		})
	}

	t.Run("rows hold the columns and id; a lookup is its id; a dotted column is a key", func(t *testing.T) {
		a := e.coql(t, at, "select Last_Name, Account_Name, Account_Name.Account_Name, Account_Name.Phone from Contacts where id = '"+contacts[7]["id"].(string)+"'")
		rows := records(t, a)
		require.Len(t, rows, 1)
		assert.Equal(t, rec{"Last_Name": contacts[7]["Last_Name"], "Account_Name": map[string]any{"id": refID(contacts[7], "Account_Name")},
			"Account_Name.Account_Name": company, "Account_Name.Phone": rows[0]["Account_Name.Phone"], "id": contacts[7]["id"]}, rows[0])
		assert.NotEmpty(t, rows[0]["Account_Name.Phone"])
		assert.Equal(t, map[string]any{"count": float64(1), "more_records": false}, a.json(t)["info"])
	})

	t.Run("order by, limit and offset", func(t *testing.T) {
		sorted := slices.Clone(deals)
		slices.SortStableFunc(sorted, func(a, b rec) int {
			if c := -compareFloat(num(a, "Amount"), num(b, "Amount")); c != 0 {
				return c
			}
			return strings.Compare(a["id"].(string), b["id"].(string))
		})
		a := e.coql(t, at, "select Deal_Name, Amount from Pipelines where Amount > 0 order by Amount desc limit 5 offset 10")
		assert.Equal(t, idsOf(sorted[10:15]), idsOf(records(t, a)))
		assert.Equal(t, true, a.json(t)["info"].(map[string]any)["more_records"])
		b := e.coql(t, at, "select Deal_Name from Pipelines where Amount > 0 ORDER BY Amount DESC LIMIT 10, 5")
		assert.Equal(t, idsOf(sorted[10:15]), idsOf(records(t, b)), "LIMIT offset, count")
		byName := e.coql(t, at, "select Last_Name from Contacts where Last_Name is not null order by Last_Name asc, id desc limit 200")
		rows := records(t, byName)
		assert.True(t, slices.IsSortedFunc(rows, func(a, b rec) int { return strings.Compare(lower(str(a, "Last_Name")), lower(str(b, "Last_Name"))) }))
		dflt := records(t, e.coql(t, at, "select Last_Name from Contacts where id is not null"))
		assert.Equal(t, idsOf(contacts[:200]), idsOf(dflt), "default: 200 rows, id ascending")
	})

	t.Run("no rows is 204", func(t *testing.T) {
		a := e.coql(t, at, "select Last_Name from Contacts where Last_Name = 'Nobody'")
		assert.Equal(t, http.StatusNoContent, a.status)
		assert.Empty(t, a.body)
		assert.Equal(t, http.StatusNoContent, e.coql(t, at, "select Last_Name from Contacts where id is not null limit 200 offset 9800").status)
	})

	bad := []struct {
		name, query, code string
		details           map[string]any
	}{
		{"no WHERE", "select Last_Name from Contacts", "SYNTAX_ERROR", map[string]any{"clause": "from", "near": "end of query"}},
		{"SELECT *", "select * from Contacts where id is not null", "SYNTAX_ERROR", map[string]any{"clause": "select", "near": "*"}},
		{"three conditions unbracketed", "select Last_Name from Contacts where Last_Name = 'a' and Email is null and id is not null", "SYNTAX_ERROR", map[string]any{"clause": "where", "near": "and"}},
		{"no FROM", "select Last_Name where id is not null", "SYNTAX_ERROR", map[string]any{"clause": "select", "near": "where"}},
		{"an unclosed string", "select Last_Name from Contacts where Last_Name = 'Khan", "SYNTAX_ERROR", nil},
		{"a reserved word unquoted", "select External from Contacts where id is not null", "SYNTAX_ERROR", map[string]any{"clause": "select"}},
		{"text after the query", "select Last_Name from Contacts where id is not null limit 5 please", "SYNTAX_ERROR", map[string]any{"clause": "limit", "near": "please"}},
		{"an unknown column", "select Nickname from Contacts where id is not null", "INVALID_QUERY", map[string]any{"column_name": "Nickname", "reason": "column given seems to be invalid"}},
		{"an unknown column in WHERE", "select Last_Name from Contacts where Nickname = 'x'", "INVALID_QUERY", map[string]any{"column_name": "Nickname"}},
		{"an unknown lookup field", "select Account_Name.Nickname from Contacts where id is not null", "INVALID_QUERY", map[string]any{"column_name": "Account_Name.Nickname"}},
		{"an unknown module", "select Last_Name from Leads where id is not null", "INVALID_QUERY", map[string]any{"reason": "the module name given seems to be invalid"}},
		{"an operator the type lacks", "select Deal_Name from Pipelines where Amount like '1%'", "INVALID_QUERY", map[string]any{"operator": "like", "reason": "invalid operator found"}},
		{"> on text", "select Last_Name from Contacts where Last_Name > 'K'", "INVALID_QUERY", map[string]any{"operator": ">"}},
		{"a value of the wrong type", "select Deal_Name from Pipelines where Amount > 'lots'", "INVALID_QUERY", map[string]any{"column_name": "Amount"}},
		{"LIMIT over 200", "select Last_Name from Contacts where id is not null limit 201", "LIMIT_EXCEEDED", nil},
		{"past 10,000 rows", "select Last_Name from Contacts where id is not null limit 200 offset 9801", "LIMIT_EXCEEDED", nil},
		{"no query", "", "REQUIRED_PARAM_MISSING", map[string]any{"param_name": "select_query"}},
		// A token the parser has read and gives back (unread) is the one
		// the error names.
		{"a module that is not a word", "select Last_Name from 'Contacts' where id is not null", "SYNTAX_ERROR", map[string]any{"clause": "from", "near": "'Contacts'"}},
		{"LIKE without a string", "select Last_Name from Contacts where Last_Name like 5", "SYNTAX_ERROR", map[string]any{"clause": "where", "near": "5"}},
		{"no operator", "select Last_Name from Contacts where Last_Name 'a'", "SYNTAX_ERROR", map[string]any{"clause": "where", "near": "'a'"}},
		{"a symbol for a value", "select Last_Name from Contacts where Last_Name = (", "SYNTAX_ERROR", map[string]any{"clause": "where", "near": "("}},
		{"a LIMIT that is not a number", "select Last_Name from Contacts where id is not null limit all", "SYNTAX_ERROR", map[string]any{"clause": "limit", "near": "all"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			a := e.coql(t, at, tt.query)
			require.Equal(t, http.StatusBadRequest, a.status, string(a.body))
			m := a.json(t)
			assert.Equal(t, tt.code, m["code"], string(a.body))
			assert.Equal(t, "error", m["status"])
			assert.NotEmpty(t, m["message"])
			for k, v := range tt.details {
				assert.Equal(t, v, m["details"].(map[string]any)[k], k)
			}
		})
	}
	t.Run("a body that is not JSON", func(t *testing.T) {
		zohoError(t, e.call(t, "POST", "/bigin/v2/coql", at, "select"), 400, "INVALID_DATA", "invalid data")
	})
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
