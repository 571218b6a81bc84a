package bigin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The record modules' API names. Bigin's UI calls Accounts "Companies"
// and Pipelines "Deals" (v1 of the API called that module Deals).
const (
	ModuleContacts  = "Contacts"
	ModuleAccounts  = "Accounts"
	ModulePipelines = "Pipelines"
	ModuleProducts  = "Products"
	ModuleTasks     = "Tasks"
	ModuleEvents    = "Events"
	ModuleCalls     = "Calls"
	// RelatedNotes is the related list of a record's notes.
	RelatedNotes = "Notes"
)

// Limits of the record calls.
const (
	// MaxFields is how many fields a list call may name.
	MaxFields = 50
	// MaxWriteRecords is how many records one insert, update or delete
	// carries.
	MaxWriteRecords = 100
	// MaxQueryRows is how many rows one COQL call returns (its LIMIT).
	MaxQueryRows = 200
	// MaxQueryOffset is how far COQL reads in all: LIMIT plus OFFSET.
	MaxQueryOffset = 10000
	// maxQueryLen bounds a COQL query the client sends.
	maxQueryLen = 10000
	// maxSearchLen bounds a search term or criteria the client sends.
	maxSearchLen = 2000
	// maxNoteLen bounds a note's content.
	maxNoteLen = 32000
)

// Modules returns the record modules' API names, Contacts first.
func Modules() []string {
	return []string{ModuleContacts, ModuleAccounts, ModulePipelines, ModuleProducts, ModuleTasks, ModuleEvents, ModuleCalls}
}

// SortFields returns the fields a record list can be sorted by.
func SortFields() []string { return []string{"id", "Created_Time", "Modified_Time"} }

// RelatedLists returns the related lists Zoho serves under a record of
// the module, Notes first: only Contacts, Accounts, Pipelines and Products
// have related lists (nil for the others). Zoho names a module's related
// lists in GET /settings/related_lists; this is the set of a standard org.
// A contact's Pipelines need a team pipeline (RelatedParams.PipelineID).
func RelatedLists(module string) []string {
	switch module {
	case ModuleContacts:
		return []string{RelatedNotes, ModulePipelines, ModuleProducts, ModuleTasks, ModuleEvents, ModuleCalls}
	case ModuleAccounts:
		return []string{RelatedNotes, ModuleContacts, ModulePipelines, ModuleProducts, ModuleTasks, ModuleEvents, ModuleCalls}
	case ModulePipelines:
		return []string{RelatedNotes, ModuleContacts, ModuleProducts, ModuleTasks, ModuleEvents, ModuleCalls}
	case ModuleProducts:
		return []string{RelatedNotes, ModuleContacts, ModuleAccounts, ModulePipelines}
	}
	return nil
}

// ListRecordsParams selects a page of one module's records:
// GET /bigin/v2/{module}.
type ListRecordsParams struct {
	Module string
	// Fields are the API names to return, 1 to MaxFields: Zoho requires
	// them on every list call. The record's "id" always comes back.
	Fields  []string
	Page    int // 1-based; 0 means 1
	PerPage int // 1..200; 0 means 200
	// SortBy is "", "id", "Created_Time" or "Modified_Time"; SortOrder
	// "", "asc" or "desc". Empty leaves Zoho's default (id, descending).
	SortBy    string
	SortOrder string
	// PipelineID, for Pipelines only, lists one team pipeline's deals:
	// the id of its layout (see Layouts).
	PipelineID string
}

