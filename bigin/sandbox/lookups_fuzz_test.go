package sandbox

import (
	"slices"
	"strings"
	"testing"

	"github.com/bigin-mcp/bigin-mcp/bigin"
)

// FuzzQueryLookupsSeen: every column that the sandbox's COQL reads
// through a lookup is one bigin.ReadQuery lists in Lookups, so that a
// server that allows only some modules checks it before sending.
func FuzzQueryLookupsSeen(f *testing.F) {
	for _, q := range []string{
		"select Last_Name, Account_Name.Phone from Contacts where id is not null",
		"select Last_Name from Contacts where Account_Name.Account_Name like '%a%' order by Account_Name.Phone desc",
		"select 'Account_Name.Phone' from Contacts where 'Account_Name.Website' is not null order by 'Account_Name.Phone'",
		"select Deal_Name, \"Contact_Name.Email\" from Pipelines where (Contact_Name.Last_Name = 'x' and Account_Name.Phone != 'y') limit 5",
		"select Last_Name from Contacts where Last_Name = 'a\\'' and Account_Name.Phone is null",
		"select Subject from Tasks where Contact_Name.Email in ('a.b@c', 'd') order by Contact_Name.Last_Name",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		out, e := parseCOQL(q)
		if e != nil {
			return
		}
		var dotted []string
		for _, c := range out.cols {
			if c.via != nil {
				dotted = append(dotted, c.name)
			}
		}
		for _, k := range out.order {
			if k.col.via != nil {
				dotted = append(dotted, k.col.name)
			}
		}
		var walk func(n *critNode)
		walk = func(n *critNode) {
			if n == nil {
				return
			}
			if n.col != nil && n.col.via != nil {
				dotted = append(dotted, n.col.name)
			}
			for _, k := range n.kids {
				walk(k)
			}
		}
		walk(out.where)
		if len(dotted) == 0 {
			return
		}
		rq, err := bigin.ReadQuery(q)
		if err != nil {
			t.Fatalf("%q: the sandbox runs it, ReadQuery refuses it: %v", q, err)
		}
		for _, d := range dotted {
			if !slices.ContainsFunc(rq.Lookups, func(l string) bool { return strings.EqualFold(l, d) }) {
				t.Fatalf("%q: the sandbox reads %s through a lookup; ReadQuery's Lookups are %q", q, d, rq.Lookups)
			}
		}
	})
}
