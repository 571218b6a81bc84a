package catalog

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin"
)

func TestRecordURL(t *testing.T) {
	t.Parallel()
	link := recordLink{web: "https://bigin.zoho.eu", zgid: "20096296201", orgID: "111111000000033001"}
	tests := []struct {
		name, tmpl     string
		link           recordLink
		module, id     string
		want           string
		needsZGIDCalls bool
	}{
		{"default, a deal", "", link, bigin.ModulePipelines, "6331846000204950564",
			"https://bigin.zoho.eu/bigin/org20096296201/Home#/deals/6331846000204950564", true},
		{"default, a company", DefaultRecordURL, link, bigin.ModuleAccounts, "42", "https://bigin.zoho.eu/bigin/org20096296201/Home#/companies/42", true},
		{"default, a contact", DefaultRecordURL, link, bigin.ModuleContacts, "7", "https://bigin.zoho.eu/bigin/org20096296201/Home#/contacts/7", true},
		{"the org's id and the module", "https://crm.example/{org_id}/{module}/{id}", link, bigin.ModuleContacts, "7",
			"https://crm.example/111111000000033001/Contacts/7", false},
		{"a fixed organization number", "https://bigin.zoho.in/bigin/org60016446319/Home#/{tab}/{id}", recordLink{}, bigin.ModuleAccounts, "9",
			"https://bigin.zoho.in/bigin/org60016446319/Home#/companies/9", false},
		{"no web address: no link", DefaultRecordURL, recordLink{zgid: "1"}, bigin.ModuleContacts, "7", "", true},
		{"no zgid: no link", DefaultRecordURL, recordLink{web: "https://bigin.zoho.com"}, bigin.ModuleContacts, "7", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r RecordURL
			if tt.tmpl != "" {
				var err error
				r, err = ParseRecordURL(tt.tmpl)
				require.NoError(t, err)
			}
			assert.Equal(t, tt.want, r.fill(tt.link, tt.module, tt.id))
			assert.Equal(t, tt.needsZGIDCalls, r.uses("{zgid}"))
		})
	}
	for tmpl, want := range map[string]string{
		"":                              "needs {id}",
		"{web}/bigin/{zgid}":            "needs {id}",
		"{web}/bigin/{ZGID}/{id}":       "unknown placeholder {ZGID}",
		"{web}/{tab}/{id}{}":            "unknown placeholder {}",
		"bigin.zoho.com/{tab}/{id}":     "is not an absolute http or https URL once filled in",
		"ftp://bigin.example/{id}":      "is not an absolute http or https URL",
		"https:///{tab}/{id}":           "is not an absolute http or https URL",
		"{id}":                          "is not an absolute http or https URL",
		"https://bigin.example/%zz{id}": "is not an absolute http or https URL",
	} {
		_, err := ParseRecordURL(tmpl)
		require.Error(t, err, tmpl)
		assert.Contains(t, err.Error(), want, tmpl)
	}
}

func TestZGIDOf(t *testing.T) {
	t.Parallel()
	for org, want := range map[string]string{
		`{"id":"111","zgid":"5478236"}`: "5478236",
		`{"zgid":5478236}`:              "5478236",
		`{"zgid":null}`:                 "",
		`{}`:                            "",
		`{"zgid":"54/../../x"}`:         "",
		`{"zgid":"` + strings.Repeat("9", 31) + `"}`: "",
		`not json`: "",
	} {
		assert.Equal(t, want, zgidOf(json.RawMessage(org)), org)
	}
}

func TestDocIDs(t *testing.T) {
	t.Parallel()
	for id, want := range map[string][2]string{
		"Contacts:4876876000000223001":        {"Contacts", "4876876000000223001"},
		"pipelines:12":                        {"Pipelines", "12"},
		"ACCOUNTS:1":                          {"Accounts", "1"},
		"Tasks:1":                             {"Tasks", "1"},
		"Deals:1":                             {"", ""},
		"Contacts:":                           {"", ""},
		"Contacts:1a":                         {"", ""},
		"Contacts 1":                          {"", ""},
		":1":                                  {"", ""},
		"Contacts:1:2":                        {"", ""},
		"Contacts:" + strings.Repeat("1", 31): {"", ""},
	} {
		m, rec, ok := splitDocID(id)
		assert.Equal(t, want, [2]string{m, rec}, id)
		assert.Equal(t, want[0] != "", ok, id)
	}
}

