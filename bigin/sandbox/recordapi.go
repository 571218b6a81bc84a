package sandbox

import (
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Limits of the record API.
const (
	maxFieldsParam = 50      // fields a list call may name
	maxPerPage     = 200     // records a page holds
	maxWrite       = 100     // records one write carries
	maxSearchHits  = 2000    // records a search reaches (CRM's cap)
	maxWriteBody   = 8 << 20 // bytes of a write's body the sandbox reads
)

// recCall is one call to a record endpoint.
type recCall struct {
	caller  User
	scopes  []string
	mod     *moduleDef
	id      string // the record in the path, if any
	related string // the related list in the path, if any
}

// zerr is a Zoho error answer.
type zerr struct {
	status  int
	code    string
	message string
	details map[string]any
}

func (e *zerr) write(w http.ResponseWriter) { writeError(w, e.status, e.code, e.message, e.details) }

func badParam(name string) *zerr {
	return &zerr{http.StatusBadRequest, "INVALID_DATA", "invalid data", map[string]any{"param_name": name}}
}

func missingParam(name string) *zerr {
	return &zerr{http.StatusBadRequest, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", map[string]any{"param_name": name}}
}

func invalidID() *zerr {
	return &zerr{http.StatusBadRequest, "INVALID_DATA", "the id given seems to be invalid", map[string]any{"resource_path_index": 1}}
}

// Scope checks. Zoho's rules: an .ALL scope covers every operation on
// what it names, and ZohoBigin.modules.ALL covers every module. Whether
// WRITE covers create and update as in other Zoho services is
// UNVERIFIED; the sandbox lets it. Scope names compare without case
// (Zoho's pages spell the module both "contacts" and "Pipelines").
func hasScope(granted []string, want ...string) bool {
	for _, g := range granted {
		for _, w := range want {
			if strings.EqualFold(g, w) {
				return true
			}
		}
	}
	return false
}

// operation is the scope operation of an HTTP method.
func operation(method string) string {
	switch method {
	case http.MethodPost:
		return "CREATE"
	case http.MethodPut:
		return "UPDATE"
	case http.MethodDelete:
		return "DELETE"
	}
	return "READ"
}

func moduleAllowed(granted []string, mod, op string) bool {
	m := "ZohoBigin.modules." + strings.ToLower(mod)
	want := []string{"ZohoBigin.modules.ALL", m + ".ALL", m + "." + op}
	if op == "CREATE" || op == "UPDATE" {
		want = append(want, m+".WRITE")
	}
	return hasScope(granted, want...)
}

// notesAllowed: Zoho's notes pages list the notes scope even next to
// modules.ALL, so the sandbox requires it besides the parent's.
func notesAllowed(granted []string, op string) bool {
	want := []string{"ZohoBigin.modules.notes.ALL", "ZohoBigin.modules.notes." + op}
	if op == "CREATE" {
		want = append(want, "ZohoBigin.modules.notes.WRITE")
	}
	return hasScope(granted, want...)
}

func settingsAllowed(granted []string, what string) bool {
	return hasScope(granted, "ZohoBigin.settings.ALL", "ZohoBigin.settings.READ",
		"ZohoBigin.settings."+what+".ALL", "ZohoBigin.settings."+what+".READ",
		"ZohoBigin.settings.modules.ALL", "ZohoBigin.settings.modules.READ")
}

// matchRecords finds the record endpoint of a path below /bigin/vN/.
// Module names are case-sensitive; an unknown one is not a URL Zoho
// serves (what Zoho answers for it is UNVERIFIED: CRM says INVALID_MODULE
// for some paths).
func matchRecords(rest string) *route {
	get := map[string][]string{http.MethodGet: nil}
	switch rest {
	case "coql":
		return &route{methods: map[string][]string{http.MethodPost: nil},
			allow:    func(_ string, g []string) bool { return hasScope(g, "ZohoBigin.coql.READ", "ZohoBigin.coql.ALL") },
			serveRec: (*Sandbox).coql}
	case "settings/fields":
		return &route{methods: get, allow: func(_ string, g []string) bool { return settingsAllowed(g, "fields") }, serveRec: (*Sandbox).fieldsMeta}
	case "settings/layouts":
		return &route{methods: get, allow: func(_ string, g []string) bool { return settingsAllowed(g, "layouts") }, serveRec: (*Sandbox).layoutsMeta}
	}
	parts := strings.Split(rest, "/")
	mod := moduleOf(parts[0])
	if mod == nil || len(parts) > 3 || slices.Contains(parts, "") {
		return nil
	}
	rt := &route{mod: mod}
	switch {
	case len(parts) == 1:
		rt.methods = map[string][]string{http.MethodGet: nil, http.MethodPost: nil, http.MethodPut: nil, http.MethodDelete: nil}
		rt.allow = func(m string, g []string) bool { return moduleAllowed(g, mod.name, operation(m)) }
		rt.serveRec = (*Sandbox).moduleRecords
	case parts[1] == "search" && len(parts) == 2:
		rt.methods = get
		// Search needs the module's scope and Zoho's search service's.
		rt.allow = func(_ string, g []string) bool {
			return moduleAllowed(g, mod.name, "READ") && hasScope(g, "ZohoSearch.securesearch.READ", "ZohoSearch.securesearch.ALL")
		}
		rt.serveRec = (*Sandbox).search
	case len(parts) == 2:
		rt.id = parts[1]
		rt.methods = map[string][]string{http.MethodGet: nil, http.MethodPut: nil, http.MethodDelete: nil}
		rt.allow = func(m string, g []string) bool { return moduleAllowed(g, mod.name, operation(m)) }
		rt.serveRec = (*Sandbox).oneRecord
	default:
		if mod.related == nil {
			return nil // only Contacts, Accounts, Pipelines and Products have related lists
		}
		rt.id, rt.related = parts[1], parts[2]
		rt.methods = get
		if rt.related == Notes {
			rt.methods = map[string][]string{http.MethodGet: nil, http.MethodPost: nil}
		}
		// Reading the parent is needed, and the related list's own scope
		// (the notes scope to add a note): Zoho's docs name the module
		// and notes scopes, not which operation of the parent's
		// (UNVERIFIED).
		rt.allow = func(m string, g []string) bool {
			if !moduleAllowed(g, mod.name, "READ") {
				return false
			}
			if rt.related == Notes {
				return notesAllowed(g, operation(m))
			}
			return moduleOf(rt.related) == nil || moduleAllowed(g, rt.related, "READ")
		}
		rt.serveRec = (*Sandbox).relatedRecords
	}
	return rt
}

// fieldsMask reads the fields parameter: which of the module's fields to
// answer. Zoho requires it on list calls (400 REQUIRED_PARAM_MISSING)
// and takes at most 50. A name that is not the module's is refused
// (UNVERIFIED: Zoho's answer to an unknown name in fields). "id" is
// always answered.
func fieldsMask(mod *moduleDef, q url.Values, required bool) ([]bool, *zerr) {
	raw, given := q["fields"]
	if !given || strings.TrimSpace(raw[0]) == "" {
		if required {
			return nil, missingParam("fields")
		}
		return nil, nil
	}
	names := strings.Split(raw[0], ",")
	if len(names) > maxFieldsParam {
		// UNVERIFIED: the code Zoho answers past 50 fields.
		return nil, &zerr{http.StatusBadRequest, "LIMIT_EXCEEDED", "the number of fields exceeds the limit",
			map[string]any{"param_name": "fields", "limit": maxFieldsParam}}
	}
	keep := make([]bool, len(mod.fields))
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "id" || n == "$se_module" && mod.seField != "" {
			continue
		}
		i, ok := mod.index[n]
		if !ok {
			return nil, &zerr{http.StatusBadRequest, "INVALID_DATA", "invalid data", map[string]any{"param_name": "fields", "api_name": n}}
		}
		keep[i] = true
	}
	return keep, nil
}

// paging reads page (default 1) and per_page (default 200; more is
// served as 200, what Zoho does there being UNVERIFIED).
func paging(q url.Values) (page, perPage int, e *zerr) {
	page, ok := intParam(q.Get("page"), 1)
	if !ok {
		return 0, 0, badParam("page")
	}
	perPage, ok = intParam(q.Get("per_page"), maxPerPage)
	if !ok {
		return 0, 0, badParam("per_page")
	}
	return page, min(perPage, maxPerPage), nil
}

// writePage answers one page of recs as {"data":[…],"info":{…}}, or 204
// when the page is empty. sorted names the sort of a list (nil for
// search and related lists, whose info has no sort).
func (s *Sandbox) writePage(w http.ResponseWriter, st *recordStore, recs []*record, keep []bool, page, perPage int, sorted *[2]string) {
	start := (page - 1) * perPage
	if start >= len(recs) {
		writeNoContent(w)
		return
	}
	end := min(start+perPage, len(recs))
	b := make([]byte, 0, 512*(end-start)+256)
	b = append(b, `{"data":[`...)
	for i, r := range recs[start:end] {
		if i > 0 {
			b = append(b, ',')
		}
		b = s.appendRecord(b, st, r, keep)
	}
	b = append(b, `],"info":{"per_page":`...)
	b = strconv.AppendInt(b, int64(perPage), 10)
	if sorted != nil {
		b = append(b, `,"next_page_token":null,"previous_page_token":null,"page_token_expiry":null,"sort_by":`...)
		b = appendString(b, sorted[0])
		b = append(b, `,"sort_order":`...)
		b = appendString(b, sorted[1])
	}
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, int64(end-start), 10)
	b = append(b, `,"page":`...)
	b = strconv.AppendInt(b, int64(page), 10)
	b = append(b, `,"more_records":`...)
	b = strconv.AppendBool(b, end < len(recs))
	b = append(b, "}}"...)
	writeBody(w, http.StatusOK, b)
}

