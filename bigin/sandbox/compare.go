package sandbox

import (
	"cmp"
	"strconv"
	"strings"
	"time"
)

// column is a field a search criterion or a COQL query reads: one of the
// module's fields, "id", or (COQL) a field of the record a lookup points
// at, "Account_Name.Account_Name".
type column struct {
	name  string    // as written
	field *fieldDef // the field read; nil for id
	via   *fieldDef // the lookup of a dotted column
}

// idField stands for "id" where a fieldDef is needed.
var idField = &fieldDef{api: "id", typ: "id"}

// def returns the column's field, idField for id.
func (c *column) def() *fieldDef {
	if c.field == nil {
		return idField
	}
	return c.field
}

// emptyLit is Zoho's ${EMPTY}: no value.
type emptyLit struct{}

// evaluator reads and compares record values under the sandbox's lock.
type evaluator struct {
	s  *Sandbox
	st *recordStore
}

// value returns a record's value of the column: string, float64, bool,
// ref or nil.
func (ev *evaluator) value(r *record, c *column) any {
	if c.via != nil {
		rf, ok := r.get(c.via.api).(ref)
		if !ok {
			return nil
		}
		r = ev.st.all[rf.id]
		if r == nil {
			return nil
		}
	}
	if c.field == nil {
		return r.id
	}
	return r.get(c.field.api)
}

// literal parses a value given for a field: float64 for currency,
// time.Time for datetime, bool for boolean, else the string (a date is
// checked to be one). ok is false when it is not a value of the field.
func literal(f *fieldDef, s string) (any, bool) {
	switch f.typ {
	case tCurrency:
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		return v, err == nil
	case tDatetime:
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
		return t, err == nil
	case tDate:
		_, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
		return s, err == nil
	case tBoolean:
		v, err := strconv.ParseBool(strings.TrimSpace(s))
		return v, err == nil
	}
	return s, true
}

// equal reports whether a value equals a literal: text without case, a
// reference by its id or its name, numbers, dates and instants exactly.
func (ev *evaluator) equal(f *fieldDef, v, lit any) bool {
	if _, ok := lit.(emptyLit); ok {
		s, isStr := v.(string)
		return v == nil || isStr && s == ""
	}
	switch v := v.(type) {
	case nil:
		return false
	case string:
		switch l := lit.(type) {
		case string:
			return strings.EqualFold(v, l)
		case time.Time:
			t, err := time.Parse(time.RFC3339, v)
			return err == nil && t.Equal(l)
		}
	case float64:
		l, ok := lit.(float64)
		return ok && v == l
	case bool:
		l, ok := lit.(bool)
		return ok && v == l
	case ref:
		l, ok := lit.(string)
		if !ok {
			return false
		}
		name, _, _ := ev.s.refName(ev.st, v)
		return v.id == l || strings.EqualFold(name, l)
	}
	return false
}

// order compares a value with a literal of an ordered field; ok is false
// when the value is null or not comparable.
func order(v, lit any) (int, bool) {
	switch v := v.(type) {
	case float64:
		l, ok := lit.(float64)
		return cmp.Compare(v, l), ok
	case string:
		switch l := lit.(type) {
		case time.Time:
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return 0, false
			}
			return t.Compare(l), true
		case string:
			// Dates (YYYY-MM-DD) and ids (of one length) sort as text.
			return strings.Compare(v, l), true
		}
	}
	return 0, false
}

// text returns the text a pattern or prefix is matched against: a
// string, or a reference's name.
func (ev *evaluator) text(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case ref:
		name, _, ok := ev.s.refName(ev.st, v)
		return name, ok
	}
	return "", false
}

// like matches SQL's LIKE with % wildcards, without case.
func like(s, pattern string) bool {
	s, pattern = strings.ToLower(s), strings.ToLower(pattern)
	parts := strings.Split(pattern, "%")
	if len(parts) == 1 {
		return s == pattern
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}

// test applies an operator (criteria's names; COQL's are mapped to them)
// to a record's value. A null value is only equal to ${EMPTY}, and
// unequal to everything else.
func (ev *evaluator) test(f *fieldDef, v any, op string, lits []any) bool {
	switch op {
	case "equals":
		return ev.equal(f, v, lits[0])
	case "not_equal":
		return !ev.equal(f, v, lits[0])
	case "in", "not_in":
		in := false
		for _, l := range lits {
			if ev.equal(f, v, l) {
				in = true
				break
			}
		}
		return in == (op == "in")
	case "starts_with":
		t, ok := ev.text(v)
		l, _ := lits[0].(string)
		return ok && len(t) >= len(l) && strings.EqualFold(t[:len(l)], l)
	case "like", "not_like":
		t, ok := ev.text(v)
		l, _ := lits[0].(string)
		return ok && like(t, l) == (op == "like")
	case "is_null":
		return ev.equal(f, v, emptyLit{})
	case "is_not_null":
		return !ev.equal(f, v, emptyLit{})
	case "between", "not_between":
		lo, ok1 := order(v, lits[0])
		hi, ok2 := order(v, lits[1])
		return ok1 && ok2 && (lo >= 0 && hi <= 0) == (op == "between")
	}
	c, ok := order(v, lits[0])
	if !ok {
		return false
	}
	switch op {
	case "greater_than":
		return c > 0
	case "greater_equal":
		return c >= 0
	case "less_than":
		return c < 0
	case "less_equal":
		return c <= 0
	}
	return false
}

// allowed reports whether an operator applies to a field's type.
func allowed(f *fieldDef, op string) bool {
	switch op {
	case "equals", "not_equal", "is_null", "is_not_null":
		return true
	case "in", "not_in":
		return f.typ != tBoolean
	case "starts_with", "like", "not_like":
		return f.textual() || f.reference()
	case "greater_than", "greater_equal", "less_than", "less_equal", "between", "not_between":
		return f.ordered() || f.typ == "id"
	}
	return false
}