// ListRecords returns one page of a module's records, each Zoho's JSON
// object unchanged (a 204 is an empty page): GET /bigin/v2/{module}
// ?fields=&page=&per_page=&sort_by=&sort_order=&pipeline_id=.
func (c *Client) ListRecords(ctx context.Context, p ListRecordsParams) (Page, error) {
	if err := checkModule(p.Module); err != nil {
		return Page{}, err
	}
	if len(p.Fields) == 0 {
		return Page{}, fmt.Errorf("bigin: %w: a record list needs at least one field name (Zoho requires fields)", ErrInvalidArgument)
	}
	q, err := listQuery(p.Fields, p.Page, p.PerPage)
	if err != nil {
		return Page{}, err
	}
	if p.SortBy != "" {
		if !slices.Contains(SortFields(), p.SortBy) {
			return Page{}, fmt.Errorf("bigin: %w: sort_by %q; Zoho sorts records by %s", ErrInvalidArgument, clip(p.SortBy), strings.Join(SortFields(), ", "))
		}
		q.Set("sort_by", p.SortBy)
	}
	if p.SortOrder != "" {
		if p.SortOrder != "asc" && p.SortOrder != "desc" {
			return Page{}, fmt.Errorf("bigin: %w: sort_order %q; it is asc or desc", ErrInvalidArgument, clip(p.SortOrder))
		}
		q.Set("sort_order", p.SortOrder)
	}
	if p.PipelineID != "" {
		if p.Module != ModulePipelines {
			return Page{}, fmt.Errorf("bigin: %w: a team pipeline filters Pipelines only, not %s", ErrInvalidArgument, p.Module)
		}
		if err := checkRecordID("team pipeline", p.PipelineID); err != nil {
			return Page{}, err
		}
		q.Set("pipeline_id", p.PipelineID)
	}
	return c.recordPage(ctx, "/"+p.Module, q)
}

// GetRecord returns one record: GET /bigin/v2/{module}/{id}, with only
// the fields named (and "id") when fields is not empty. An unknown id is
// Zoho's INVALID_DATA error (Zoho answers it with 400, or with 204).
func (c *Client) GetRecord(ctx context.Context, module, id string, fields []string) (json.RawMessage, error) {
	if err := checkModule(module); err != nil {
		return nil, err
	}
	if err := checkRecordID("record", id); err != nil {
		return nil, err
	}
	var q url.Values
	if len(fields) > 0 {
		list, err := fieldList(fields)
		if err != nil {
			return nil, err
		}
		q = url.Values{"fields": {list}}
	}
	a, err := c.do(ctx, request{method: http.MethodGet, path: "/" + module + "/" + id, query: q, shape: recordItems})
	if err != nil {
		return nil, err
	}
	if a.top == nil {
		return nil, &APIError{Status: a.status, Code: "INVALID_DATA", Message: "no " + module + " record has this id (Zoho answered 204 No Content)"}
	}
	return one(a, "data")
}

// SearchParams selects a page of search results: exactly one of
// Criteria, Word, Email and Phone.
type SearchParams struct {
	Module string
	// Criteria is Zoho's criteria expression, e.g.
	// "((Last_Name:equals:Boyle)and(Email:starts_with:p))"; escape "(",
	// ")" and "," in values with a backslash.
	Criteria string
	// Word matches records with the word in any text field.
	Word string
	// Email and Phone match records by their email or phone fields.
	Email string
	Phone string
	// Fields are the API names to return; empty means Zoho's own set.
	Fields  []string
	Page    int // 1-based; 0 means 1
	PerPage int // 1..200; 0 means 200
}

// SearchRecords returns one page of a module's records that match (a 204,
// nothing matched, is an empty page): GET /bigin/v2/{module}/search
// ?criteria=|word=|email=|phone=&fields=&page=&per_page=.
func (c *Client) SearchRecords(ctx context.Context, p SearchParams) (Page, error) {
	if err := checkModule(p.Module); err != nil {
		return Page{}, err
	}
	var key, val string
	n := 0
	for _, kv := range [][2]string{{"criteria", p.Criteria}, {"word", p.Word}, {"email", p.Email}, {"phone", p.Phone}} {
		if strings.TrimSpace(kv[1]) != "" {
			key, val = kv[0], kv[1]
			n++
		}
	}
	if n != 1 {
		return Page{}, fmt.Errorf("bigin: %w: a search takes exactly one of criteria, word, email and phone, got %d", ErrInvalidArgument, n)
	}
	if len(val) > maxSearchLen {
		return Page{}, fmt.Errorf("bigin: %w: the search %s is longer than %d bytes", ErrInvalidArgument, key, maxSearchLen)
	}
	q, err := listQuery(p.Fields, p.Page, p.PerPage)
	if err != nil {
		return Page{}, err
	}
	q.Set(key, val)
	return c.recordPage(ctx, "/"+p.Module+"/search", q)
}

