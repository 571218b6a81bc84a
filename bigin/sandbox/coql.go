package sandbox

import (
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The COQL subset the sandbox serves (Zoho's COQL is CRM's, documented
// for Bigin with the same grammar and limits):
//
//	SELECT col[, col…] FROM Module WHERE condition
//	  [ORDER BY col [ASC|DESC][, …]] [LIMIT n [OFFSET m] | LIMIT m, n]
//
// A column is a field's API name, id, or a field of the record a lookup
// points at (Account_Name.Account_Name); reserved words are quoted
// ('External'). A condition compares a column with =, !=, <, >, <=, >=,
// [NOT] LIKE '%x%', [NOT] IN (…), [NOT] BETWEEN a AND b, IS [NOT] NULL;
// more than two conditions need brackets, ((A and B) and C). Strings are
// single-quoted, a quote inside doubled. Keywords ignore case.
//
// WHERE is required, as in CRM's COQL before v7 (UNVERIFIED for Bigin:
// its examples always filter, `where id is not null` reading every
// record). At most 200 rows a call (LIMIT, default 200), 10,000 in all
// (LIMIT + OFFSET), 50 columns, 50 values in IN, 25 conditions. Rows
// hold the selected columns and id; a selected lookup is {"id"} only,
// and a dotted column is a key of its own. Default order: id ascending.

// Limits of COQL.
const (
	coqlMaxLimit   = 200
	coqlMaxReach   = 10000
	coqlMaxColumns = 50
	coqlMaxIn      = 50
	coqlMaxConds   = 25
	maxQueryBody   = 64 << 10
)

// token kinds.
const (
	tkEOF = iota
	tkWord
	tkString // single-quoted
	tkQuoted // double-quoted (a column)
	tkNumber
	tkSymbol
)

type token struct {
	kind int
	text string // a string's unquoted value
	raw  string // as written, for "near"
}

// lex splits a query into tokens; ok is false at an unterminated string.
func lex(q string) ([]token, bool) {
	var out []token
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(q) {
					return nil, false
				}
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c { // a doubled quote
						b.WriteByte(c)
						j += 2
						continue
					}
					break
				}
				if q[j] == '\\' && j+1 < len(q) {
					j++
				}
				b.WriteByte(q[j])
				j++
			}
			kind := tkString
			if c == '"' {
				kind = tkQuoted
			}
			out = append(out, token{kind, b.String(), q[i : j+1]})
			i = j + 1
		case c >= '0' && c <= '9' || c == '-' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9':
			j := i + 1
			for j < len(q) && (q[j] >= '0' && q[j] <= '9' || q[j] == '.') {
				j++
			}
			out = append(out, token{tkNumber, q[i:j], q[i:j]})
			i = j
		case isWordByte(c):
			j := i
			for j < len(q) && (isWordByte(q[j]) || q[j] == '.') {
				j++
			}
			out = append(out, token{tkWord, q[i:j], q[i:j]})
			i = j
		default:
			n := 1
			if i+1 < len(q) {
				if two := q[i : i+2]; two == "!=" || two == "<>" || two == "<=" || two == ">=" {
					n = 2
				}
			}
			out = append(out, token{tkSymbol, q[i : i+n], q[i : i+n]})
			i += n
		}
	}
	return append(out, token{kind: tkEOF}), true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$'
}

// coqlQuery is a parsed query.
type coqlQuery struct {
	mod    *moduleDef
	cols   []*column
	where  *critNode
	order  []sortKey
	limit  int
	offset int
}

type sortKey struct {
	col  *column
	desc bool
}

type coqlParser struct {
	toks   []token
	pos    int
	clause string
	mod    *moduleDef
	conds  int
}

func (p *coqlParser) peek() token { return p.toks[p.pos] }

// next consumes a token; at the end it keeps answering the end.
func (p *coqlParser) next() token {
	t := p.toks[p.pos]
	if t.kind != tkEOF {
		p.pos++
	}
	return t
}

// unread gives back the token next returned, so an error names it.
func (p *coqlParser) unread(t token) {
	if t.kind != tkEOF {
		p.pos--
	}
}

// keyword reports whether the next token is the word kw, and consumes it.
func (p *coqlParser) keyword(kw string) bool {
	if t := p.peek(); t.kind == tkWord && strings.EqualFold(t.text, kw) {
		p.pos++
		return true
	}
	return false
}

func (p *coqlParser) symbol(s string) bool {
	if t := p.peek(); t.kind == tkSymbol && t.text == s {
		p.pos++
		return true
	}
	return false
}

