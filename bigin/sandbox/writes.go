package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// outcome is Zoho's per-record answer to a write.
type outcome struct {
	Code    string         `json:"code"`
	Details map[string]any `json:"details"`
	Message string         `json:"message"`
	Status  string         `json:"status"`
}

func failed(code, message string, details map[string]any) outcome {
	return outcome{Code: code, Details: details, Message: message, Status: "error"}
}

func mandatory(i int, api string) outcome {
	return failed("MANDATORY_NOT_FOUND", "required field not found", map[string]any{"api_name": api, "json_path": jsonPath(i, api)})
}

func invalidValue(i int, f *fieldDef) outcome {
	return failed("INVALID_DATA", "invalid data", map[string]any{"api_name": f.api, "expected_data_type": f.typ, "json_path": jsonPath(i, f.api)})
}

func unknownID(id string) outcome {
	return failed("INVALID_DATA", "the id given seems to be invalid", map[string]any{"id": id})
}

func jsonPath(i int, api string) string { return fmt.Sprintf("$.data[%d].%s", i, api) }

// writeOutcomes answers a write's outcomes with Zoho's status: 201 for
// one record inserted, 200 for one updated or deleted, 202 for several,
// 207 when some failed and 400 when all did (CRM v3 and later; what
// Bigin v2 answers for mixed outcomes is UNVERIFIED).
func writeOutcomes(w http.ResponseWriter, method string, outs []outcome) {
	failures := 0
	for _, o := range outs {
		if o.Status != "success" {
			failures++
		}
	}
	status := http.StatusOK
	switch {
	case failures == len(outs):
		status = http.StatusBadRequest
	case failures > 0:
		status = http.StatusMultiStatus
	case len(outs) > 1:
		status = http.StatusAccepted
	case method == http.MethodPost:
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string][]outcome{"data": outs})
}

// upsert serves an insert (POST /{module}) or an update (PUT /{module},
// or PUT /{module}/{id} with pathID), record by record in input order,
// so that a record can duplicate one inserted before it in the same call.
func (s *Sandbox) upsert(w http.ResponseWriter, r *http.Request, c *recCall, pathID string) {
	items, e := readData(r)
	if e != nil {
		e.write(w)
		return
	}
	if pathID != "" && len(items) != 1 {
		// UNVERIFIED: Zoho's answer to several records on a one-record URL.
		writeError(w, http.StatusBadRequest, "INVALID_DATA", "invalid data", map[string]any{"api_name": "data", "expected_data_type": "jsonarray", "maximum_length": 1})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.storeLocked()
	outs := make([]outcome, len(items))
	for i, raw := range items {
		if r.Method == http.MethodPost {
			outs[i] = s.insert(st, c, i, raw)
		} else {
			outs[i] = s.update(st, c, i, raw, pathID)
		}
	}
	writeOutcomes(w, r.Method, outs)
}

// decodeItem reads one record of a write as its members.
func decodeItem(i int, raw json.RawMessage) (map[string]json.RawMessage, *outcome) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		o := failed("INVALID_DATA", "invalid data", map[string]any{"expected_data_type": "jsonobject", "json_path": fmt.Sprintf("$.data[%d]", i)})
		return nil, &o
	}
	return m, nil
}

// insert writes one new record.
func (s *Sandbox) insert(st *recordStore, c *recCall, i int, raw json.RawMessage) outcome {
	m, bad := decodeItem(i, raw)
	if bad != nil {
		return *bad
	}
	for k := range c.mod.fields {
		f := &c.mod.fields[k]
		if f.mandatory && empty(m[f.api]) {
			return mandatory(i, f.api)
		}
	}
	rec := newRecord(c.mod)
	if o, ok := s.assign(st, c, i, m, rec); !ok {
		return o
	}
	if o, ok := s.unique(st, i, rec); !ok {
		return o
	}
	now := stampIn(s.now(), s.zone())
	me := ref{id: c.caller.ID}
	if rec.get("Owner") == nil {
		rec.set("Owner", me)
	}
	rec.set("Created_By", me)
	rec.set("Modified_By", me)
	rec.set("Created_Time", now)
	rec.set("Modified_Time", now)
	rec.id = st.newID(s)
	fillDerived(rec)
	st.add(rec)
	return s.saved(st, rec, "record added")
}