// QueryRecords runs one COQL query: POST /bigin/v2/coql with
// {"select_query": query}. The rows come back as Zoho sent them (a
// selected lookup is {"id"} only; dotted columns such as
// "Account_Name.Account_Name" are keys of their own); Info holds Zoho's
// count and more_records (no page numbers: COQL pages with LIMIT and
// OFFSET, at most MaxQueryRows a call and MaxQueryOffset in all). No rows
// (204) is an empty page.
func (c *Client) QueryRecords(ctx context.Context, query string) (Page, error) {
	if strings.TrimSpace(query) == "" {
		return Page{}, fmt.Errorf("bigin: %w: the COQL query is empty", ErrInvalidArgument)
	}
	if len(query) > maxQueryLen {
		return Page{}, fmt.Errorf("bigin: %w: the COQL query is longer than %d bytes", ErrInvalidArgument, maxQueryLen)
	}
	body, err := json.Marshal(struct {
		SelectQuery string `json:"select_query"`
	}{query})
	if err != nil {
		return Page{}, fmt.Errorf("bigin: encode the query: %w", err)
	}
	// COQL only reads, but it is a POST: like every write it is not
	// retried on 5xx (a POST is never repeated by this client).
	a, err := c.do(ctx, request{method: http.MethodPost, path: "/coql", body: body, shape: recordItems})
	if err != nil {
		return Page{}, err
	}
	return pageOf(a, 0, 0)
}

// RelatedParams selects a page of one record's related list:
// GET /bigin/v2/{module}/{id}/{related}.
type RelatedParams struct {
	Module string // the parent: Contacts, Accounts, Pipelines or Products
	ID     string // the parent record's id
	// Related is one of RelatedLists(Module), e.g. Notes or Pipelines.
	Related string
	// Fields are the API names to return, 1 to MaxFields.
	Fields  []string
	Page    int // 1-based; 0 means 1
	PerPage int // 1..200; 0 means 200
	// PipelineID is the team pipeline of a contact's Pipelines, which
	// Zoho requires; other related lists take none.
	PipelineID string
}

// RelatedRecords returns one page of a record's related list (a 204 is an
// empty page): GET /bigin/v2/{module}/{id}/{related}?fields=&page=
// &per_page=[&pipeline_id=].
func (c *Client) RelatedRecords(ctx context.Context, p RelatedParams) (Page, error) {
	if err := checkModule(p.Module); err != nil {
		return Page{}, err
	}
	lists := RelatedLists(p.Module)
	if lists == nil {
		return Page{}, fmt.Errorf("bigin: %w: %s records have no related lists; only %s, %s, %s and %s do", ErrInvalidArgument,
			p.Module, ModuleContacts, ModuleAccounts, ModulePipelines, ModuleProducts)
	}
	if !slices.Contains(lists, p.Related) {
		return Page{}, fmt.Errorf("bigin: %w: related list %q; a %s record's are %s", ErrInvalidArgument, clip(p.Related), p.Module, strings.Join(lists, ", "))
	}
	if err := checkRecordID("record", p.ID); err != nil {
		return Page{}, err
	}
	if len(p.Fields) == 0 {
		return Page{}, fmt.Errorf("bigin: %w: a related list needs at least one field name (Zoho requires fields)", ErrInvalidArgument)
	}
	q, err := listQuery(p.Fields, p.Page, p.PerPage)
	if err != nil {
		return Page{}, err
	}
	switch {
	case p.Module == ModuleContacts && p.Related == ModulePipelines:
		if p.PipelineID == "" {
			return Page{}, fmt.Errorf("bigin: %w: a contact's Pipelines are listed one team pipeline at a time; Zoho needs its id", ErrInvalidArgument)
		}
		if err := checkRecordID("team pipeline", p.PipelineID); err != nil {
			return Page{}, err
		}
		q.Set("pipeline_id", p.PipelineID)
	case p.PipelineID != "":
		return Page{}, fmt.Errorf("bigin: %w: only a contact's Pipelines take a team pipeline", ErrInvalidArgument)
	}
	return c.recordPage(ctx, "/"+p.Module+"/"+p.ID+"/"+p.Related, q)
}

// recordPage reads a GET answer of {"data":[records],"info":{…}}.
func (c *Client) recordPage(ctx context.Context, path string, q url.Values) (Page, error) {
	a, err := c.do(ctx, request{method: http.MethodGet, path: path, query: q, shape: recordItems})
	if err != nil {
		return Page{}, err
	}
	page, _ := strconv.Atoi(q.Get("page"))
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	return pageOf(a, page, perPage)
}

