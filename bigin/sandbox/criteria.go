package sandbox

import (
	"net/http"
	"strings"
)

// Search criteria, as Zoho documents them: (Field:operator:value), groups
// combined as ((A)and(B)) or ((A)or(B)), nested at will; "(", ")", ","
// and "\" in a value are escaped with a backslash; "in" takes a comma list
// and "between" two values. Within one group "and" binds before "or"
// (UNVERIFIED: Zoho's docs bracket every mix). At most 10 conditions, as
// in CRM.

// maxCriteria is how many conditions a criteria expression may hold.
const maxCriteria = 10

// critNode is a parsed criteria expression: a condition (col set) or an
// and/or of its kids.
type critNode struct {
	op   string // "and", "or", or "" for a condition
	kids []*critNode
	col  *column
	cmp  string
	lits []any
}

func badCriteria(reason string, details map[string]any) *zerr {
	d := map[string]any{"reason": reason}
	for k, v := range details {
		d[k] = v
	}
	return &zerr{http.StatusBadRequest, "INVALID_QUERY", "invalid query formed", d}
}

type critParser struct {
	s     string
	i     int
	mod   *moduleDef
	count int
}

// parseCriteria parses a criteria expression against the module's fields.
func parseCriteria(mod *moduleDef, s string) (*critNode, *zerr) {
	p := &critParser{s: s, mod: mod}
	n, e := p.group()
	if e != nil {
		return nil, e
	}
	if p.skip(); p.i != len(p.s) {
		return nil, badCriteria("unexpected text after the criteria", map[string]any{"near": p.s[p.i:]})
	}
	return n, nil
}

func (p *critParser) skip() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

// group parses "(" condition ")" or "(" group (and|or group)* ")".
func (p *critParser) group() (*critNode, *zerr) {
	if p.skip(); p.i >= len(p.s) || p.s[p.i] != '(' {
		return nil, badCriteria("a criterion must be enclosed in brackets, e.g. (Last_Name:equals:Boyle)", nil)
	}
	p.i++
	if p.skip(); p.i < len(p.s) && p.s[p.i] == '(' {
		var kids []*critNode
		var ops []string
		for {
			k, e := p.group()
			if e != nil {
				return nil, e
			}
			kids = append(kids, k)
			if p.skip(); p.i < len(p.s) && p.s[p.i] == ')' {
				p.i++
				return combine(kids, ops), nil
			}
			start := p.i
			for p.i < len(p.s) && p.s[p.i] != '(' && p.s[p.i] != ' ' {
				p.i++
			}
			op := strings.ToLower(p.s[start:p.i])
			if op != "and" && op != "or" {
				return nil, badCriteria("criteria are joined with and or or", map[string]any{"near": p.s[start:]})
			}
			ops = append(ops, op)
		}
	}
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ')' {
		if p.s[p.i] == '\\' {
			p.i++
		}
		p.i++
	}
	if p.i >= len(p.s) {
		return nil, badCriteria("a bracket is not closed", nil)
	}
	text := p.s[start:p.i]
	p.i++
	return p.condition(text)
}

// combine joins kids by their operators, "and" before "or".
func combine(kids []*critNode, ops []string) *critNode {
	if len(kids) == 1 {
		return kids[0]
	}
	or := &critNode{op: "or"}
	and := &critNode{op: "and", kids: []*critNode{kids[0]}}
	for i, op := range ops {
		if op == "or" {
			or.kids = append(or.kids, and)
			and = &critNode{op: "and"}
		}
		and.kids = append(and.kids, kids[i+1])
	}
	or.kids = append(or.kids, and)
	for i, k := range or.kids {
		if len(k.kids) == 1 {
			or.kids[i] = k.kids[0]
		}
	}
	if len(or.kids) == 1 {
		return or.kids[0]
	}
	return or
}

// condition parses Field:operator:value.
func (p *critParser) condition(text string) (*critNode, *zerr) {
	if p.count++; p.count > maxCriteria {
		return nil, badCriteria("more than 10 criteria", nil)
	}
	parts := strings.SplitN(text, ":", 3)
	if len(parts) != 3 {
		return nil, badCriteria("a criterion is (field:operator:value)", map[string]any{"near": text})
	}
	name, op, raw := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1]), parts[2]
	col := &column{name: name}
	if name != "id" {
		col.field = p.mod.field(name)
		if col.field == nil {
			return nil, badCriteria("the field is not available for search", map[string]any{"api_name": name})
		}
	}
	f := col.def()
	if !allowed(f, op) || op == "like" || op == "not_like" || op == "not_in" || op == "is_null" || op == "is_not_null" || op == "not_between" {
		return nil, badCriteria("invalid operator found", map[string]any{"api_name": name, "operator": op})
	}
	var vals []string
	switch op {
	case "in", "between":
		vals = splitEscaped(raw)
		if op == "between" && len(vals) != 2 {
			return nil, badCriteria("between takes two values", map[string]any{"api_name": name})
		}
	default:
		vals = []string{unescape(raw)}
	}
	n := &critNode{col: col, cmp: op}
	for _, v := range vals {
		if v == "${EMPTY}" && (op == "equals" || op == "not_equal") {
			n.lits = append(n.lits, emptyLit{})
			continue
		}
		lit, ok := literal(f, v)
		if !ok {
			return nil, badCriteria("the value given seems to be invalid", map[string]any{"api_name": name, "expected_data_type": f.typ})
		}
		n.lits = append(n.lits, lit)
	}
	return n, nil
}

// splitEscaped splits a value at unescaped commas and unescapes each part.
func splitEscaped(s string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == ',':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(out, cur.String())
}

// unescape drops the backslash of each escaped character.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// criteria evaluates a parsed expression on a record.
func (ev *evaluator) criteria(n *critNode, r *record) bool {
	switch n.op {
	case "and":
		for _, k := range n.kids {
			if !ev.criteria(k, r) {
				return false
			}
		}
		return true
	case "or":
		for _, k := range n.kids {
			if ev.criteria(k, r) {
				return true
			}
		}
		return false
	}
	return ev.test(n.col.def(), ev.value(r, n.col), n.cmp, n.lits)
}