// update changes one record's given fields.
func (s *Sandbox) update(st *recordStore, c *recCall, i int, raw json.RawMessage, pathID string) outcome {
	m, bad := decodeItem(i, raw)
	if bad != nil {
		return *bad
	}
	id := pathID
	if id == "" {
		rawID, ok := m["id"]
		if !ok || json.Unmarshal(rawID, &id) != nil || id == "" {
			return mandatory(i, "id")
		}
	}
	rec := st.tables[c.mod.name].byID[id]
	if !digits(id) || rec == nil {
		return unknownID(id)
	}
	for k := range c.mod.fields {
		f := &c.mod.fields[k]
		if raw, given := m[f.api]; given && f.mandatory && empty(raw) {
			return mandatory(i, f.api)
		}
	}
	// Work on a copy, so a refused update changes nothing.
	next := &record{id: rec.id, mod: rec.mod, vals: slices.Clone(rec.vals), se: rec.se}
	if o, ok := s.assign(st, c, i, m, next); !ok {
		return o
	}
	if o, ok := s.unique(st, i, next); !ok {
		return o
	}
	next.set("Modified_By", ref{id: c.caller.ID})
	next.set("Modified_Time", stampIn(s.now(), s.zone()))
	fillDerived(next)
	rec.vals, rec.se = next.vals, next.se
	return s.saved(st, rec, "record updated")
}

// saved is the success outcome of an insert or update.
func (s *Sandbox) saved(st *recordStore, rec *record, message string) outcome {
	by := func(k string) map[string]any {
		rf, _ := rec.get(k).(ref)
		name, _, _ := s.refName(st, rf)
		return map[string]any{"name": name, "id": rf.id}
	}
	return outcome{Code: "SUCCESS", Message: message, Status: "success", Details: map[string]any{
		"Modified_Time": rec.get("Modified_Time"), "Modified_By": by("Modified_By"),
		"Created_Time": rec.get("Created_Time"), "id": rec.id, "Created_By": by("Created_By"),
	}}
}

// fillDerived sets the fields Zoho computes: a contact's Full_Name.
func fillDerived(rec *record) {
	if rec.mod.name == Contacts {
		first, _ := rec.get("First_Name").(string)
		last, _ := rec.get("Last_Name").(string)
		rec.set("Full_Name", strings.TrimSpace(first+" "+last))
	}
}

// empty reports whether a value is missing, null or a blank string.
func empty(raw json.RawMessage) bool {
	if len(raw) == 0 || string(raw) == "null" {
		return true
	}
	var s string
	return json.Unmarshal(raw, &s) == nil && strings.TrimSpace(s) == ""
}

// unique refuses a value of a unique field (a contact's Email) that
// another record holds: DUPLICATE_DATA with details.duplicate_record.
// Zoho has two shapes for it: CRM v3 and later put the existing record
// in duplicate_record, older answers its id in details.id; the sandbox
// answers the newer one.
func (s *Sandbox) unique(st *recordStore, i int, rec *record) (outcome, bool) {
	for k := range rec.mod.fields {
		f := &rec.mod.fields[k]
		v, ok := rec.get(f.api).(string)
		if !f.unique || !ok || v == "" {
			continue
		}
		for _, other := range st.tables[rec.mod.name].recs {
			ov, _ := other.get(f.api).(string)
			if other.id != rec.id && strings.EqualFold(ov, v) {
				ownerRef, _ := other.get("Owner").(ref)
				name, _, _ := s.refName(st, ownerRef)
				owner := map[string]any{"name": name, "id": ownerRef.id}
				if u := s.byID[ownerRef.id]; u != nil {
					owner["zuid"] = u.ZUID
				}
				return failed("DUPLICATE_DATA", "duplicate data", map[string]any{
					"api_name": f.api, "json_path": jsonPath(i, f.api),
					"duplicate_record": map[string]any{
						"id": other.id, "Owner": owner,
						"module": map[string]any{"api_name": rec.mod.name, "id": s.idOf(rec.mod.seq)},
					},
				}), false
			}
		}
	}
	return outcome{}, true
}

var emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

// assign checks the given fields' values and sets them on rec. Names that
// are not the module's fields are ignored, as are read-only fields and
// "id" (CRM ignores them; Bigin is assumed the same). A deal's team
// pipeline follows from its Sub_Pipeline when not given ("Layout" is
// accepted for "Pipeline", as shipped integrations send either), and its
// Stage must be one of that sub-pipeline's.
func (s *Sandbox) assign(st *recordStore, c *recCall, i int, m map[string]json.RawMessage, rec *record) (outcome, bool) {
	if raw, ok := m["Layout"]; ok && c.mod.name == Pipelines {
		if _, has := m["Pipeline"]; !has {
			m["Pipeline"] = raw
		}
	}
	for k := range c.mod.fields {
		f := &c.mod.fields[k]
		raw, given := m[f.api]
		if !given || f.readOnly {
			continue
		}
		if string(raw) == "null" {
			rec.vals[k] = nil
			if f.api == c.mod.seField {
				rec.se = ""
			}
			continue
		}
		v, ok := s.convert(st, c, f, raw, m)
		if !ok {
			return invalidValue(i, f), false
		}
		rec.vals[k] = v
		if f.api == c.mod.seField {
			rec.se = st.all[v.(ref).id].mod.name
		}
	}
	if c.mod.name == Pipelines {
		return s.checkPipeline(i, rec)
	}
	return outcome{}, true
}

// checkPipeline keeps a deal's Pipeline, Sub_Pipeline and Stage in
// agreement.
func (s *Sandbox) checkPipeline(i int, rec *record) (outcome, bool) {
	sub, _ := rec.get("Sub_Pipeline").(string)
	stage, _ := rec.get("Stage").(string)
	var tp *teamPipelineDef
	var sp *subPipelineDef
	for t := range teamPipelineDefs {
		for k := range teamPipelineDefs[t].subs {
			if teamPipelineDefs[t].subs[k].name == sub {
				tp, sp = &teamPipelineDefs[t], &teamPipelineDefs[t].subs[k]
			}
		}
	}
	f := schema[Pipelines]
	if sp == nil {
		return invalidValue(i, f.field("Sub_Pipeline")), false
	}
	if pl, ok := rec.get("Pipeline").(ref); ok && pl.id != s.idOf(tp.seq) {
		// The sub-pipeline is another team pipeline's.
		return invalidValue(i, f.field("Sub_Pipeline")), false
	}
	rec.set("Pipeline", ref{mod: layoutRef, id: s.idOf(tp.seq)})
	if !slices.Contains(sp.stages, stage) {
		return invalidValue(i, f.field("Stage")), false
	}
	return outcome{}, true
}