// pageOf reads the records under "data" and Zoho's "info"; a 204 is an
// empty page.
func pageOf(a *answer, page, perPage int) (Page, error) {
	if a.top == nil {
		return Page{Records: []json.RawMessage{}, Info: PageInfo{Page: page, PerPage: perPage}}, nil
	}
	recs, err := a.records("data")
	if err != nil {
		return Page{}, err
	}
	pg := Page{Records: recs, Info: PageInfo{Page: page, PerPage: perPage, Count: len(recs)}}
	if _, ok := a.top["info"]; ok {
		if err := a.field("info", &pg.Info); err != nil {
			return Page{}, err
		}
	}
	return pg, nil
}

// listQuery is the fields, page and per_page of a list call.
func listQuery(fields []string, page, perPage int) (url.Values, error) {
	if page < 0 {
		return nil, fmt.Errorf("bigin: %w: page must be 1 or more, got %d", ErrInvalidArgument, page)
	}
	if perPage < 0 || perPage > MaxPerPage {
		return nil, fmt.Errorf("bigin: %w: per_page must be 1 to %d, got %d", ErrInvalidArgument, MaxPerPage, perPage)
	}
	if page == 0 {
		page = 1
	}
	if perPage == 0 {
		perPage = MaxPerPage
	}
	q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(perPage)}}
	if len(fields) > 0 {
		list, err := fieldList(fields)
		if err != nil {
			return nil, err
		}
		q.Set("fields", list)
	}
	return q, nil
}

// fieldList joins field API names with commas, refusing more than
// MaxFields and names that could not be Zoho's (empty, or holding a
// comma, a space or a character outside letters, digits, "_" and "$").
func fieldList(fields []string) (string, error) {
	if len(fields) > MaxFields {
		return "", fmt.Errorf("bigin: %w: at most %d fields, got %d", ErrInvalidArgument, MaxFields, len(fields))
	}
	for _, f := range fields {
		if !apiName(f) {
			return "", fmt.Errorf("bigin: %w: %q is not a field API name (letters, digits and underscores, e.g. Last_Name)", ErrInvalidArgument, clip(f))
		}
	}
	return strings.Join(fields, ","), nil
}

// apiName reports whether s can be a Zoho API name.
func apiName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := range len(s) {
		if !wordByte(s[i]) {
			return false
		}
	}
	return true
}

// wordByte reports whether c can be in an API name: a letter, a digit,
// "_" or "$".
func wordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$'
}

// checkModule refuses a module that is not one of Modules().
func checkModule(module string) error {
	if !slices.Contains(Modules(), module) {
		return fmt.Errorf("bigin: %w: module %q; the record modules are %s", ErrInvalidArgument, clip(module), strings.Join(Modules(), ", "))
	}
	return nil
}

// QueryModule returns the module a COQL query names first: the word after
// its first FROM outside quotes, e.g. "Contacts" for "select Last_Name
// from Contacts where …". It is not every module the query reads: a
// column in dot notation (Account_Name.Phone, in SELECT, WHERE or ORDER
// BY) reads the record its lookup points to, in another module, and a
// subquery has a FROM of its own. A caller that allows only some modules
// checks ReadQuery's Modules and Lookups as well. A query with no FROM, or
// a FROM not followed by a name, wraps ErrInvalidArgument.
func QueryModule(query string) (string, error) {
	q, err := ReadQuery(query)
	return q.Module, err
}

// Query is a COQL query read at its top-level keywords (outside quotes),
// so that a caller can page it or complete it without parsing it whole.
type Query struct {
	// Text is the query as given, without surrounding space or a
	// trailing semicolon.
	Text string
	// Module is the word after the first FROM.
	Module string
	// Modules are the names after every FROM outside quotes, Module
	// first, once each: a subquery's module as well.
	Modules []string
	// Lookups are the columns that read a looked-up record by dot
	// notation, anywhere in the query, as written without spaces around
	// the dots: "Account_Name.Phone" reads the Phone of the Accounts
	// record a contact's Account_Name points to. A dotted name in quotes
	// counts where a column stands: in SELECT and ORDER BY, and before a
	// comparator. The list errs on the side of more: a query is read both
	// with and without backslash escapes in quotes.
	Lookups []string
	// MaybeLookups are the other quoted texts that read as dotted names,
	// such as 'www.example.com': values where Zoho's grammar wants a
	// value, but a caller that must not miss a column checks that their
	// first name is not a lookup (a value rarely starts with one).
	MaybeLookups []string
	// HasWhere and HasLimit report a WHERE and a LIMIT clause.
	HasWhere, HasLimit bool
	// whereAt is where a WHERE clause goes when there is none: before
	// ORDER BY or LIMIT, else at the end.
	whereAt int
}

