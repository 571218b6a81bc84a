package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// ChatGPT's search and fetch: the two tools, with the names, arguments
// and result shapes OpenAI fixes, that ChatGPT's deep research and company
// knowledge call on an MCP server. search finds contacts, companies and
// deals by a word; fetch reads one of them as a document.

// chatModules are the modules search and fetch read, in the order search
// lists equally good matches.
var chatModules = []string{bigin.ModuleContacts, bigin.ModuleAccounts, bigin.ModulePipelines}

// maxChatResults is how many results search returns in all, and asks
// Zoho for in each module.
const maxChatResults = 20

// chatSearchFields are the fields search asks Zoho for in each module:
// what a result's title is made of.
var chatSearchFields = map[string][]string{
	bigin.ModuleContacts:  {"First_Name", "Last_Name", "Account_Name", "Email"},
	bigin.ModuleAccounts:  {"Account_Name"},
	bigin.ModulePipelines: {"Deal_Name", "Stage", "Amount"},
}

// maxChatNotes is how many of a record's notes fetch reads (one of Zoho's
// pages).
const maxChatNotes = 200

// docIDPattern is what fetch's id looks like: a module's API name and a
// record id, as search returns them.
const docIDPattern = "^[A-Za-z]{1,20}:[0-9]{1,30}$"

// The arguments of search and fetch.
type (
	chatSearchArgs struct {
		Query string `json:"query"`
	}
	chatFetchArgs struct {
		ID string `json:"id" audit:"keep"`
	}
)

// modules of a fetch: its id's module ("" for an id that names none of
// Zoho's modules, which fetch itself refuses).
func (a *chatFetchArgs) modules() []string {
	m, _, _ := splitDocID(a.ID)
	return []string{m}
}

// docID is a search result's id: the module and the record's id.
func docID(module, id string) string { return module + ":" + id }

// splitDocID reads a fetch id: a module's API name (any case) and a
// record id. ok is false when the module is none of Zoho's.
func splitDocID(s string) (module, id string, ok bool) {
	m, id, found := strings.Cut(s, ":")
	if !found || !validDocID(s) {
		return "", "", false
	}
	i := slices.IndexFunc(bigin.Modules(), func(n string) bool { return strings.EqualFold(n, m) })
	if i < 0 {
		return "", "", false
	}
	return bigin.Modules()[i], id, true
}

