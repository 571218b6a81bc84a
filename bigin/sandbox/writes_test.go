package sandbox_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

// outcomes decodes a write's {"data":[…]}.
func outcomes(t *testing.T, a answer) []rec {
	t.Helper()
	var v struct {
		Data []rec `json:"data"`
	}
	require.NoError(t, json.Unmarshal(a.body, &v), string(a.body))
	return v.Data
}

// details is an outcome's details.
func details(o rec) map[string]any {
	d, _ := o["details"].(map[string]any)
	return d
}

// write posts {"data": records} and checks the status.
func (e *env) write(t *testing.T, method, path, at string, status int, records ...string) []rec {
	t.Helper()
	a := e.call(t, method, path, at, `{"data":[`+strings.Join(records, ",")+`]}`)
	require.Equal(t, status, a.status, string(a.body))
	assert.Equal(t, "application/json;charset=utf-8", a.header.Get("Content-Type"))
	outs := outcomes(t, a)
	require.Len(t, outs, len(records))
	return outs
}

// get reads one record whole.
func (e *env) get(t *testing.T, at, module, id string) rec {
	t.Helper()
	rs := records(t, e.call(t, "GET", "/bigin/v2/"+module+"/"+id, at, ""))
	require.Len(t, rs, 1)
	return rs[0]
}