// syntax is Zoho's SYNTAX_ERROR near the next token (the message wording
// is UNVERIFIED; the details' keys are CRM's).
func (p *coqlParser) syntax() *zerr {
	near := p.peek().raw
	if p.peek().kind == tkEOF {
		near = "end of query"
	}
	return &zerr{http.StatusBadRequest, "SYNTAX_ERROR", "error occurred in the " + p.clause + " clause near " + near,
		map[string]any{"clause": p.clause, "near": near}}
}

func invalidColumn(name string) *zerr {
	return &zerr{http.StatusBadRequest, "INVALID_QUERY", "Invalid query formed", map[string]any{"column_name": name, "reason": "column given seems to be invalid"}}
}

func coqlLimit(by string, limit int) *zerr {
	// UNVERIFIED: the details of Zoho's LIMIT_EXCEEDED for COQL.
	return &zerr{http.StatusBadRequest, "LIMIT_EXCEEDED", "the " + by + " exceeds the maximum allowed", map[string]any{"clause": by, "limit": limit}}
}

// parseCOQL parses a query; columns are checked against the FROM module.
func parseCOQL(q string) (*coqlQuery, *zerr) {
	toks, ok := lex(q)
	if !ok {
		return nil, &zerr{http.StatusBadRequest, "SYNTAX_ERROR", "a string is not closed", map[string]any{"clause": "select", "near": "'"}}
	}
	p := &coqlParser{toks: toks, clause: "select"}
	if !p.keyword("select") {
		return nil, p.syntax()
	}
	var names []token
	for {
		t := p.peek()
		if t.kind != tkWord && t.kind != tkString && t.kind != tkQuoted || isReserved(t) {
			return nil, p.syntax() // e.g. SELECT *, or a reserved word unquoted
		}
		names = append(names, p.next())
		if !p.symbol(",") {
			break
		}
	}
	if !p.keyword("from") {
		return nil, p.syntax()
	}
	p.clause = "from"
	t := p.next()
	if t.kind != tkWord {
		p.unread(t)
		return nil, p.syntax()
	}
	if p.mod = moduleOf(t.text); p.mod == nil {
		return nil, &zerr{http.StatusBadRequest, "INVALID_QUERY", "Invalid query formed", map[string]any{"module": t.text, "reason": "the module name given seems to be invalid"}}
	}
	out := &coqlQuery{mod: p.mod, limit: coqlMaxLimit}
	if len(names) > coqlMaxColumns {
		return nil, coqlLimit("select", coqlMaxColumns)
	}
	for _, n := range names {
		c, e := p.column(n.text)
		if e != nil {
			return nil, e
		}
		out.cols = append(out.cols, c)
	}
	if !p.keyword("where") {
		return nil, p.syntax()
	}
	p.clause = "where"
	w, e := p.condition()
	if e != nil {
		return nil, e
	}
	out.where = w
	if p.keyword("order") {
		p.clause = "order by"
		if !p.keyword("by") {
			return nil, p.syntax()
		}
		for {
			t := p.next()
			if t.kind != tkWord && t.kind != tkQuoted && t.kind != tkString {
				p.unread(t)
				return nil, p.syntax()
			}
			c, e := p.column(t.text)
			if e != nil {
				return nil, e
			}
			k := sortKey{col: c}
			if p.keyword("desc") {
				k.desc = true
			} else {
				p.keyword("asc")
			}
			out.order = append(out.order, k)
			if !p.symbol(",") {
				break
			}
		}
	}
	if p.keyword("limit") {
		p.clause = "limit"
		n, e := p.integer()
		if e != nil {
			return nil, e
		}
		out.limit = n
		if p.symbol(",") { // LIMIT offset, count (CRM; UNVERIFIED for Bigin)
			m, e := p.integer()
			if e != nil {
				return nil, e
			}
			out.offset, out.limit = n, m
		} else if p.keyword("offset") {
			m, e := p.integer()
			if e != nil {
				return nil, e
			}
			out.offset = m
		}
	}
	if p.peek().kind != tkEOF {
		return nil, p.syntax()
	}
	if out.limit > coqlMaxLimit || out.limit < 1 {
		return nil, coqlLimit("limit", coqlMaxLimit)
	}
	if out.offset+out.limit > coqlMaxReach {
		return nil, coqlLimit("offset", coqlMaxReach)
	}
	return out, nil
}

// isReserved reports an unquoted keyword where a column is expected.
func isReserved(t token) bool {
	if t.kind != tkWord {
		return false
	}
	switch strings.ToLower(t.text) {
	case "select", "from", "where", "order", "by", "limit", "offset", "and", "or", "not", "in", "like", "is", "null", "between", "asc", "desc", "external":
		return true
	}
	return false
}