// Search ranks by how well a record's own name matches the query; Zoho's
// order breaks ties, the modules taking turns.
func TestMatchScore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query, name string
		want        int
	}{
		{"Atlas Farms Ltd", "Atlas Farms Ltd", 4},
		{"atlas  farms, ltd", "Atlas Farms Ltd", 4},
		{"Boyle", "Patricia Boyle", 3},
		{"farms atlas", "Atlas Farms Ltd - Annual renewal", 3},
		{"Atl", "Atlas Farms Ltd", 2},
		{"Atlas Crab", "Atlas Farms Ltd", 1},
		{"Boyle", "Harbor Foods Inc", 0},
		{"Boyle", "", 0},
		{"  ", "Patricia Boyle", 0},
		{"Müller", "Jürgen Müller", 3},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, matchScore(tt.query, tt.name), "%q in %q", tt.query, tt.name)
	}
}

func TestRecordTitles(t *testing.T) {
	t.Parallel()
	rec := func(s string) map[string]any { return readRecord(json.RawMessage(s)) }
	tests := []struct {
		module, rec, want string
	}{
		{bigin.ModuleContacts, `{"id":"1","First_Name":"Patricia","Last_Name":"Boyle","Account_Name":{"name":"Zylker","id":"2"}}`, "Patricia Boyle (Zylker)"},
		{bigin.ModuleContacts, `{"id":"1","First_Name":null,"Last_Name":"Boyle"}`, "Boyle"},
		{bigin.ModuleContacts, `{"id":"1","Email":"p@zylker.example"}`, "p@zylker.example"},
		{bigin.ModuleContacts, `{"id":"1"}`, "Contact 1"},
		{bigin.ModuleAccounts, `{"id":"2","Account_Name":"Zylker"}`, "Zylker"},
		{bigin.ModulePipelines, `{"id":"3","Deal_Name":"Zylker - Pilot","Stage":"Qualification","Amount":12500}`, "Zylker - Pilot (Qualification, amount 12,500)"},
		{bigin.ModulePipelines, `{"id":"3","Deal_Name":"Zylker - Pilot","Amount":1250.5}`, "Zylker - Pilot (amount 1,250.50)"},
		{bigin.ModulePipelines, `{"id":"3","Deal_Name":"Zylker - Pilot","Stage":"Closed Won","Amount":null}`, "Zylker - Pilot (Closed Won)"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, recordTitle(tt.module, rec(tt.rec)), tt.rec)
	}
	for in, want := range map[string]string{"0": "0", "999": "999", "1000": "1,000", "1234567.891": "1,234,567.89", "-45000": "-45,000", "12.5": "12.50"} {
		assert.Equal(t, want, formatAmount(json.Number(in)), in)
	}
	assert.Empty(t, formatAmount("12"), "not a number")
}

func TestOrderFields(t *testing.T) {
	t.Parallel()
	raw := `{"Last_Name":"Boyle","id":"1","$approved":true,"Custom_Score":7,"First_Name":"Patricia","Tag":[{"name":"VIP"},{"name":"2026"}],` +
		`"Email_Opt_Out":false,"Description":"","Owner":{"name":"Amelia Smith","id":"9","email":"a@zylker.example"},"Phone":null,"Multi":["a","b"],"Budget":25000}`
	meta := []bigin.Field{{APIName: "Owner", Label: "Contact Owner"}, {APIName: "First_Name", Label: "First Name"}, {APIName: "Last_Name", Label: "Last Name"},
		{APIName: "Phone", Label: "Phone"}, {APIName: "Email_Opt_Out", Label: "Email Opt Out"}, {APIName: "Gone", Label: "Gone"},
		{APIName: "Budget", Label: "Budget", DataType: "currency"}}
	got := orderFields(readFields(json.RawMessage(raw)), meta)
	assert.Equal(t, []shownField{
		{"Contact Owner", "Amelia Smith"}, {"First Name", "Patricia"}, {"Last Name", "Boyle"}, {"Email Opt Out", "No"}, {"Budget", "25,000"},
		{"Custom Score", "7"}, {"Tag", "VIP, 2026"}, {"Multi", "a, b"},
	}, got, "the metadata's order and labels, then the rest in the record's order; no id, $ keys or empty values")
	assert.Equal(t, []shownField{{"Last Name", "Boyle"}, {"First Name", "Patricia"}}, orderFields(readFields(json.RawMessage(`{"Last_Name":"Boyle","First_Name":"Patricia"}`)), nil),
		"without metadata: the record's order, labels from the names")
}