func TestInsert(t *testing.T) {
	e, at := recordEnv(t)
	account := e.sb.RecordIDs(sandbox.Accounts)[3]
	contact := e.sb.RecordIDs(sandbox.Contacts)[3]
	deal := e.sb.RecordIDs(sandbox.Pipelines)[3]
	sales := e.sb.TeamPipelines()[0]
	partner := e.sb.TeamPipelines()[1]
	now := e.clk.Now()

	t.Run("one record: 201, Zoho's success entry, then readable", func(t *testing.T) {
		outs := e.write(t, "POST", "/bigin/v2/Contacts", at, http.StatusCreated,
			`{"First_Name":"Ada","Last_Name":"Lovelace","Email":"ada@engines.example","Account_Name":{"id":"`+account+`"},"Mailing_City":"London","Nonexistent_Field":"ignored","Full_Name":"ignored too"}`)
		o := outs[0]
		assert.Equal(t, "SUCCESS", o["code"])
		assert.Equal(t, "record added", o["message"])
		assert.Equal(t, "success", o["status"])
		d := details(o)
		id := d["id"].(string)
		me := map[string]any{"name": "Patricia Boyle", "id": e.sb.PrimaryUserID()}
		assert.Equal(t, map[string]any{"id": id, "Created_Time": d["Created_Time"], "Modified_Time": d["Created_Time"], "Created_By": me, "Modified_By": me}, d)
		created, err := time.Parse(time.RFC3339, d["Created_Time"].(string))
		require.NoError(t, err)
		assert.True(t, created.Equal(now), "stamped on the sandbox's clock")
		r := e.get(t, at, sandbox.Contacts, id)
		assert.Equal(t, "Ada Lovelace", r["Full_Name"], "Zoho computes the full name")
		assert.Equal(t, account, refID(r, "Account_Name"))
		assert.NotEmpty(t, refName(r, "Account_Name"))
		assert.Equal(t, e.sb.PrimaryUserID(), refID(r, "Owner"), "the caller owns it")
		assert.NotContains(t, r, "Nonexistent_Field")
		assert.Equal(t, id, e.sb.RecordIDs(sandbox.Contacts)[len(e.sb.RecordIDs(sandbox.Contacts))-1], "new ids come last")
	})

	t.Run("several: 202", func(t *testing.T) {
		outs := e.write(t, "POST", "/bigin/v2/Accounts", at, http.StatusAccepted, `{"Account_Name":"One"}`, `{"Account_Name":"Two"}`)
		assert.Equal(t, "SUCCESS", outs[0]["code"])
		assert.NotEqual(t, details(outs[0])["id"], details(outs[1])["id"])
	})

	t.Run("some fail: 207, one entry per record in order", func(t *testing.T) {
		outs := e.write(t, "POST", "/bigin/v2/Contacts", at, http.StatusMultiStatus,
			`{"Last_Name":"Fine"}`, `{"First_Name":"No last name"}`, `{"Last_Name":"Fine too"}`)
		assert.Equal(t, []any{"success", "error", "success"}, []any{outs[0]["status"], outs[1]["status"], outs[2]["status"]})
		assert.Equal(t, rec{"code": "MANDATORY_NOT_FOUND", "message": "required field not found", "status": "error",
			"details": map[string]any{"api_name": "Last_Name", "json_path": "$.data[1].Last_Name"}}, outs[1])
	})

	t.Run("all fail: 400 with the entries", func(t *testing.T) {
		outs := e.write(t, "POST", "/bigin/v2/Contacts", at, http.StatusBadRequest, `{"First_Name":"x"}`, `[1]`)
		assert.Equal(t, "MANDATORY_NOT_FOUND", outs[0]["code"])
		assert.Equal(t, "INVALID_DATA", outs[1]["code"])
		assert.Equal(t, "jsonobject", details(outs[1])["expected_data_type"])
	})

	// Each module's system-mandatory fields, and one valid record.
	valid := map[string]map[string]any{
		sandbox.Contacts:  {"Last_Name": "Doe"},
		sandbox.Accounts:  {"Account_Name": "Acme"},
		sandbox.Pipelines: {"Deal_Name": "Big one", "Sub_Pipeline": "Sales Pipeline Standard", "Stage": "Qualification"},
		sandbox.Products:  {"Product_Name": "Widget"},
		sandbox.Tasks:     {"Subject": "Call back"},
		sandbox.Events:    {"Event_Title": "Demo", "Start_DateTime": "2025-06-02T10:00:00+00:00", "End_DateTime": "2025-06-02T11:00:00+00:00"},
		sandbox.Calls:     {"Subject": "Intro", "Call_Type": "Outbound", "Call_Start_Time": "2025-06-02T10:00:00+00:00", "Call_Duration": "05:00"},
	}
	for module, rec := range valid {
		t.Run("mandatory fields of "+module, func(t *testing.T) {
			body, _ := json.Marshal(rec)
			e.write(t, "POST", "/bigin/v2/"+module, at, http.StatusCreated, string(body))
			for field := range rec {
				without := map[string]any{}
				for k, v := range rec {
					if k != field {
						without[k] = v
					}
				}
				for _, missing := range []any{nil, "", "  "} {
					if missing != nil {
						without[field] = missing
					}
					body, _ := json.Marshal(without)
					o := e.write(t, "POST", "/bigin/v2/"+module, at, http.StatusBadRequest, string(body))[0]
					assert.Equal(t, "MANDATORY_NOT_FOUND", o["code"], "%s without %s", module, field)
					assert.Equal(t, field, details(o)["api_name"])
				}
			}
		})
	}

	invalid := []struct {
		name, module, record, field, want string
	}{
		{"an email that is not one", sandbox.Contacts, `{"Last_Name":"x","Email":"nope"}`, "Email", "email"},
		{"a number as text", sandbox.Pipelines, `{"Deal_Name":"x","Sub_Pipeline":"Sales Pipeline Standard","Stage":"Qualification","Amount":"lots"}`, "Amount", "currency"},
		{"a date that is not one", sandbox.Pipelines, `{"Deal_Name":"x","Sub_Pipeline":"Sales Pipeline Standard","Stage":"Qualification","Closing_Date":"tomorrow"}`, "Closing_Date", "date"},
		{"a datetime without offset", sandbox.Events, `{"Event_Title":"x","Start_DateTime":"2025-06-02 10:00","End_DateTime":"2025-06-02T11:00:00+00:00"}`, "Start_DateTime", "datetime"},
		{"a boolean as text", sandbox.Contacts, `{"Last_Name":"x","Email_Opt_Out":"yes"}`, "Email_Opt_Out", "boolean"},
		{"a lookup to nothing", sandbox.Contacts, `{"Last_Name":"x","Account_Name":{"id":"123456789012345678"}}`, "Account_Name", "lookup"},
		{"a lookup to another module's record", sandbox.Contacts, `{"Last_Name":"x","Account_Name":{"id":"` + contact + `"}}`, "Account_Name", "lookup"},
		{"a lookup as a bare id", sandbox.Contacts, `{"Last_Name":"x","Account_Name":"` + account + `"}`, "Account_Name", "lookup"},
		{"an owner who is no user", sandbox.Contacts, `{"Last_Name":"x","Owner":{"id":"1"}}`, "Owner", "ownerlookup"},
		{"a picklist value it lacks", sandbox.Tasks, `{"Subject":"x","Status":"Sleeping"}`, "Status", "picklist"},
		{"text too long", sandbox.Contacts, `{"Last_Name":"` + strings.Repeat("x", 81) + `"}`, "Last_Name", "text"},
		{"a stage of another sub-pipeline", sandbox.Pipelines, `{"Deal_Name":"x","Sub_Pipeline":"Sales Pipeline Standard","Stage":"Legal Review"}`, "Stage", "picklist"},
		{"an unknown sub-pipeline", sandbox.Pipelines, `{"Deal_Name":"x","Sub_Pipeline":"Nope","Stage":"Qualification"}`, "Sub_Pipeline", "picklist"},
		{"another team pipeline's sub-pipeline", sandbox.Pipelines,
			`{"Deal_Name":"x","Pipeline":{"id":"` + partner.ID + `"},"Sub_Pipeline":"Sales Pipeline Standard","Stage":"Qualification"}`, "Sub_Pipeline", "picklist"},
		{"a team pipeline that is not one", sandbox.Pipelines, `{"Deal_Name":"x","Pipeline":{"id":"42"},"Sub_Pipeline":"Sales Pipeline Standard","Stage":"Qualification"}`, "Pipeline", "bigint"},
		{"Related_To a product", sandbox.Tasks, `{"Subject":"x","Related_To":{"id":"` + e.sb.RecordIDs(sandbox.Products)[0] + `"}}`, "Related_To", "lookup"},
		{"Related_To with another $se_module", sandbox.Tasks, `{"Subject":"x","Related_To":{"id":"` + deal + `"},"$se_module":"Contacts"}`, "Related_To", "lookup"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			o := e.write(t, "POST", "/bigin/v2/"+tt.module, at, http.StatusBadRequest, tt.record)[0]
			assert.Equal(t, "INVALID_DATA", o["code"], o)
			assert.Equal(t, "invalid data", o["message"])
			assert.Equal(t, map[string]any{"api_name": tt.field, "expected_data_type": tt.want, "json_path": "$.data[0]." + tt.field}, details(o))
		})
	}

	t.Run("a deal's team pipeline follows from its sub-pipeline; Layout works for Pipeline", func(t *testing.T) {
		outs := e.write(t, "POST", "/bigin/v2/Pipelines", at, http.StatusAccepted,
			`{"Deal_Name":"a","Sub_Pipeline":"Reseller Renewals","Stage":"Quote Sent","Amount":1250.5,"Closing_Date":"2025-07-01","Contact_Name":{"id":"`+contact+`"}}`,
			`{"Deal_Name":"b","Layout":{"id":"`+sales.ID+`"},"Sub_Pipeline":"Enterprise Deals","Stage":"Legal Review"}`)
		a := e.get(t, at, sandbox.Pipelines, details(outs[0])["id"].(string))
		assert.Equal(t, map[string]any{"name": partner.Name, "id": partner.ID}, a["Pipeline"])
		assert.Equal(t, 1250.5, a["Amount"])
		assert.Equal(t, "2025-07-01", a["Closing_Date"])
		b := e.get(t, at, sandbox.Pipelines, details(outs[1])["id"].(string))
		assert.Equal(t, sales.ID, refID(b, "Pipeline"))
	})

	t.Run("an activity's module follows from Related_To", func(t *testing.T) {
		outs := e.write(t, "POST", "/bigin/v2/Tasks", at, http.StatusAccepted,
			`{"Subject":"a","Related_To":{"id":"`+deal+`"}}`, `{"Subject":"b","Related_To":{"id":"`+account+`"},"$se_module":"Accounts"}`)
		a := e.get(t, at, sandbox.Tasks, details(outs[0])["id"].(string))
		assert.Equal(t, sandbox.Pipelines, a["$se_module"])
		assert.Equal(t, deal, refID(a, "Related_To"))
		b := e.get(t, at, sandbox.Tasks, details(outs[1])["id"].(string))
		assert.Equal(t, sandbox.Accounts, b["$se_module"])
	})

	t.Run("a datetime is kept in the org's zone", func(t *testing.T) {
		o := e.write(t, "POST", "/bigin/v2/Events", at, http.StatusCreated,
			`{"Event_Title":"Z","Start_DateTime":"2025-06-02T10:00:00Z","End_DateTime":"2025-06-02T11:00:00+02:00"}`)[0]
		r := e.get(t, at, sandbox.Events, details(o)["id"].(string))
		assert.Equal(t, "2025-06-02T05:00:00-05:00", r["Start_DateTime"])
		assert.Equal(t, "2025-06-02T04:00:00-05:00", r["End_DateTime"])
	})

	t.Run("DUPLICATE_DATA names the record that holds the value", func(t *testing.T) {
		existing := e.get(t, at, sandbox.Contacts, contact)
		require.NotEmpty(t, existing["Email"])
		outs := e.write(t, "POST", "/bigin/v2/Contacts", at, http.StatusMultiStatus,
			`{"Last_Name":"Copy","Email":"`+strings.ToUpper(existing["Email"].(string))+`"}`,
			`{"Last_Name":"New","Email":"fresh@new.example"}`,
			`{"Last_Name":"Again","Email":"fresh@new.example"}`)
		assert.Equal(t, "DUPLICATE_DATA", outs[0]["code"])
		assert.Equal(t, "duplicate data", outs[0]["message"])
		d := details(outs[0])
		assert.Equal(t, "Email", d["api_name"])
		assert.Equal(t, "$.data[0].Email", d["json_path"])
		dup := d["duplicate_record"].(map[string]any)
		assert.Equal(t, contact, dup["id"])
		assert.Equal(t, sandbox.Contacts, dup["module"].(map[string]any)["api_name"])
		assert.Equal(t, refID(existing, "Owner"), dup["Owner"].(map[string]any)["id"])
		assert.Equal(t, "SUCCESS", outs[1]["code"])
		assert.Equal(t, details(outs[1])["id"], details(outs[2])["duplicate_record"].(map[string]any)["id"], "a record of the same call counts")
	})

	t.Run("the body", func(t *testing.T) {
		hundred := strings.TrimSuffix(strings.Repeat(`{"Account_Name":"bulk"},`, 100), ",")
		e.write(t, "POST", "/bigin/v2/Accounts", at, http.StatusAccepted, strings.Split(hundred, ",")...)
		m := zohoError(t, e.call(t, "POST", "/bigin/v2/Accounts", at, `{"data":[`+hundred+`,{"Account_Name":"one too many"}]}`),
			400, "LIMIT_EXCEEDED", "the number of records exceeds the limit")
		assert.Equal(t, map[string]any{"limit": float64(100)}, m["details"])
		zohoError(t, e.call(t, "POST", "/bigin/v2/Accounts", at, `{}`), 400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing")
		zohoError(t, e.call(t, "POST", "/bigin/v2/Accounts", at, `{"data":[]}`), 400, "INVALID_DATA", "invalid data")
		zohoError(t, e.call(t, "POST", "/bigin/v2/Accounts", at, `{"data":{"Account_Name":"x"}}`), 400, "INVALID_DATA", "invalid data")
		a := e.call(t, "POST", "/bigin/v2/Accounts", at, `not json`)
		assert.Equal(t, 400, a.status)
		assert.Equal(t, "INVALID_DATA", a.json(t)["code"])
	})
}