// ReadQuery reads a COQL query's module and clauses. A query with no FROM,
// or a FROM not followed by a name, wraps ErrInvalidArgument.
func ReadQuery(query string) (Query, error) {
	text := strings.TrimSpace(query)
	text = strings.TrimSpace(strings.TrimSuffix(text, ";"))
	q := Query{Text: text, whereAt: len(text)}
	words := queryWords(text)
	from := -1
	for k, w := range words {
		switch {
		case from < 0 && strings.EqualFold(w.text, "from"):
			from = k
		case from < 0:
		case strings.EqualFold(w.text, "where"):
			q.HasWhere = true
		case strings.EqualFold(w.text, "limit"):
			q.HasLimit = true
			q.whereAt = min(q.whereAt, w.at)
		case strings.EqualFold(w.text, "order") && k+1 < len(words) && strings.EqualFold(words[k+1].text, "by"):
			q.whereAt = min(q.whereAt, w.at)
		}
	}
	if from < 0 || from+1 >= len(words) || words[from+1].text == "" {
		return Query{}, fmt.Errorf("bigin: %w: the COQL query names no module after FROM", ErrInvalidArgument)
	}
	q.Module = words[from+1].text
	q.Modules = []string{q.Module}
	for _, escapes := range []bool{false, true} {
		r := queryRefs(text, escapes)
		for _, m := range r.froms {
			if !slices.ContainsFunc(q.Modules, func(n string) bool { return strings.EqualFold(n, m) }) {
				q.Modules = append(q.Modules, m)
			}
		}
		q.Lookups = appendNew(q.Lookups, r.lookups...)
		q.MaybeLookups = appendNew(q.MaybeLookups, r.maybe...)
	}
	q.MaybeLookups = slices.DeleteFunc(q.MaybeLookups, func(l string) bool { return slices.Contains(q.Lookups, l) })
	return q, nil
}