// moduleRecords serves /{module}: list (GET), insert (POST), update (PUT)
// and delete by ids (DELETE).
func (s *Sandbox) moduleRecords(w http.ResponseWriter, r *http.Request, c *recCall) {
	switch r.Method {
	case http.MethodPost, http.MethodPut:
		s.upsert(w, r, c, "")
		return
	case http.MethodDelete:
		raw := r.URL.Query().Get("ids")
		if strings.TrimSpace(raw) == "" {
			missingParam("ids").write(w)
			return
		}
		ids := strings.Split(raw, ",")
		if len(ids) > maxWrite {
			limitExceeded(maxWrite).write(w)
			return
		}
		s.deleteRecords(w, c, ids)
		return
	}
	q := r.URL.Query()
	keep, e := fieldsMask(c.mod, q, true)
	if e != nil {
		e.write(w)
		return
	}
	page, perPage, e := paging(q)
	if e != nil {
		e.write(w)
		return
	}
	// Zoho's default order is by id, newest first.
	sortBy, order := cmp.Or(q.Get("sort_by"), "id"), cmp.Or(q.Get("sort_order"), "desc")
	if !slices.Contains([]string{"id", "Created_Time", "Modified_Time"}, sortBy) {
		writeError(w, http.StatusBadRequest, "INVALID_DATA", "invalid data",
			map[string]any{"param_name": "sort_by", "supported_values": []string{"id", "Created_Time", "Modified_Time"}})
		return
	}
	if order != "asc" && order != "desc" {
		writeError(w, http.StatusBadRequest, "INVALID_DATA", "invalid data", map[string]any{"param_name": "sort_order", "supported_values": []string{"asc", "desc"}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.storeLocked()
	recs := st.tables[c.mod.name].recs
	// pipeline_id lists one team pipeline's deals; other modules ignore
	// it, as Zoho ignores parameters a call does not take (UNVERIFIED).
	if pid := q.Get("pipeline_id"); pid != "" && c.mod.name == Pipelines {
		if !s.isTeamPipeline(pid) {
			badParam("pipeline_id").write(w)
			return
		}
		recs = slices.DeleteFunc(slices.Clone(recs), func(r *record) bool { return r.get("Pipeline") != ref{mod: layoutRef, id: pid} })
	}
	switch {
	case sortBy == "id" && order == "desc": // the records are in id order
		recs = slices.Clone(recs)
		slices.Reverse(recs)
	case sortBy != "id":
		recs = slices.Clone(recs)
		sortRecords(recs, sortBy, order == "desc")
	}
	s.writePage(w, st, recs, keep, page, perPage, &[2]string{sortBy, order})
}

// sortRecords sorts by id, Created_Time or Modified_Time (timestamps in
// the org's zone, so their text sorts as their time), ties by id.
func sortRecords(recs []*record, by string, desc bool) {
	slices.SortStableFunc(recs, func(a, b *record) int {
		c := 0
		if by != "id" {
			av, _ := a.get(by).(string)
			bv, _ := b.get(by).(string)
			c = strings.Compare(av, bv)
		}
		if c == 0 {
			c = strings.Compare(a.id, b.id)
		}
		if desc {
			return -c
		}
		return c
	})
}

func (s *Sandbox) isTeamPipeline(id string) bool {
	for _, tp := range teamPipelineDefs {
		if s.idOf(tp.seq) == id {
			return true
		}
	}
	return false
}

// oneRecord serves /{module}/{id}: get, update and delete one record.
// An unknown or malformed id is 400 INVALID_DATA (Zoho answers some
// unknown ids with 204 instead).
func (s *Sandbox) oneRecord(w http.ResponseWriter, r *http.Request, c *recCall) {
	switch r.Method {
	case http.MethodPut:
		s.upsert(w, r, c, c.id)
		return
	case http.MethodDelete:
		s.deleteRecords(w, c, []string{c.id})
		return
	}
	keep, e := fieldsMask(c.mod, r.URL.Query(), false)
	if e != nil {
		e.write(w)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.storeLocked()
	rec := st.tables[c.mod.name].byID[c.id]
	if !digits(c.id) || rec == nil {
		invalidID().write(w)
		return
	}
	b := append([]byte(`{"data":[`), s.appendRecord(nil, st, rec, keep)...)
	writeBody(w, http.StatusOK, append(b, "]}"...))
}

// relatedRecords serves /{module}/{id}/{related} (GET) and a record's
// notes (POST /{module}/{id}/Notes).
func (s *Sandbox) relatedRecords(w http.ResponseWriter, r *http.Request, c *recCall) {
	if !slices.Contains(c.mod.related, c.related) {
		// UNVERIFIED: Zoho's answer to a related list the module lacks.
		writeError(w, http.StatusBadRequest, "INVALID_DATA", "the related list name given seems to be invalid", map[string]any{"resource_path_index": 2})
		return
	}
	if r.Method == http.MethodPost {
		s.addNotes(w, r, c)
		return
	}
	q := r.URL.Query()
	target := schema[c.related]
	keep, e := fieldsMask(target, q, true)
	if e != nil {
		e.write(w)
		return
	}
	page, perPage, e := paging(q)
	if e != nil {
		e.write(w)
		return
	}
	pid := q.Get("pipeline_id")
	if c.mod.name == Contacts && c.related == Pipelines {
		// A contact's deals are listed one team pipeline at a time.
		if pid == "" {
			missingParam("pipeline_id").write(w)
			return
		}
		if !s.isTeamPipeline(pid) {
			badParam("pipeline_id").write(w)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.storeLocked()
	parent := st.tables[c.mod.name].byID[c.id]
	if !digits(c.id) || parent == nil {
		invalidID().write(w)
		return
	}
	var out []*record
	for _, rec := range st.tables[c.related].recs {
		if s.relatedTo(st, parent, rec) && (pid == "" || c.related != Pipelines || rec.get("Pipeline") == ref{mod: layoutRef, id: pid}) {
			out = append(out, rec)
		}
	}
	s.writePage(w, st, out, keep, page, perPage, nil)
}

// relatedTo reports whether rec is in parent's related list of rec's
// module: its notes and activities, a company's contacts and deals, a
// deal's contact, and the product links.
func (s *Sandbox) relatedTo(st *recordStore, parent, rec *record) bool {
	points := func(field string) bool {
		rf, ok := rec.get(field).(ref)
		return ok && rf.id == parent.id
	}
	switch rec.mod.name {
	case Notes:
		return points("Parent_Id")
	case Tasks, Events, Calls:
		return points("Related_To") || parent.mod.name == Contacts && points("Contact_Name")
	}
	if parent.mod.name == Products || rec.mod.name == Products {
		return st.links[parent.id][rec.id]
	}
	switch {
	case parent.mod.name == Accounts:
		return points("Account_Name")
	case parent.mod.name == Contacts && rec.mod.name == Pipelines:
		return points("Contact_Name")
	case parent.mod.name == Pipelines && rec.mod.name == Contacts:
		rf, ok := parent.get("Contact_Name").(ref)
		return ok && rf.id == rec.id
	}
	return false
}

// search serves /{module}/search: exactly one of criteria, email, phone
// and word, with fields (optional) and paging. Nothing found is 204.
func (s *Sandbox) search(w http.ResponseWriter, r *http.Request, c *recCall) {
	q := r.URL.Query()
	var key string
	n := 0
	for _, k := range []string{"criteria", "email", "phone", "word"} {
		if strings.TrimSpace(q.Get(k)) != "" {
			key = k
			n++
		}
	}
	switch {
	case n == 0:
		missingParam("criteria").write(w)
		return
	case n > 1:
		// UNVERIFIED: Zoho's docs take one of the four; the sandbox
		// refuses more.
		writeError(w, http.StatusBadRequest, "INVALID_QUERY", "invalid query formed", map[string]any{"reason": "give only one of criteria, email, phone and word"})
		return
	}
	keep, e := fieldsMask(c.mod, q, false)
	if e != nil {
		e.write(w)
		return
	}
	page, perPage, e := paging(q)
	if e != nil {
		e.write(w)
		return
	}
	val := strings.TrimSpace(q.Get(key))
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.storeLocked()
	var match func(*record) bool
	switch key {
	case "criteria":
		node, e := parseCriteria(c.mod, val)
		if e != nil {
			e.write(w)
			return
		}
		ev := &evaluator{s: s, st: st}
		match = func(r *record) bool { return ev.criteria(node, r) }
	case "email":
		match = func(r *record) bool {
			return anyField(r, func(f *fieldDef, v string) bool { return f.typ == tEmail && strings.EqualFold(v, val) })
		}
	case "phone":
		want := digitsOf(val)
		if want == "" {
			badParam("phone").write(w)
			return
		}
		match = func(r *record) bool {
			return anyField(r, func(f *fieldDef, v string) bool { return f.typ == tPhone && strings.Contains(digitsOf(v), want) })
		}
	case "word":
		// Zoho matches the word in any text field; how it tokenises is
		// UNVERIFIED, the sandbox matches it anywhere, without case.
		low := strings.ToLower(val)
		match = func(r *record) bool {
			return anyField(r, func(f *fieldDef, v string) bool { return strings.Contains(strings.ToLower(v), low) })
		}
	}
	var out []*record
	for _, rec := range st.tables[c.mod.name].recs {
		if match(rec) {
			out = append(out, rec)
			if len(out) == maxSearchHits {
				break
			}
		}
	}
	s.writePage(w, st, out, keep, page, perPage, nil)
}

// anyField reports whether a text field of r (text, textarea, email,
// phone, website, picklist) satisfies ok.
func anyField(r *record, ok func(*fieldDef, string) bool) bool {
	for i := range r.mod.fields {
		f := &r.mod.fields[i]
		if v, isStr := r.get(f.api).(string); isStr && f.textual() && ok(f, v) {
			return true
		}
	}
	return false
}

func digitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

func limitExceeded(limit int) *zerr {
	// UNVERIFIED: the details of Zoho's answer past 100 records.
	return &zerr{http.StatusBadRequest, "LIMIT_EXCEEDED", "the number of records exceeds the limit", map[string]any{"limit": limit}}
}

// readData reads a write's body {"data":[…]}: 1 to 100 items.
func readData(r *http.Request) ([]json.RawMessage, *zerr) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWriteBody+1))
	if err != nil || len(body) > maxWriteBody {
		return nil, &zerr{http.StatusRequestEntityTooLarge, "INVALID_DATA", "the request body is too large", nil}
	}
	var v struct {
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(body, &v) != nil {
		// UNVERIFIED: Zoho's answer to a body that is not JSON.
		return nil, &zerr{http.StatusBadRequest, "INVALID_DATA", "body", map[string]any{"expected_data_type": "jsonobject"}}
	}
	if len(v.Data) == 0 || string(v.Data) == "null" {
		return nil, missingParam("data")
	}
	var items []json.RawMessage
	if json.Unmarshal(v.Data, &items) != nil || len(items) == 0 {
		return nil, &zerr{http.StatusBadRequest, "INVALID_DATA", "invalid data", map[string]any{"api_name": "data", "expected_data_type": "jsonarray"}}
	}
	if len(items) > maxWrite {
		return nil, limitExceeded(maxWrite)
	}
	return items, nil
}