func TestUpdateAndDelete(t *testing.T) {
	e, at := recordEnv(t)
	contacts := e.sb.RecordIDs(sandbox.Contacts)
	deals := e.sb.RecordIDs(sandbox.Pipelines)

	t.Run("update changes only the fields given", func(t *testing.T) {
		before := e.get(t, at, sandbox.Contacts, contacts[10])
		e.clk.Advance(time.Minute)
		outs := e.write(t, "PUT", "/bigin/v2/Contacts", at, http.StatusOK, `{"id":"`+contacts[10]+`","First_Name":"Renamed","Title":"Chief"}`)
		assert.Equal(t, "SUCCESS", outs[0]["code"])
		assert.Equal(t, "record updated", outs[0]["message"])
		assert.Equal(t, contacts[10], details(outs[0])["id"])
		after := e.get(t, at, sandbox.Contacts, contacts[10])
		assert.Equal(t, "Renamed", after["First_Name"])
		assert.Equal(t, "Renamed "+before["Last_Name"].(string), after["Full_Name"])
		assert.Equal(t, before["Email"], after["Email"])
		assert.Equal(t, before["Created_Time"], after["Created_Time"])
		assert.NotEqual(t, before["Modified_Time"], after["Modified_Time"])
		assert.Equal(t, details(outs[0])["Modified_Time"], after["Modified_Time"])
	})

	t.Run("moving a deal's stage, and a stage its sub-pipeline lacks", func(t *testing.T) {
		d := e.get(t, at, sandbox.Pipelines, deals[0])
		var stages []string
		for _, tp := range e.sb.TeamPipelines() {
			for _, sp := range tp.SubPipelines {
				if sp.Name == d["Sub_Pipeline"] {
					stages = sp.Stages
				}
			}
		}
		next := stages[(slices.Index(stages, d["Stage"].(string))+1)%len(stages)]
		outs := e.write(t, "PUT", "/bigin/v2/Pipelines", at, http.StatusMultiStatus,
			`{"id":"`+deals[0]+`","Stage":"`+next+`"}`, `{"id":"`+deals[1]+`","Stage":"No such stage"}`)
		assert.Equal(t, "SUCCESS", outs[0]["code"])
		assert.Equal(t, "INVALID_DATA", outs[1]["code"])
		assert.Equal(t, "Stage", details(outs[1])["api_name"])
		assert.Equal(t, next, e.get(t, at, sandbox.Pipelines, deals[0])["Stage"])
	})

	t.Run("a refused update changes nothing", func(t *testing.T) {
		before, _ := e.sb.Record(sandbox.Contacts, contacts[11])
		o := e.write(t, "PUT", "/bigin/v2/Contacts", at, http.StatusBadRequest, `{"id":"`+contacts[11]+`","First_Name":"Half","Email":"broken"}`)[0]
		assert.Equal(t, "Email", details(o)["api_name"])
		after, _ := e.sb.Record(sandbox.Contacts, contacts[11])
		assert.JSONEq(t, string(before), string(after))
	})

	t.Run("per-record update errors", func(t *testing.T) {
		outs := e.write(t, "PUT", "/bigin/v2/Contacts", at, http.StatusBadRequest,
			`{"Last_Name":"no id"}`, `{"id":"123456789012345678","Last_Name":"x"}`, `{"id":"`+contacts[12]+`","Last_Name":null}`,
			`{"id":"`+deals[0]+`","Last_Name":"a deal's id"}`)
		assert.Equal(t, rec{"code": "MANDATORY_NOT_FOUND", "details": map[string]any{"api_name": "id", "json_path": "$.data[0].id"}, "message": "required field not found", "status": "error"}, outs[0])
		assert.Equal(t, rec{"code": "INVALID_DATA", "details": map[string]any{"id": "123456789012345678"}, "message": "the id given seems to be invalid", "status": "error"}, outs[1])
		assert.Equal(t, "MANDATORY_NOT_FOUND", outs[2]["code"], "a mandatory field cannot be emptied")
		assert.Equal(t, "Last_Name", details(outs[2])["api_name"])
		assert.Equal(t, "INVALID_DATA", outs[3]["code"])
	})

	t.Run("one record by its URL", func(t *testing.T) {
		o := e.write(t, "PUT", "/bigin/v2/Contacts/"+contacts[13], at, http.StatusOK, `{"Title":"By URL"}`)[0]
		assert.Equal(t, "SUCCESS", o["code"])
		assert.Equal(t, "By URL", e.get(t, at, sandbox.Contacts, contacts[13])["Title"])
	})

	t.Run("renaming a company renames every lookup to it", func(t *testing.T) {
		c := e.get(t, at, sandbox.Contacts, contacts[20])
		acct := refID(c, "Account_Name")
		require.NotEmpty(t, acct)
		e.write(t, "PUT", "/bigin/v2/Accounts", at, http.StatusOK, `{"id":"`+acct+`","Account_Name":"Renamed Co"}`)
		assert.Equal(t, "Renamed Co", refName(e.get(t, at, sandbox.Contacts, contacts[20]), "Account_Name"))
	})

	t.Run("delete by ids, one outcome each", func(t *testing.T) {
		victim := contacts[30]
		notesBefore := e.all(t, at, sandbox.Contacts+"/"+victim+"/Notes", "Note_Content")
		dealsOf := e.all(t, at, sandbox.Pipelines, "Contact_Name")
		a := e.call(t, "DELETE", "/bigin/v2/Contacts?ids="+victim+",123456789012345678,"+victim, at, "")
		require.Equal(t, http.StatusMultiStatus, a.status, string(a.body))
		outs := outcomes(t, a)
		assert.Equal(t, rec{"code": "SUCCESS", "details": map[string]any{"id": victim}, "message": "record deleted", "status": "success"}, outs[0])
		assert.Equal(t, "INVALID_DATA", outs[1]["code"])
		assert.Equal(t, map[string]any{"id": victim}, details(outs[2]), "deleted already")
		zohoError(t, e.call(t, "GET", "/bigin/v2/Contacts/"+victim, at, ""), 400, "INVALID_DATA", "the id given seems to be invalid")
		assert.NotContains(t, e.sb.RecordIDs(sandbox.Contacts), victim)
		for _, n := range notesBefore {
			assert.NotContains(t, e.sb.RecordIDs(sandbox.Notes), n["id"], "its notes go with it")
		}
		for _, d := range dealsOf {
			if refID(d, "Contact_Name") == victim {
				assert.Nil(t, e.get(t, at, sandbox.Pipelines, d["id"].(string))["Contact_Name"], "lookups to it are cleared")
			}
		}
	})

	t.Run("statuses of deletes", func(t *testing.T) {
		a := e.call(t, "DELETE", "/bigin/v2/Contacts/"+contacts[31], at, "")
		assert.Equal(t, http.StatusOK, a.status, string(a.body))
		a = e.call(t, "DELETE", "/bigin/v2/Contacts?ids="+contacts[32]+","+contacts[33], at, "")
		assert.Equal(t, http.StatusAccepted, a.status)
		a = e.call(t, "DELETE", "/bigin/v2/Contacts?ids="+contacts[32], at, "")
		assert.Equal(t, http.StatusBadRequest, a.status)
		zohoError(t, e.call(t, "DELETE", "/bigin/v2/Contacts", at, ""), 400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing")
		many := strings.TrimSuffix(strings.Repeat("1,", 101), ",")
		zohoError(t, e.call(t, "DELETE", "/bigin/v2/Contacts?ids="+many, at, ""), 400, "LIMIT_EXCEEDED", "the number of records exceeds the limit")
	})
}

func TestRelatedListsAndNotes(t *testing.T) {
	e, at := recordEnv(t)
	contacts := e.all(t, at, sandbox.Contacts, "Account_Name")
	deals := e.all(t, at, sandbox.Pipelines, "Account_Name,Contact_Name,Pipeline")
	tasks := e.all(t, at, sandbox.Tasks, "Related_To,Contact_Name")
	var allNotes []rec // Notes has no list URL: read them from the sandbox
	for _, id := range e.sb.RecordIDs(sandbox.Notes) {
		raw, _ := e.sb.Record(sandbox.Notes, id)
		var r rec
		require.NoError(t, json.Unmarshal(raw, &r))
		allNotes = append(allNotes, r)
	}
	// A company with contacts, deals, tasks and notes.
	var acct string
	for _, d := range deals {
		a := refID(d, "Account_Name")
		if len(where(contacts, func(r rec) bool { return refID(r, "Account_Name") == a })) > 1 &&
			len(where(tasks, func(r rec) bool { return refID(r, "Related_To") == a })) > 0 &&
			len(where(allNotes, func(r rec) bool { return refID(r, "Parent_Id") == a })) > 0 {
			acct = a
			break
		}
	}
	require.NotEmpty(t, acct, "the seed has a company with contacts, tasks and notes")
	var contactWithDeals string
	for _, d := range deals {
		if c := refID(d, "Contact_Name"); c != "" {
			contactWithDeals = c
			break
		}
	}
	pipelineOf := map[string]string{}
	for _, d := range deals {
		pipelineOf[d["id"].(string)] = refID(d, "Pipeline")
	}
	dealWithContact := where(deals, func(r rec) bool { return refID(r, "Contact_Name") != "" })[0]

	tests := []struct {
		name, path string
		want       []string
	}{
		{"a company's contacts", "Accounts/" + acct + "/Contacts", where(contacts, func(r rec) bool { return refID(r, "Account_Name") == acct })},
		{"a company's deals", "Accounts/" + acct + "/Pipelines", where(deals, func(r rec) bool { return refID(r, "Account_Name") == acct })},
		{"a company's tasks", "Accounts/" + acct + "/Tasks", where(tasks, func(r rec) bool { return refID(r, "Related_To") == acct })},
		{"a company's notes", "Accounts/" + acct + "/Notes", where(allNotes, func(r rec) bool { return refID(r, "Parent_Id") == acct })},
		{"a deal's contact", "Pipelines/" + dealWithContact + "/Contacts", []string{refID(deals[slices.IndexFunc(deals, func(r rec) bool { return r["id"] == dealWithContact })], "Contact_Name")}},
		{"a contact's tasks: related to it or naming it", "Contacts/" + contactWithDeals + "/Tasks", where(tasks, func(r rec) bool {
			return refID(r, "Related_To") == contactWithDeals || refID(r, "Contact_Name") == contactWithDeals
		})},
	}
	for _, tp := range e.sb.TeamPipelines() {
		tests = append(tests, struct {
			name, path string
			want       []string
		}{"a contact's deals in " + tp.Name, "Contacts/" + contactWithDeals + "/Pipelines?pipeline_id=" + tp.ID, where(deals, func(r rec) bool {
			return refID(r, "Contact_Name") == contactWithDeals && refID(r, "Pipeline") == tp.ID
		})})
	}
	nonEmpty := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, query, _ := strings.Cut(tt.path, "?")
			got := e.all(t, at, path, "id", query)
			assert.ElementsMatch(t, tt.want, idsOf(got))
			if len(tt.want) > 0 {
				nonEmpty++
			}
		})
	}
	assert.GreaterOrEqual(t, nonEmpty, len(tests)-1, "the cases see records")

	t.Run("product links go both ways", func(t *testing.T) {
		linked := 0
		for _, p := range e.sb.RecordIDs(sandbox.Products)[:10] {
			for _, d := range idsOf(e.all(t, at, "Products/"+p+"/Pipelines", "Deal_Name")) {
				assert.Contains(t, idsOf(e.all(t, at, "Pipelines/"+d+"/Products", "Product_Name")), p)
				linked++
			}
			for _, a := range idsOf(e.all(t, at, "Products/"+p+"/Accounts", "Account_Name")) {
				assert.Contains(t, idsOf(e.all(t, at, "Accounts/"+a+"/Products", "Product_Name")), p)
			}
		}
		assert.Positive(t, linked)
	})

	t.Run("refusals", func(t *testing.T) {
		c := contacts[0]["id"].(string)
		m := zohoError(t, e.call(t, "GET", "/bigin/v2/Contacts/"+c+"/Pipelines?fields=Deal_Name", at, ""), 400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing")
		assert.Equal(t, map[string]any{"param_name": "pipeline_id"}, m["details"])
		zohoError(t, e.call(t, "GET", "/bigin/v2/Contacts/"+c+"/Pipelines?fields=Deal_Name&pipeline_id=1", at, ""), 400, "INVALID_DATA", "invalid data")
		zohoError(t, e.call(t, "GET", "/bigin/v2/Contacts/"+c+"/Notes", at, ""), 400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing")
		zohoError(t, e.call(t, "GET", "/bigin/v2/Contacts/"+c+"/Accounts?fields=Account_Name", at, ""), 400, "INVALID_DATA", "the related list name given seems to be invalid")
		zohoError(t, e.call(t, "GET", "/bigin/v2/Contacts/123456789012345678/Notes?fields=Note_Content", at, ""), 400, "INVALID_DATA", "the id given seems to be invalid")
		zohoError(t, e.call(t, "GET", "/bigin/v2/Tasks/"+tasks[0]["id"].(string)+"/Notes?fields=Note_Content", at, ""), 404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one")
		zohoError(t, e.call(t, "POST", "/bigin/v2/Accounts/"+acct+"/Contacts", at, `{"data":[{}]}`), 400, "INVALID_REQUEST_METHOD", "The http request method type is not a valid one")
	})

	t.Run("adding notes", func(t *testing.T) {
		path := "/bigin/v2/Pipelines/" + dealWithContact + "/Notes"
		o := e.write(t, "POST", path, at, http.StatusCreated, `{"Note_Title":"Call","Note_Content":"They said yes.","Parent_Id":"ignored"}`)[0]
		assert.Equal(t, "SUCCESS", o["code"])
		assert.Equal(t, "record added", o["message"])
		id := details(o)["id"].(string)
		got := records(t, e.call(t, "GET", path+"?fields=Note_Title,Note_Content,Parent_Id&per_page=200", at, ""))
		i := slices.IndexFunc(got, func(r rec) bool { return r["id"] == id })
		require.GreaterOrEqual(t, i, 0, "the note is in the deal's notes")
		assert.Equal(t, rec{"Note_Title": "Call", "Note_Content": "They said yes.", "$se_module": sandbox.Pipelines, "id": id,
			"Parent_Id": map[string]any{"id": dealWithContact, "name": got[i]["Parent_Id"].(map[string]any)["name"]}}, got[i])
		assert.NotEmpty(t, got[i]["Parent_Id"].(map[string]any)["name"])

		outs := e.write(t, "POST", path, at, http.StatusMultiStatus, `{"Note_Content":"untitled is fine"}`, `{"Note_Title":"no content"}`)
		assert.Equal(t, "SUCCESS", outs[0]["code"])
		assert.Equal(t, "MANDATORY_NOT_FOUND", outs[1]["code"])
		assert.Equal(t, "Note_Content", details(outs[1])["api_name"])
		zohoError(t, e.call(t, "POST", "/bigin/v2/Pipelines/123456789012345678/Notes", at, `{"data":[{"Note_Content":"x"}]}`), 400, "INVALID_DATA", "the id given seems to be invalid")
	})
}

func TestRecordMetadata(t *testing.T) {
	e, at := recordEnv(t)
	mandatory := map[string][]string{
		sandbox.Contacts:  {"Last_Name"},
		sandbox.Accounts:  {"Account_Name"},
		sandbox.Pipelines: {"Deal_Name", "Sub_Pipeline", "Stage"},
		sandbox.Products:  {"Product_Name"},
		sandbox.Tasks:     {"Subject"},
		sandbox.Events:    {"Event_Title", "Start_DateTime", "End_DateTime"},
		sandbox.Calls:     {"Subject", "Call_Type", "Call_Start_Time", "Call_Duration"},
		sandbox.Notes:     {"Note_Content"},
	}
	type field struct {
		APIName         string `json:"api_name"`
		FieldLabel      string `json:"field_label"`
		DataType        string `json:"data_type"`
		SystemMandatory bool   `json:"system_mandatory"`
		ReadOnly        bool   `json:"read_only"`
		PickListValues  []struct {
			ActualValue string `json:"actual_value"`
			Sequence    int    `json:"sequence_number"`
			Maps        []struct {
				APIName        string `json:"api_name"`
				PickListValues []struct {
					ActualValue string `json:"actual_value"`
				} `json:"pick_list_values"`
			} `json:"maps"`
		} `json:"pick_list_values"`
		Lookup map[string]any `json:"lookup"`
		ID     string         `json:"id"`
	}
	fields := func(t *testing.T, module string) map[string]field {
		a := e.call(t, "GET", "/bigin/v2/settings/fields?module="+module, at, "")
		require.Equal(t, 200, a.status, string(a.body))
		var v struct{ Fields []field }
		require.NoError(t, json.Unmarshal(a.body, &v))
		out := map[string]field{}
		for _, f := range v.Fields {
			out[f.APIName] = f
			assert.NotEmpty(t, f.ID)
			assert.NotEmpty(t, f.FieldLabel)
		}
		return out
	}
	for module, want := range mandatory {
		t.Run("fields of "+module, func(t *testing.T) {
			fs := fields(t, module)
			var got []string
			for name, f := range fs {
				if f.SystemMandatory {
					got = append(got, name)
				}
			}
			assert.ElementsMatch(t, want, got)
			for _, sys := range []string{"Owner", "Created_Time", "Modified_By"} {
				assert.Contains(t, fs, sys)
			}
			assert.True(t, fs["Created_Time"].ReadOnly)
			assert.Equal(t, "datetime", fs["Modified_Time"].DataType)
		})
	}

	t.Run("lookups and picklists", func(t *testing.T) {
		fs := fields(t, sandbox.Pipelines)
		assert.Equal(t, "lookup", fs["Account_Name"].DataType)
		assert.Equal(t, sandbox.Accounts, fs["Account_Name"].Lookup["module"])
		assert.Equal(t, sandbox.Contacts, fs["Contact_Name"].Lookup["module"])
		assert.Equal(t, "bigint", fs["Pipeline"].DataType)
		assert.Equal(t, "currency", fs["Amount"].DataType)
		var stages []string
		for _, v := range fs["Stage"].PickListValues {
			stages = append(stages, v.ActualValue)
		}
		for _, tp := range e.sb.TeamPipelines() {
			for _, sp := range tp.SubPipelines {
				for _, st := range sp.Stages {
					assert.Contains(t, stages, st, "Stage lists every team pipeline's stages")
				}
			}
		}
		assert.Equal(t, "ownerlookup", fields(t, sandbox.Tasks)["Owner"].DataType)
	})

	t.Run("layouts: one per team pipeline, with its stages", func(t *testing.T) {
		a := e.call(t, "GET", "/bigin/v2/settings/layouts?module=Pipelines", at, "")
		require.Equal(t, 200, a.status)
		var v struct {
			Layouts []struct {
				ID, Name, Status string
				Sections         []struct{ Fields []field }
			}
		}
		require.NoError(t, json.Unmarshal(a.body, &v))
		tps := e.sb.TeamPipelines()
		require.Len(t, v.Layouts, len(tps))
		for i, l := range v.Layouts {
			assert.Equal(t, tps[i].ID, l.ID)
			assert.Equal(t, tps[i].Name, l.Name)
			assert.Equal(t, "active", l.Status)
			byName := map[string]field{}
			for _, f := range l.Sections[0].Fields {
				byName[f.APIName] = f
			}
			var subs []string
			for k, v := range byName["Sub_Pipeline"].PickListValues {
				subs = append(subs, v.ActualValue)
				assert.Equal(t, k+1, v.Sequence)
				require.Len(t, v.Maps, 1)
				var mapped []string
				for _, s := range v.Maps[0].PickListValues {
					mapped = append(mapped, s.ActualValue)
				}
				assert.Equal(t, "Stage", v.Maps[0].APIName)
				assert.Equal(t, tps[i].SubPipelines[k].Stages, mapped)
			}
			assert.Equal(t, []string{tps[i].SubPipelines[0].Name, tps[i].SubPipelines[1].Name}, subs)
			var stages []string
			for _, v := range byName["Stage"].PickListValues {
				stages = append(stages, v.ActualValue)
			}
			assert.Equal(t, tps[i].SubPipelines[0].Stages[0], stages[0])
			for _, sp := range tps[i].SubPipelines {
				for _, st := range sp.Stages {
					assert.Contains(t, stages, st)
				}
			}
		}
		other := e.call(t, "GET", "/bigin/v2/settings/layouts?module=Contacts", at, "").json(t)["layouts"].([]any)
		require.Len(t, other, 1)
		assert.Equal(t, "Standard", other[0].(map[string]any)["name"])
	})

	t.Run("the module parameter", func(t *testing.T) {
		for _, p := range []string{"fields", "layouts"} {
			zohoError(t, e.call(t, "GET", "/bigin/v2/settings/"+p, at, ""), 400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing")
			zohoError(t, e.call(t, "GET", "/bigin/v2/settings/"+p+"?module=Leads", at, ""), 400, "INVALID_MODULE", "the module name given seems to be invalid")
		}
	})
}

func TestRecordFaults(t *testing.T) {
	e, at := recordEnv(t)
	calls := map[string]func() answer{
		"list":   func() answer { return e.call(t, "GET", "/bigin/v2/Contacts?fields=Last_Name", at, "") },
		"create": func() answer { return e.call(t, "POST", "/bigin/v2/Accounts", at, `{"data":[{"Account_Name":"x"}]}`) },
		"coql": func() answer {
			return e.call(t, "POST", "/bigin/v2/coql", at, `{"select_query":"select Last_Name from Contacts where id is not null"}`)
		},
		"search": func() answer { return e.call(t, "GET", "/bigin/v2/Contacts/search?word=a", at, "") },
		"fields": func() answer { return e.call(t, "GET", "/bigin/v2/settings/fields?module=Contacts", at, "") },
	}
	faults := []struct {
		fault  sandbox.Fault
		status int
		code   string
	}{
		{sandbox.RateLimited, 429, "TOO_MANY_REQUESTS"},
		{sandbox.ErrorIn200, 200, "INVALID_DATA"},
		{sandbox.InternalError, 500, "INTERNAL_ERROR"},
		{sandbox.InvalidToken, 401, "INVALID_TOKEN"},
	}
	for name, call := range calls {
		for _, f := range faults {
			t.Run(name+" "+f.fault.String(), func(t *testing.T) {
				accounts := len(e.sb.RecordIDs(sandbox.Accounts))
				e.sb.FailNext(1, f.fault)
				a := call()
				require.Equal(t, f.status, a.status, string(a.body))
				assert.Equal(t, f.code, a.json(t)["code"])
				if f.fault == sandbox.RateLimited {
					assert.Equal(t, "30", a.header.Get("Retry-After"))
				}
				assert.Len(t, e.sb.RecordIDs(sandbox.Accounts), accounts, "a faulted write writes nothing")
				assert.Zero(t, e.sb.PendingFaults())
			})
		}
	}
}