func (p *coqlParser) integer() (int, *zerr) {
	t := p.next()
	n, err := strconv.Atoi(t.text)
	if t.kind != tkNumber || err != nil || n < 0 {
		p.unread(t)
		return 0, p.syntax()
	}
	return n, nil
}

// column resolves a column of the FROM module.
func (p *coqlParser) column(name string) (*column, *zerr) {
	if name == "id" {
		return &column{name: name}, nil
	}
	base, sub, dotted := strings.Cut(name, ".")
	f := p.mod.field(base)
	if f == nil {
		return nil, invalidColumn(name)
	}
	if !dotted {
		return &column{name: name, field: f}, nil
	}
	// A field of the looked-up record: lookups to one module only
	// (Owner's user fields and Related_To are not served).
	if f.typ != tLookup || f.lookup == "" {
		return nil, invalidColumn(name)
	}
	target := schema[f.lookup]
	c := &column{name: name, via: f}
	if sub != "id" {
		if c.field = target.field(sub); c.field == nil {
			return nil, invalidColumn(name)
		}
	}
	return c, nil
}

// condition parses term [(AND|OR) term]: two terms at most without
// brackets, as Zoho requires.
func (p *coqlParser) condition() (*critNode, *zerr) {
	left, e := p.term()
	if e != nil {
		return nil, e
	}
	var op string
	switch {
	case p.keyword("and"):
		op = "and"
	case p.keyword("or"):
		op = "or"
	default:
		return left, nil
	}
	right, e := p.term()
	if e != nil {
		return nil, e
	}
	if t := p.peek(); t.kind == tkWord && (strings.EqualFold(t.text, "and") || strings.EqualFold(t.text, "or")) {
		return nil, p.syntax() // a third condition needs brackets
	}
	return &critNode{op: op, kids: []*critNode{left, right}}, nil
}

func (p *coqlParser) term() (*critNode, *zerr) {
	if p.symbol("(") {
		n, e := p.condition()
		if e != nil {
			return nil, e
		}
		if !p.symbol(")") {
			return nil, p.syntax()
		}
		return n, nil
	}
	if p.conds++; p.conds > coqlMaxConds {
		return nil, coqlLimit("where", coqlMaxConds)
	}
	t := p.peek()
	if t.kind != tkWord && t.kind != tkQuoted && t.kind != tkString || isReserved(t) {
		return nil, p.syntax()
	}
	p.pos++
	col, e := p.column(t.text)
	if e != nil {
		return nil, e
	}
	f := col.def()
	n := &critNode{col: col}
	not := false
	opTok := p.peek()
	switch {
	case p.keyword("is"):
		n.cmp = "is_null"
		if p.keyword("not") {
			n.cmp = "is_not_null"
		}
		if !p.keyword("null") {
			return nil, p.syntax()
		}
		return n, nil
	case p.keyword("not"):
		not = true
		opTok = p.peek()
	}
	switch {
	case p.keyword("in"):
		n.cmp = "in"
		if !p.symbol("(") {
			return nil, p.syntax()
		}
		for {
			v, e := p.value(f)
			if e != nil {
				return nil, e
			}
			n.lits = append(n.lits, v)
			if !p.symbol(",") {
				break
			}
		}
		if !p.symbol(")") {
			return nil, p.syntax()
		}
		if len(n.lits) > coqlMaxIn {
			return nil, coqlLimit("in", coqlMaxIn)
		}
	case p.keyword("like"):
		n.cmp = "like"
		t := p.next()
		if t.kind != tkString {
			p.unread(t)
			return nil, p.syntax()
		}
		n.lits = []any{t.text}
	case p.keyword("between"):
		n.cmp = "between"
		lo, e := p.value(f)
		if e != nil {
			return nil, e
		}
		if !p.keyword("and") {
			return nil, p.syntax()
		}
		hi, e := p.value(f)
		if e != nil {
			return nil, e
		}
		n.lits = []any{lo, hi}
	case not:
		return nil, p.syntax()
	default:
		ops := map[string]string{"=": "equals", "!=": "not_equal", "<>": "not_equal", ">": "greater_than", ">=": "greater_equal", "<": "less_than", "<=": "less_equal"}
		t := p.next()
		op, ok := ops[t.text]
		if t.kind != tkSymbol || !ok {
			p.unread(t)
			return nil, p.syntax()
		}
		n.cmp = op
		v, e := p.value(f)
		if e != nil {
			return nil, e
		}
		n.lits = []any{v}
	}
	if not {
		n.cmp = "not_" + n.cmp
	}
	if !allowed(f, n.cmp) {
		return nil, &zerr{http.StatusBadRequest, "INVALID_QUERY", "Invalid query formed",
			map[string]any{"operator": strings.ToLower(opTok.raw), "column_name": col.name, "reason": "invalid operator found"}}
	}
	return n, nil
}