// appendNew appends the values list does not hold yet.
func appendNew(list []string, values ...string) []string {
	for _, v := range values {
		if !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}

// Complete returns the query with "where id is not null" added when it
// has no WHERE clause: Zoho's COQL has required one (CRM's before v7),
// and the condition selects every record.
func (q Query) Complete() string {
	if q.HasWhere {
		return q.Text
	}
	out := strings.TrimSpace(q.Text[:q.whereAt]) + " where id is not null"
	if tail := strings.TrimSpace(q.Text[q.whereAt:]); tail != "" {
		out += " " + tail
	}
	return out
}

// Page returns the completed query reading limit rows from offset; only
// for a query without its own LIMIT.
func (q Query) Page(limit, offset int) string {
	return q.Complete() + " limit " + strconv.Itoa(limit) + " offset " + strconv.Itoa(offset)
}

// queryWord is a word of a query and where it starts; a quoted value or
// column is a word with no text, so it is never taken for a keyword.
type queryWord struct {
	text string
	at   int
}

// queryWords splits a query into its words outside quotes.
func queryWords(query string) []queryWord {
	var words []queryWord
	for i := 0; i < len(query); {
		switch c := query[i]; {
		case c == '\'' || c == '"':
			// Skip the quoted text; a doubled quote stays inside.
			start := i
			for i++; i < len(query); i++ {
				if query[i] == c {
					if i+1 < len(query) && query[i+1] == c {
						i++
						continue
					}
					break
				}
			}
			i++
			words = append(words, queryWord{at: start})
		case wordByte(c):
			j := i
			for j < len(query) && wordByte(query[j]) {
				j++
			}
			words = append(words, queryWord{text: query[i:j], at: i})
			i = j
		default:
			i++
		}
	}
	return words
}

// refToken is a token of a query as queryRefs reads it.
type refToken struct {
	kind byte   // 'w' a word, 'q' a quoted name or value, '.' a dot, 's' another symbol
	text string // a word, a quoted token's content, a symbol
}

// refTokens splits a query into words, quoted tokens, dots and other
// symbols. With escapes, a backslash in quotes takes the next character
// as it is (the sandbox's reading; Zoho's docs do not say); a doubled
// quote stays inside either way, and an unclosed quote runs to the end.
func refTokens(query string, escapes bool) []refToken {
	var out []refToken
	for i := 0; i < len(query); {
		switch c := query[i]; {
		case c <= ' ' || c >= 0x7f:
			i++ // space, and to be safe any other byte outside printable ASCII
		case c == '\'' || c == '"':
			var b strings.Builder
			for i++; i < len(query); i++ {
				if escapes && query[i] == '\\' && i+1 < len(query) {
					i++
				} else if query[i] == c {
					if i+1 >= len(query) || query[i+1] != c {
						break
					}
					i++
				}
				b.WriteByte(query[i])
			}
			i++
			out = append(out, refToken{'q', b.String()})
		case wordByte(c):
			j := i
			for j < len(query) && wordByte(query[j]) {
				j++
			}
			out = append(out, refToken{'w', query[i:j]})
			i = j
		case c == '.':
			out = append(out, refToken{'.', "."})
			i++
		default:
			n := 1
			if i+1 < len(query) {
				switch query[i : i+2] {
				case "!=", "<>", "<=", ">=":
					n = 2
				}
			}
			out = append(out, refToken{'s', query[i : i+n]})
			i += n
		}
	}
	return out
}

// comparator reports whether t compares a column with a value.
func comparator(t refToken) bool {
	switch {
	case t.kind == 's':
		switch t.text {
		case "=", "!=", "<>", "<", ">", "<=", ">=":
			return true
		}
	case t.kind == 'w':
		for _, w := range []string{"like", "not", "in", "is", "between"} {
			if strings.EqualFold(t.text, w) {
				return true
			}
		}
	}
	return false
}

// refs are what a query names besides its columns of the FROM module.
type refs struct {
	froms   []string // the names after each FROM
	lookups []string // Query.Lookups
	maybe   []string // Query.MaybeLookups
}

// queryRefs reads a query's refs, with or without backslash escapes in
// quotes.
func queryRefs(query string, escapes bool) refs {
	var r refs
	toks := refTokens(query, escapes)
	name := func(t refToken) bool { return t.kind == 'w' || t.kind == 'q' }
	clause := ""
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind == 'w' {
			switch w := strings.ToLower(t.text); {
			case w == "select", w == "where", w == "limit", w == "offset":
				clause = w
			case w == "order" && i+1 < len(toks) && strings.EqualFold(toks[i+1].text, "by"):
				clause = "order"
				i++
				continue
			case w == "from":
				clause = w
				if i+1 < len(toks) && name(toks[i+1]) {
					r.froms = append(r.froms, strings.TrimSpace(toks[i+1].text))
					i++
				}
				continue
			}
		}
		if t.kind == 's' && t.text == ")" {
			clause = "where" // the end of a subquery, inside a condition
		}
		if !name(t) {
			continue
		}
		// A name and the names joined to it by dots.
		parts, j := []string{t.text}, i
		for j+2 < len(toks) && toks[j+1].kind == '.' && name(toks[j+2]) {
			parts = append(parts, toks[j+2].text)
			j += 2
		}
		if j+1 < len(toks) && toks[j+1].kind == '.' {
			parts, j = append(parts, ""), j+1 // a dot with nothing after it
		}
		dotted := j > i
		i = j
		if !dotted && (t.kind != 'q' || !strings.Contains(t.text, ".")) {
			continue
		}
		if t.kind == 'w' && len(parts) == 2 && number(parts[0]) && number(parts[1]) {
			continue // a decimal number
		}
		var segs []string
		for _, p := range parts {
			for _, s := range strings.Split(p, ".") {
				segs = append(segs, strings.TrimSpace(s))
			}
		}
		col := strings.Join(segs, ".")
		if !dotted && clause != "select" && clause != "order" && (i+1 >= len(toks) || !comparator(toks[i+1])) {
			r.maybe = append(r.maybe, col) // where a value stands
			continue
		}
		r.lookups = append(r.lookups, col)
	}
	return r
}

// number reports whether s is digits only.
func number(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
