package sandbox

import (
	"net/http"
	"testing"
)

// FuzzParseCOQL: whatever the query, the parser answers a query or one
// of Zoho's 400 errors, and never panics.
func FuzzParseCOQL(f *testing.F) {
	for _, q := range []string{
		"select Last_Name, Account_Name.Account_Name from Contacts where ((Last_Name like 'K%' and Email is not null) or id in ('1','2')) order by Last_Name desc, id limit 10, 5",
		"select Deal_Name from Pipelines where Amount not between 1 and 2 limit 200 offset 9800",
		"select 'External' from Contacts where Closing_Date >= '2024-01-01'",
		"select", "select a from", "select * from Contacts where", "select a from Contacts where a like 5", "select x from Contacts where (a = 'b'", "'", `"`, "-", "select Last_Name from Contacts where Last_Name = 'O''Brien'",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		out, e := parseCOQL(q)
		if e != nil {
			if e.status != http.StatusBadRequest || e.code == "" {
				t.Fatalf("%q: error %+v", q, e)
			}
			return
		}
		if out.mod == nil || out.where == nil || out.limit < 1 || out.limit > coqlMaxLimit || out.offset+out.limit > coqlMaxReach {
			t.Fatalf("%q: parsed into %+v", q, out)
		}
	})
}

// FuzzParseCriteria: the same for search criteria.
func FuzzParseCriteria(f *testing.F) {
	for _, c := range []string{
		"((Last_Name:equals:Boyle)and((Email:starts_with:p)or(Account_Name:in:a\\,b,c)))",
		"(Amount:between:1,2)", "(Created_Time:greater_than:2024-01-01T00:00:00+05:30)", "(", ")", "(a", "((a:equals:b)", `(Last_Name:equals:x\`, "(Email:equals:${EMPTY})",
	} {
		f.Add(c)
	}
	mod := schema[Pipelines]
	f.Fuzz(func(t *testing.T, c string) {
		n, e := parseCriteria(mod, c)
		if e != nil {
			if e.status != http.StatusBadRequest || e.code != "INVALID_QUERY" {
				t.Fatalf("%q: error %+v", c, e)
			}
			return
		}
		if n == nil {
			t.Fatalf("%q: no expression", c)
		}
	})
}