// validDocID reports whether s matches docIDPattern.
func validDocID(s string) bool {
	m, id, found := strings.Cut(s, ":")
	if !found || len(m) < 1 || len(m) > 20 || len(id) > 30 || !digits(id) {
		return false
	}
	for i := 0; i < len(m); i++ {
		if c := m[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// chatgptTools declares search and fetch. They are offered only when the
// URL allows one of Contacts, Accounts and Pipelines (their Modules), and
// keep ChatGPT's names, which no other tool may take.
func chatgptTools() []Tool {
	tags := []string{"search", "chatgpt"}
	str := map[string]any{"type": "string"}
	return []Tool{
		{
			Name:  "search",
			Title: "Search Bigin contacts, companies and deals",
			Description: "Finds contacts, companies (Accounts) and deals (Pipelines) of the connected Zoho Bigin organization by a word: a name, a company, an email address or any word in a record. " +
				"Returns up to 20 results, best matches first, each with an id to pass to fetch, a title (a contact's name and company, a company's name, a deal's name with its stage and amount) " +
				"and the url of the record in Bigin's web app. Search one name or word at a time; Zoho matches words, not questions. " +
				"This is the search tool of ChatGPT's deep research and connectors; the other tools (search_zohobigin_records, query_zohobigin_records) search one module with more control.",
			Method:     tokens.MethodList,
			Tags:       tags,
			Scopes:     []string{scopeRecords, scopeSearch, scopeOrg[0]},
			Modules:    chatModules,
			TextAlways: true,
			Hints: map[string]string{"INVALID_QUERY": "Search with a single word or name that appears in the record, such as a last name, a company name or an email address.",
				"INVALID_DATA": "Search with a single word or name that appears in the record, such as a last name, a company name or an email address."},
			Input: object(map[string]any{
				"query": map[string]any{"type": "string", "minLength": 1, "maxLength": 200,
					"description": "What to find: a name, a company, an email address or another word in the record, e.g. \"Boyle\" or \"Zylker\"."},
			}, "query"),
			Output: map[string]any{
				"type": "object",
				"properties": map[string]any{
					"results": map[string]any{
						"type":        "array",
						"description": "The matches, best first: at most 20.",
						"items": map[string]any{
							"type": "object",
							"properties": map[string]any{
								"id":    map[string]any{"type": "string", "description": "The record as <Module>:<record id>, e.g. Contacts:4876876000000223001; pass it to fetch."},
								"title": map[string]any{"type": "string", "description": "What a person calls the record."},
								"url":   map[string]any{"type": "string", "description": "The record's page in Bigin's web app (empty when it cannot be made)."},
							},
							"required": []string{"id", "title", "url"},
						},
					},
					"error": chatErrorSchema("results"),
				},
			},
			Run: handle(chatSearch),
		},
		{
			Name:  "fetch",
			Title: "Read a Bigin contact, company or deal",
			Description: "Reads one contact, company or deal of the connected Zoho Bigin organization by the id search returned (<Module>:<record id>, e.g. Contacts:4876876000000223001): " +
				"its fields as \"Label: value\" lines, followed by its notes, newest first, as many as fit the server's result size budget; " +
				"the url of its page in Bigin's web app, and metadata with its module, owner, created and modified times. " +
				"This is the fetch tool of ChatGPT's deep research and connectors; get_single_zohobigin_record_by_id returns a record as Zoho's JSON instead.",
			Method:     tokens.MethodGet,
			Tags:       tags,
			Scopes:     []string{scopeRecords, scopeNotes, scopeSettings, scopeOrg[0]},
			Modules:    chatModules,
			TextAlways: true,
			Hints: map[string]string{"INVALID_DATA": "No record with id {id} exists in this Bigin organization (it may have been deleted); " +
				"call search to find the current ids."},
			Input: object(map[string]any{
				"id": map[string]any{"type": "string", "pattern": docIDPattern,
					"description": "The record's id as search returned it: <Module>:<record id>, e.g. \"Contacts:4876876000000223001\"."},
			}, "id"),
			Output: map[string]any{
				"type": "object",
				"properties": map[string]any{
					"id":    map[string]any{"type": "string", "description": "The id asked for."},
					"title": map[string]any{"type": "string", "description": "What a person calls the record."},
					"text":  map[string]any{"type": "string", "description": "The record as \"Label: value\" lines, then its notes, newest first."},
					"url":   map[string]any{"type": "string", "description": "The record's page in Bigin's web app (empty when it cannot be made)."},
					"metadata": map[string]any{"type": "object", "description": "module, owner, created_time and modified_time.",
						"properties": map[string]any{"module": str, "owner": str, "created_time": str, "modified_time": str}},
					"error": chatErrorSchema("the document"),
				},
			},
			Run: handle(chatFetch),
		},
	}
}

// chatErrorSchema is errorSchema for a result that is not {"result": …}.
func chatErrorSchema(instead string) map[string]any {
	s := errorSchema()
	s["description"] = "Present instead of " + instead + " when the call failed (isError is true)."
	return s
}

// chatResult is one search result.
type chatResult struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// chatHit is a record search found, with what ranks it.
type chatHit struct {
	module string
	id     string
	title  string
	score  int // how well its name matches the query (matchScore)
	pos    int // its place in Zoho's answer for its module
}

// chatSearch runs Zoho's word search in each allowed module at once, one
// call each, and returns the best matches of all of them; a module's
// failure fails the search with its error, rather than hide a module.
func chatSearch(ctx context.Context, c *Call, a *chatSearchArgs) ([]byte, error) {
	query := strings.TrimSpace(a.Query)
	if query == "" {
		return nil, &ArgsError{Tool: c.Tool, Problems: []string{"query must hold a word to search for, such as a name"}}
	}
	var modules []string
	for _, m := range chatModules {
		if slices.Contains(c.allowed, m) {
			modules = append(modules, m)
		}
	}
	pages := make([]bigin.Page, len(modules))
	errs := make([]error, len(modules))
	var link recordLink
	var wg sync.WaitGroup
	for i, m := range modules {
		wg.Go(func() {
			pages[i], errs[i] = c.Client.SearchRecords(ctx, bigin.SearchParams{Module: m, Word: query, Fields: chatSearchFields[m], Page: 1, PerPage: maxChatResults})
		})
	}
	wg.Go(func() { link = c.recordLink(ctx) })
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	var hits []chatHit
	for i, m := range modules {
		for pos, raw := range pages[i].Records {
			rec := readRecord(raw)
			id, _ := rec["id"].(string)
			if !digits(id) {
				continue // not a record Zoho could be asked for again
			}
			name := recordName(m, rec)
			hits = append(hits, chatHit{module: m, id: id, title: recordTitle(m, rec), score: matchScore(query, name), pos: pos})
		}
	}
	// Best names first; among equal ones Zoho's order in each module,
	// the modules taking turns (hits are gathered module by module, and
	// the sort is stable).
	slices.SortStableFunc(hits, func(x, y chatHit) int {
		if x.score != y.score {
			return y.score - x.score
		}
		return x.pos - y.pos
	})
	results := make([]chatResult, 0, min(len(hits), maxChatResults))
	used := len(`{"results":[]}`)
	for _, h := range hits {
		if len(results) == maxChatResults {
			break
		}
		r := chatResult{ID: docID(h.module, h.id), Title: h.title, URL: c.links.fill(link, h.module, h.id)}
		n := utf8.RuneCount(encode(r)) + 1
		if len(results) > 0 && used+n > c.budget {
			break
		}
		used += n
		results = append(results, r)
	}
	return encode(struct {
		Results []chatResult `json:"results"`
	}{results}), nil
}

// chatDoc is fetch's result.
type chatDoc struct {
	ID       string            `json:"id"`
	Title    string            `json:"title"`
	Text     string            `json:"text"`
	URL      string            `json:"url"`
	Metadata map[string]string `json:"metadata"`
}

// chatFetch reads the record, its notes and its module's field labels
// (from the account's metadata cache) at once, and renders them as a
// document within the result budget. A record that cannot be read fails
// the call; notes that cannot be read are named so in the text, and
// without the labels the fields go by their API names.
func chatFetch(ctx context.Context, c *Call, a *chatFetchArgs) ([]byte, error) {
	module, id, ok := splitDocID(a.ID)
	if !ok || !slices.Contains(chatModules, module) {
		return nil, &ArgsError{Tool: c.Tool, Problems: []string{fmt.Sprintf("id %q does not name a contact, company or deal; fetch takes the ids search returns, "+
			"such as Contacts:4876876000000223001, Accounts:… or Pipelines:…", clip(a.ID))}}
	}
	var (
		rec      json.RawMessage
		recErr   error
		notes    bigin.Page
		notesErr error
		labels   []bigin.Field
		link     recordLink
		wg       sync.WaitGroup
	)
	wg.Go(func() { rec, recErr = c.Client.GetRecord(ctx, module, id, nil) })
	wg.Go(func() {
		notes, notesErr = c.Client.RelatedRecords(ctx, bigin.RelatedParams{Module: module, ID: id, Related: bigin.RelatedNotes,
			Fields: defaultFields[bigin.RelatedNotes], Page: 1, PerPage: maxChatNotes})
	})
	wg.Go(func() {
		if meta, err := c.metadata(ctx, module, metaFields); err == nil {
			labels = meta.fields
		}
	})
	wg.Go(func() { link = c.recordLink(ctx) })
	wg.Wait()
	if recErr != nil {
		return nil, recErr
	}
	fields := readFields(rec)
	values := map[string]any{}
	for _, f := range fields {
		values[f.key] = f.value
	}
	doc := chatDoc{ID: docID(module, id), Title: recordTitle(module, values), URL: c.links.fill(link, module, id),
		Metadata: map[string]string{"module": module}}
	if owner := display(values["Owner"]); owner != "" {
		doc.Metadata["owner"] = owner
	}
	for key, api := range map[string]string{"created_time": "Created_Time", "modified_time": "Modified_Time"} {
		if t, ok := values[api].(string); ok && t != "" {
			doc.Metadata[key] = t
		}
	}

	text := newDocText(c.budget - utf8.RuneCount(encode(doc)))
	text.line(moduleNoun(module) + ": " + doc.Title)
	text.line("")
	for _, f := range orderFields(fields, labels) {
		if !text.line(f.label + ": " + f.text) {
			text.cut("The other fields do not fit the result size budget; get_single_zohobigin_record_by_id returns the whole record.")
			break
		}
	}
	if !text.full {
		renderNotes(text, notes, notesErr)
	}
	doc.Text = text.String()
	return encode(doc), nil
}

// renderNotes appends the record's notes, newest first, as many as fit.
func renderNotes(text *docText, notes bigin.Page, err error) {
	const notesCut = "The record's notes do not fit the result size budget; list_zohobigin_related_records with related Notes lists them."
	switch {
	case err != nil:
		if !text.line("") || !text.line("Notes: they could not be read ("+oneLine(err.Error())+").") {
			text.cut(notesCut)
		}
		return
	case len(notes.Records) == 0:
		if text.line("") {
			text.line("Notes: none.")
		}
		return
	}
	type note struct {
		created, title, content, owner string
		at                             time.Time // zero when Zoho's time does not parse
	}
	list := make([]note, 0, len(notes.Records))
	for _, raw := range notes.Records {
		n := readRecord(raw)
		s := func(k string) string { v, _ := n[k].(string); return strings.TrimSpace(v) }
		created := s("Created_Time")
		at, _ := time.Parse(time.RFC3339, created)
		list = append(list, note{created: created, at: at, title: s("Note_Title"), content: s("Note_Content"), owner: display(n["Owner"])})
	}
	// Zoho's own order of a record's notes is not documented.
	slices.SortStableFunc(list, func(x, y note) int {
		if !x.at.IsZero() && !y.at.IsZero() {
			return y.at.Compare(x.at)
		}
		return strings.Compare(y.created, x.created)
	})
	head := fmt.Sprintf("Notes (%d, newest first):", len(list))
	if notes.Info.MoreRecords {
		head = fmt.Sprintf("Notes (the %d Zoho returned first, newest first; the record has more):", len(list))
	}
	if !text.line("") || !text.line(head) {
		text.cut(notesCut)
		return
	}
	for i, n := range list {
		by := n.created
		if n.owner != "" {
			by += ", by " + n.owner
		}
		first := "- " + by
		if n.title != "" {
			first = "- " + n.title + " (" + by + ")"
		}
		block := first
		if n.content != "" {
			block += "\n" + n.content
		}
		if !text.line(block) {
			text.cut(fmt.Sprintf("%d older notes do not fit the result size budget; list_zohobigin_related_records with related Notes lists them all.", len(list)-i))
			return
		}
	}
}

// docText is a document's text, built line by line within a budget of
// characters of its JSON encoding (what a model reads).
type docText struct {
	b     strings.Builder
	left  int
	lines int
	full  bool // a line did not fit: nothing more is added
}

// cutNote is room kept for the last line that says what was left out.
const cutNote = 200

func newDocText(budget int) *docText { return &docText{left: budget - cutNote} }

// line appends s as a line and reports whether it fitted. The first line
// always goes in, so a document is never empty; a line that does not fit
// closes the text.
func (t *docText) line(s string) bool {
	n := jsonChars(s) + 2 // and its newline, \n
	if t.full || (t.lines > 0 && n > t.left) {
		t.full = true
		return false
	}
	if t.lines > 0 {
		t.b.WriteByte('\n')
	}
	t.b.WriteString(s)
	t.left -= n
	t.lines++
	return true
}

// cut ends the text with a line that says what was left out.
func (t *docText) cut(why string) {
	t.b.WriteString("\n[" + why + "]")
	t.full = true
}

func (t *docText) String() string { return t.b.String() }

// jsonChars is how many characters s takes inside a JSON string.
func jsonChars(s string) int {
	b, _ := json.Marshal(s) // a string always encodes
	return utf8.RuneCount(b) - 2
}

// encode marshals v without HTML escaping, as the other results are
// written.
func encode(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the results' types always encode
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// recordField is one field of a record as Zoho returned it, in order.
type recordField struct {
	key   string
	value any
}

// readFields decodes a record's fields in the order Zoho wrote them
// (numbers kept as Zoho wrote them); nil for anything but an object.
func readFields(raw json.RawMessage) []recordField {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var out []recordField
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return out
		}
		key, _ := t.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return out
		}
		out = append(out, recordField{key: key, value: v})
	}
	return out
}

// readRecord decodes a record into a map (numbers as Zoho wrote them).
func readRecord(raw json.RawMessage) map[string]any {
	m := map[string]any{}
	for _, f := range readFields(raw) {
		m[f.key] = f.value
	}
	return m
}

// shownField is a field as fetch's text shows it.
type shownField struct {
	label, text string
}

// orderFields returns the record's fields that have a value, labelled and
// rendered (a currency field as an amount): first in the order of the
// module's field metadata, then any the metadata does not list in the
// record's order. Zoho's internal keys ($…) and the id (it is in the
// document's id) are left out.
func orderFields(fields []recordField, meta []bigin.Field) []shownField {
	byKey := map[string]any{}
	for _, f := range fields {
		byKey[f.key] = f.value
	}
	var out []shownField
	done := map[string]bool{"id": true}
	add := func(key, label string, currency bool) {
		if done[key] || strings.HasPrefix(key, "$") {
			return
		}
		done[key] = true
		v, ok := byKey[key]
		if !ok {
			return
		}
		s := display(v)
		if a := formatAmount(v); currency && a != "" {
			s = a
		}
		if s != "" {
			out = append(out, shownField{label: label, text: s})
		}
	}
	for _, f := range meta {
		label := f.Label
		if label == "" {
			label = humanize(f.APIName)
		}
		add(f.APIName, label, f.DataType == "currency")
	}
	for _, f := range fields {
		add(f.key, humanize(f.key), false)
	}
	return out
}

// humanize makes a label of an API name: Mailing_City is "Mailing City".
func humanize(api string) string { return strings.ReplaceAll(api, "_", " ") }

// display renders a field's value for a person: text as it is, numbers
// as Zoho wrote them, Yes or No, a lookup's or a user's name, a list's
// items joined; "" for nothing (null, an empty string or list).
func display(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(x)
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "Yes"
		}
		return "No"
	case []any:
		var parts []string
		for _, item := range x {
			if s := display(item); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		for _, k := range []string{"name", "display_value", "id"} {
			if s, ok := x[k].(string); ok && s != "" {
				return s
			}
		}
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

// moduleNoun is what a person calls a record of the module.
func moduleNoun(module string) string {
	switch module {
	case bigin.ModuleContacts:
		return "Contact"
	case bigin.ModuleAccounts:
		return "Company"
	case bigin.ModulePipelines:
		return "Deal"
	}
	return module
}

// recordName is the record's own name: a contact's first and last name, a
// company's name, a deal's name.
func recordName(module string, rec map[string]any) string {
	switch module {
	case bigin.ModuleContacts:
		name := strings.TrimSpace(display(rec["First_Name"]) + " " + display(rec["Last_Name"]))
		if name == "" {
			name = display(rec["Full_Name"])
		}
		return name
	case bigin.ModuleAccounts:
		return display(rec["Account_Name"])
	case bigin.ModulePipelines:
		return display(rec["Deal_Name"])
	}
	return ""
}

// recordTitle is what a person calls the record: a contact's name and
// company, a company's name, a deal's name with its stage and amount.
func recordTitle(module string, rec map[string]any) string {
	name := recordName(module, rec)
	var extra []string
	switch module {
	case bigin.ModuleContacts:
		if name == "" {
			name = display(rec["Email"])
		}
		if company := display(rec["Account_Name"]); company != "" {
			extra = append(extra, company)
		}
	case bigin.ModulePipelines:
		if stage := display(rec["Stage"]); stage != "" {
			extra = append(extra, stage)
		}
		if amount := formatAmount(rec["Amount"]); amount != "" {
			extra = append(extra, "amount "+amount)
		}
	}
	if name == "" {
		id, _ := rec["id"].(string)
		name = moduleNoun(module) + " " + id
	}
	if len(extra) > 0 {
		name += " (" + strings.Join(extra, ", ") + ")"
	}
	return name
}

// formatAmount writes a currency amount with thousands separated and
// cents only when there are some: 12,500 or 1,250.50; "" for no amount.
func formatAmount(v any) string {
	n, ok := v.(json.Number)
	if !ok {
		return ""
	}
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) >= 1e15 {
		return n.String()
	}
	s := strconv.FormatFloat(math.Abs(f), 'f', 2, 64)
	whole, cents, _ := strings.Cut(s, ".")
	var b strings.Builder
	if f < 0 {
		b.WriteByte('-')
	}
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	if cents != "00" {
		b.WriteString("." + cents)
	}
	return b.String()
}

// matchScore says how well a record's name matches the query, from 4 (the
// name is the query) down to 0 (Zoho matched another field):
//
//	4: the same words;
//	3: every word of the query is a word of the name;
//	2: every word of the query begins a word of the name;
//	1: some word of the query is or begins a word of the name.
func matchScore(query, name string) int {
	q, n := words(query), words(name)
	if len(q) == 0 || len(n) == 0 {
		return 0
	}
	if slices.Equal(q, n) {
		return 4
	}
	whole, starts, some := true, true, false
	for _, w := range q {
		isWord := slices.Contains(n, w)
		begins := slices.ContainsFunc(n, func(nw string) bool { return strings.HasPrefix(nw, w) })
		whole = whole && isWord
		starts = starts && begins
		some = some || begins
	}
	switch {
	case whole:
		return 3
	case starts:
		return 2
	case some:
		return 1
	}
	return 0
}

// words splits s into lower-case words of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// oneLine keeps a message on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