// convert checks one value against its field's type and returns what
// the record holds. Picklists take one of their values (Zoho refuses
// other values of a restricted picklist; which of Bigin's are restricted
// is UNVERIFIED).
func (s *Sandbox) convert(st *recordStore, c *recCall, f *fieldDef, raw json.RawMessage, m map[string]json.RawMessage) (any, bool) {
	switch f.typ {
	case tText, tTextarea, tEmail, tPhone, tWebsite, tPicklist, tDate, tDatetime:
		var v string
		if json.Unmarshal(raw, &v) != nil || f.length > 0 && utf8.RuneCountInString(v) > f.length {
			return nil, false
		}
		switch f.typ {
		case tEmail:
			return v, emailPattern.MatchString(v)
		case tPicklist:
			if f.api == "Sub_Pipeline" || f.api == "Stage" {
				return v, true // checked against the team pipeline
			}
			return v, slices.Contains(f.options, v)
		case tDate:
			_, err := time.Parse(time.DateOnly, v)
			return v, err == nil
		case tDatetime:
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return nil, false
			}
			return stampIn(t, s.zone()), true
		}
		return v, true
	case tCurrency:
		var v float64
		return v, json.Unmarshal(raw, &v) == nil
	case tBoolean:
		var v bool
		return v, json.Unmarshal(raw, &v) == nil
	}
	// A reference: {"id": "…"}.
	var obj struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(raw, &obj) != nil {
		return nil, false
	}
	var id string
	if json.Unmarshal(obj.ID, &id) != nil {
		var n json.Number
		if json.Unmarshal(obj.ID, &n) != nil {
			return nil, false
		}
		id = n.String()
	}
	switch {
	case f.typ == tOwnerLookup:
		u := s.byID[id]
		return ref{id: id}, u != nil && u.Status == "active"
	case f.typ == tBigint:
		return ref{mod: layoutRef, id: id}, s.isTeamPipeline(id)
	case f.lookup != "":
		target := st.all[id]
		return ref{mod: f.lookup, id: id}, target != nil && target.mod.name == f.lookup
	}
	// A lookup to one of several modules: an activity's Related_To names
	// a contact, company or deal. Zoho wants its module in $se_module;
	// the sandbox also finds it from the id (UNVERIFIED).
	target := st.all[id]
	if target == nil || !c.mod.relatesTo(target.mod.name) {
		return nil, false
	}
	var se string
	if rawSe, ok := m["$se_module"]; ok && json.Unmarshal(rawSe, &se) == nil && se != "" && se != target.mod.name {
		return nil, false
	}
	return ref{mod: target.mod.name, id: id}, true
}

// relatesTo reports whether the module's Related_To may point at a
// record of target.
func (m *moduleDef) relatesTo(target string) bool {
	return m.seField == "Related_To" && (target == Contacts || target == Accounts || target == Pipelines)
}

// deleteRecords deletes records by id, each with its outcome.
func (s *Sandbox) deleteRecords(w http.ResponseWriter, c *recCall, ids []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.storeLocked()
	outs := make([]outcome, len(ids))
	for i, id := range ids {
		id = strings.TrimSpace(id)
		rec := st.tables[c.mod.name].byID[id]
		if !digits(id) || rec == nil {
			outs[i] = unknownID(id)
			continue
		}
		st.remove(rec)
		outs[i] = outcome{Code: "SUCCESS", Details: map[string]any{"id": id}, Message: "record deleted", Status: "success"}
	}
	writeOutcomes(w, http.MethodDelete, outs)
}

// addNotes serves POST /{module}/{id}/Notes: each item a Note_Content
// (required) and an optional Note_Title. An unknown parent is refused as
// a whole (UNVERIFIED: Zoho may answer it per note).
func (s *Sandbox) addNotes(w http.ResponseWriter, r *http.Request, c *recCall) {
	items, e := readData(r)
	if e != nil {
		e.write(w)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.storeLocked()
	parent := st.tables[c.mod.name].byID[c.id]
	if !digits(c.id) || parent == nil {
		invalidID().write(w)
		return
	}
	notes := &recCall{caller: c.caller, scopes: c.scopes, mod: schema[Notes]}
	outs := make([]outcome, len(items))
	for i, raw := range items {
		m, bad := decodeItem(i, raw)
		if bad != nil {
			outs[i] = *bad
			continue
		}
		delete(m, "Parent_Id") // the parent is the record in the path
		delete(m, "$se_module")
		outs[i] = s.insert(st, notes, i, mustJSON(m))
		if outs[i].Status == "success" {
			n := st.all[outs[i].Details["id"].(string)]
			n.set("Parent_Id", ref{mod: c.mod.name, id: c.id})
			n.se = c.mod.name
		}
	}
	writeOutcomes(w, http.MethodPost, outs)
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