func TestDocText(t *testing.T) {
	t.Parallel()
	text := newDocText(cutNote + 40)
	assert.True(t, text.line("A first line that is longer than the budget, which goes in anyway."))
	assert.False(t, text.line("x"), "nothing more fits")
	assert.False(t, text.line(""), "the text is closed")
	text.cut("cut")
	assert.Equal(t, "A first line that is longer than the budget, which goes in anyway.\n[cut]", text.String())

	text = newDocText(cutNote + 30)
	assert.True(t, text.line(`"quoted"`)) // 10 characters inside JSON, and its \n
	assert.True(t, text.line("ünïcode"))  // 7
	assert.True(t, text.line("ok"))
	assert.False(t, text.full)
	assert.False(t, text.line("more"), "6 more characters do not fit in the 5 left")
	assert.True(t, text.full)
	assert.Equal(t, "\"quoted\"\nünïcode\nok", text.String())
	assert.LessOrEqual(t, jsonChars(text.String()), 30)
	assert.Equal(t, 10, jsonChars(`"quoted"`))
	assert.Equal(t, 7, utf8.RuneCountInString("ünïcode"))
}

func TestChatToolsDeclarations(t *testing.T) {
	t.Parallel()
	for _, tool := range chatgptTools() {
		assert.Equal(t, []string{"search", "chatgpt"}, tool.Tags, tool.Name)
		assert.Equal(t, chatModules, tool.Modules, tool.Name)
		assert.True(t, tool.TextAlways, tool.Name)
		a := tool.Annotations()
		assert.True(t, a.ReadOnly, tool.Name)
		assert.False(t, a.Destructive, tool.Name)
		assert.True(t, slices.Contains(tool.Scopes, "ZohoBigin.modules.ALL"), tool.Name)
	}
}

// Notes come newest first by their time, not their text: the hour the
// clocks go back has two offsets.
func TestRenderNotes(t *testing.T) {
	t.Parallel()
	page := bigin.Page{Records: []json.RawMessage{
		json.RawMessage(`{"id":"1","Note_Content":"first","Created_Time":"2026-11-01T01:30:00-04:00","Owner":{"name":"Amelia Smith","id":"9"}}`),
		json.RawMessage(`{"id":"2","Note_Title":"Call","Note_Content":"second","Created_Time":"2026-11-01T01:10:00-05:00"}`),
		json.RawMessage(`{"id":"3","Note_Content":"","Created_Time":"2026-10-30T09:00:00-04:00"}`),
	}}
	text := newDocText(10_000)
	text.line("Contact: Patricia Boyle")
	renderNotes(text, page, nil)
	assert.Equal(t, "Contact: Patricia Boyle\n\nNotes (3, newest first):\n"+
		"- Call (2026-11-01T01:10:00-05:00)\nsecond\n"+
		"- 2026-11-01T01:30:00-04:00, by Amelia Smith\nfirst\n"+
		"- 2026-10-30T09:00:00-04:00", text.String())

	small := newDocText(cutNote + 70)
	small.line("Contact: Patricia Boyle")
	renderNotes(small, page, nil)
	assert.Equal(t, "Contact: Patricia Boyle\n\nNotes (3, newest first):\n"+
		"[3 older notes do not fit the result size budget; list_zohobigin_related_records with related Notes lists them all.]", small.String())

	failed := newDocText(10_000)
	failed.line("Deal: Pilot")
	renderNotes(failed, bigin.Page{}, &bigin.APIError{Status: 401, Code: "OAUTH_SCOPE_MISMATCH", Message: "invalid oauth scope"})
	assert.Contains(t, failed.String(), "\n\nNotes: they could not be read (")
	assert.Contains(t, failed.String(), "OAUTH_SCOPE_MISMATCH")

	none := newDocText(10_000)
	none.line("Deal: Pilot")
	renderNotes(none, bigin.Page{}, nil)
	assert.Equal(t, "Deal: Pilot\n\nNotes: none.", none.String())
}