// value reads a literal for a field: a string, a number, or true/false
// (IS NULL is the way to ask for no value).
func (p *coqlParser) value(f *fieldDef) (any, *zerr) {
	t := p.next()
	var text string
	switch {
	case t.kind == tkString || t.kind == tkNumber:
		text = t.text
	case t.kind == tkWord && (strings.EqualFold(t.text, "true") || strings.EqualFold(t.text, "false")):
		text = strings.ToLower(t.text)
	default:
		p.unread(t)
		return nil, p.syntax()
	}
	v, ok := literal(f, text)
	if !ok {
		return nil, &zerr{http.StatusBadRequest, "INVALID_QUERY", "Invalid query formed",
			map[string]any{"column_name": f.api, "reason": "the value given seems to be invalid", "value": text}}
	}
	return v, nil
}

// coql serves POST /coql: {"select_query":"…"} → {"data":[rows],"info":
// {"count","more_records"}}, 204 when no row matches. The FROM module
// needs its read scope besides ZohoBigin.coql.READ.
func (s *Sandbox) coql(w http.ResponseWriter, r *http.Request, c *recCall) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxQueryBody+1))
	var in struct {
		SelectQuery *string `json:"select_query"`
	}
	if err != nil || len(body) > maxQueryBody || json.Unmarshal(body, &in) != nil {
		writeError(w, http.StatusBadRequest, "INVALID_DATA", "invalid data", map[string]any{"expected_data_type": "jsonobject"})
		return
	}
	if in.SelectQuery == nil || strings.TrimSpace(*in.SelectQuery) == "" {
		missingParam("select_query").write(w)
		return
	}
	q, e := parseCOQL(*in.SelectQuery)
	if e != nil {
		e.write(w)
		return
	}
	if !moduleAllowed(c.scopes, q.mod.name, "READ") {
		writeError(w, http.StatusUnauthorized, "OAUTH_SCOPE_MISMATCH", "Unauthorized", nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.storeLocked()
	ev := &evaluator{s: s, st: st}
	var rows []*record
	for _, rec := range st.tables[q.mod.name].recs {
		if ev.criteria(q.where, rec) {
			rows = append(rows, rec)
		}
	}
	if len(q.order) > 0 {
		slices.SortStableFunc(rows, func(a, b *record) int {
			for _, k := range q.order {
				c := compareValues(ev.value(a, k.col), ev.value(b, k.col))
				if k.desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return strings.Compare(a.id, b.id)
		})
	}
	if q.offset >= len(rows) {
		writeNoContent(w)
		return
	}
	end := min(q.offset+q.limit, len(rows))
	b := []byte(`{"data":[`)
	for i, rec := range rows[q.offset:end] {
		if i > 0 {
			b = append(b, ',')
		}
		b = s.appendRow(b, ev, rec, q.cols)
	}
	b = append(b, `],"info":{"count":`...)
	b = strconv.AppendInt(b, int64(end-q.offset), 10)
	b = append(b, `,"more_records":`...)
	b = strconv.AppendBool(b, end < len(rows))
	writeBody(w, http.StatusOK, append(b, "}}"...))
}

// appendRow appends one COQL row: the columns as selected (a lookup as
// {"id"} only, as CRM's COQL answers), then id.
func (s *Sandbox) appendRow(b []byte, ev *evaluator, rec *record, cols []*column) []byte {
	b = append(b, '{')
	for _, c := range cols {
		if c.name == "id" {
			continue
		}
		b = appendString(b, c.name)
		b = append(b, ':')
		switch v := ev.value(rec, c).(type) {
		case ref:
			if _, _, ok := s.refName(ev.st, v); !ok {
				b = append(b, "null"...)
				break
			}
			b = append(b, `{"id":`...)
			b = appendString(b, v.id)
			b = append(b, '}')
		default:
			b = s.appendValue(b, ev.st, v)
		}
		b = append(b, ',')
	}
	b = append(b, `"id":`...)
	b = appendString(b, rec.id)
	return append(b, '}')
}

// compareValues orders two values of one column: nulls first, text
// without case, references by id.
func compareValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch a := a.(type) {
	case string:
		bs, _ := b.(string)
		return cmp.Compare(strings.ToLower(a), strings.ToLower(bs))
	case float64:
		bf, _ := b.(float64)
		return cmp.Compare(a, bf)
	case bool:
		bb, _ := b.(bool)
		switch {
		case a == bb:
			return 0
		case !a:
			return -1
		}
		return 1
	case ref:
		br, _ := b.(ref)
		return strings.Compare(a.id, br.id)
	}
	return 0
}
