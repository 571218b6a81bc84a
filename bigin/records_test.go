package bigin_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

// decoded is a record decoded for assertions.
func decoded(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m), string(raw))
	return m
}

func TestListRecords(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{Users: 20})
	c := f.client(t, nil)

	t.Run("every contact once, page after page", func(t *testing.T) {
		var got []string
		for page := 1; ; page++ {
			pg, err := c.ListRecords(t.Context(), bigin.ListRecordsParams{Module: bigin.ModuleContacts, Fields: []string{"Last_Name", "Email"},
				Page: page, PerPage: 150, SortBy: "id", SortOrder: "asc"})
			require.NoError(t, err)
			got = append(got, ids(t, pg.Records)...)
			assert.Equal(t, page, pg.Info.Page)
			assert.Equal(t, 150, pg.Info.PerPage)
			assert.Equal(t, len(pg.Records), pg.Info.Count)
			if !pg.Info.MoreRecords {
				break
			}
		}
		assert.Equal(t, f.sb.RecordIDs(sandbox.Contacts), got)
		q := f.lastRequest(t).Query
		assert.Equal(t, "Last_Name,Email", q.Get("fields"))
		assert.Equal(t, "asc", q.Get("sort_order"))
	})

	t.Run("the records are Zoho's bytes", func(t *testing.T) {
		pg, err := c.ListRecords(t.Context(), bigin.ListRecordsParams{Module: bigin.ModuleAccounts, Fields: []string{"Account_Name", "Phone"}, PerPage: 3})
		require.NoError(t, err)
		require.Len(t, pg.Records, 3)
		all := f.sb.RecordIDs(sandbox.Accounts)
		assert.Equal(t, []string{all[len(all)-1], all[len(all)-2], all[len(all)-3]}, ids(t, pg.Records), "Zoho's default: newest first")
		assert.True(t, pg.Info.MoreRecords)
		m := decoded(t, pg.Records[0])
		assert.ElementsMatch(t, []string{"Account_Name", "Phone", "id"}, keys(m))
	})

	t.Run("a team pipeline's deals", func(t *testing.T) {
		tp := f.sb.TeamPipelines()[1]
		pg, err := c.ListRecords(t.Context(), bigin.ListRecordsParams{Module: bigin.ModulePipelines, Fields: []string{"Pipeline"}, PipelineID: tp.ID, SortBy: "Modified_Time"})
		require.NoError(t, err)
		require.NotEmpty(t, pg.Records)
		for _, r := range pg.Records {
			assert.Equal(t, tp.ID, decoded(t, r)["Pipeline"].(map[string]any)["id"])
		}
		assert.Equal(t, tp.ID, f.lastRequest(t).Query.Get("pipeline_id"))
	})

	t.Run("past the end is an empty page", func(t *testing.T) {
		pg, err := c.ListRecords(t.Context(), bigin.ListRecordsParams{Module: bigin.ModuleProducts, Fields: []string{"Product_Name"}, Page: 40})
		require.NoError(t, err)
		assert.NotNil(t, pg.Records)
		assert.Empty(t, pg.Records)
		assert.False(t, pg.Info.MoreRecords)
		assert.Equal(t, http.StatusNoContent, f.lastRequest(t).Status)
	})

	t.Run("get one record, whole or projected", func(t *testing.T) {
		id := f.sb.RecordIDs(sandbox.Contacts)[9]
		rec, err := c.GetRecord(t.Context(), bigin.ModuleContacts, id, nil)
		require.NoError(t, err)
		want, _ := f.sb.Record(sandbox.Contacts, id)
		assert.Equal(t, string(want), string(rec), "byte for byte")
		assert.Empty(t, f.lastRequest(t).Query.Get("fields"))
		rec, err = c.GetRecord(t.Context(), bigin.ModuleContacts, id, []string{"Email"})
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"Email", "id"}, keys(decoded(t, rec)))
		_, err = c.GetRecord(t.Context(), bigin.ModuleContacts, "123456789012345678", nil)
		var ae *bigin.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "INVALID_DATA", ae.Code)
		assert.Equal(t, 400, ae.Status)
	})
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestSearchQueryAndRelated(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{Users: 20})
	c := f.client(t, nil)
	// A contact with an email, a company and deals.
	var contactID string
	var contact map[string]any
	for _, d := range f.sb.RecordIDs(sandbox.Pipelines) {
		ref, _ := decoded(t, mustRecord(t, f.sb, sandbox.Pipelines, d))["Contact_Name"].(map[string]any)
		if ref == nil {
			continue
		}
		contactID = ref["id"].(string)
		contact = decoded(t, mustRecord(t, f.sb, sandbox.Contacts, contactID))
		if contact["Email"] != nil {
			break
		}
	}
	require.NotNil(t, contact["Email"])

	t.Run("search by criteria, word, email and phone", func(t *testing.T) {
		email, _ := contact["Email"].(string)
		require.NotEmpty(t, email)
		tests := []struct {
			name string
			p    bigin.SearchParams
			key  string
		}{
			{"criteria", bigin.SearchParams{Criteria: "(Email:equals:" + email + ")"}, "criteria"},
			{"email", bigin.SearchParams{Email: email}, "email"},
			{"word", bigin.SearchParams{Word: email}, "word"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tt.p.Module, tt.p.Fields = bigin.ModuleContacts, []string{"Email"}
				pg, err := c.SearchRecords(t.Context(), tt.p)
				require.NoError(t, err)
				assert.Equal(t, []string{contactID}, ids(t, pg.Records))
				q := f.lastRequest(t).Query
				assert.NotEmpty(t, q.Get(tt.key))
				assert.Equal(t, "Email", q.Get("fields"))
			})
		}
		pg, err := c.SearchRecords(t.Context(), bigin.SearchParams{Module: bigin.ModulePipelines, Criteria: "((Amount:greater_than:100000)and(Stage:equals:Closed Won))", PerPage: 5})
		require.NoError(t, err)
		require.NotEmpty(t, pg.Records)
		for _, r := range pg.Records {
			m := decoded(t, r)
			assert.Greater(t, m["Amount"], float64(100000))
			assert.Equal(t, "Closed Won", m["Stage"])
		}
		pg, err = c.SearchRecords(t.Context(), bigin.SearchParams{Module: bigin.ModuleContacts, Phone: "000000000000"})
		require.NoError(t, err, "nothing found is an empty page")
		assert.Empty(t, pg.Records)
		_, err = c.SearchRecords(t.Context(), bigin.SearchParams{Module: bigin.ModuleContacts, Criteria: "(Nickname:equals:x)"})
		var ae *bigin.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "INVALID_QUERY", ae.Code)
		assert.JSONEq(t, `{"api_name":"Nickname","reason":"the field is not available for search"}`, string(ae.Details))
	})

	t.Run("COQL", func(t *testing.T) {
		pg, err := c.QueryRecords(t.Context(), "select Last_Name, Account_Name.Account_Name from Contacts where id = '"+contactID+"'")
		require.NoError(t, err)
		require.Len(t, pg.Records, 1)
		row := decoded(t, pg.Records[0])
		assert.Equal(t, contact["Last_Name"], row["Last_Name"])
		assert.Equal(t, contactID, row["id"])
		assert.Equal(t, bigin.PageInfo{Count: 1}, pg.Info)
		req := f.lastRequest(t)
		assert.Equal(t, "POST", req.Method)
		assert.Equal(t, "/bigin/v2/coql", req.Path)

		pg, err = c.QueryRecords(t.Context(), "select Last_Name from Contacts where id is not null limit 7 offset 3")
		require.NoError(t, err)
		assert.Equal(t, f.sb.RecordIDs(sandbox.Contacts)[3:10], ids(t, pg.Records))
		assert.True(t, pg.Info.MoreRecords)

		pg, err = c.QueryRecords(t.Context(), "select Last_Name from Contacts where Last_Name = 'Nobody'")
		require.NoError(t, err)
		assert.Empty(t, pg.Records)

		_, err = c.QueryRecords(t.Context(), "select Last_Name from Contacts where id is not null limit 201")
		var ae *bigin.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "LIMIT_EXCEEDED", ae.Code)
		_, err = c.QueryRecords(t.Context(), "select Last_Name from Contacts")
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "SYNTAX_ERROR", ae.Code)
	})

	t.Run("related lists", func(t *testing.T) {
		acct := contact["Account_Name"].(map[string]any)["id"].(string)
		pg, err := c.RelatedRecords(t.Context(), bigin.RelatedParams{Module: bigin.ModuleAccounts, ID: acct, Related: bigin.ModuleContacts, Fields: []string{"Account_Name"}})
		require.NoError(t, err)
		assert.Contains(t, ids(t, pg.Records), contactID)
		for _, r := range pg.Records {
			assert.Equal(t, acct, decoded(t, r)["Account_Name"].(map[string]any)["id"])
		}
		assert.Equal(t, "/bigin/v2/Accounts/"+acct+"/Contacts", f.lastRequest(t).Path)

		seen := 0
		for _, tp := range f.sb.TeamPipelines() {
			pg, err := c.RelatedRecords(t.Context(), bigin.RelatedParams{Module: bigin.ModuleContacts, ID: contactID, Related: bigin.ModulePipelines,
				Fields: []string{"Pipeline"}, PipelineID: tp.ID})
			require.NoError(t, err)
			assert.Equal(t, tp.ID, f.lastRequest(t).Query.Get("pipeline_id"))
			for _, r := range pg.Records {
				assert.Equal(t, tp.ID, decoded(t, r)["Pipeline"].(map[string]any)["id"])
			}
			seen += len(pg.Records)
		}
		assert.Positive(t, seen, "the contact's deals")
	})
}

func mustRecord(t *testing.T, sb *sandbox.Sandbox, module, id string) json.RawMessage {
	t.Helper()
	r, ok := sb.Record(module, id)
	require.True(t, ok)
	return r
}

func TestWriteRecords(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{Users: 20})
	c := f.client(t, nil)
	existing := decoded(t, mustRecord(t, f.sb, sandbox.Contacts, f.sb.RecordIDs(sandbox.Contacts)[0]))
	existingEmail := existing["Email"].(string)

	raws := func(recs ...string) []json.RawMessage {
		out := make([]json.RawMessage, len(recs))
		for i, r := range recs {
			out[i] = json.RawMessage(r)
		}
		return out
	}

	t.Run("create: one outcome per record, in order, whatever the status", func(t *testing.T) {
		res, err := c.CreateRecords(t.Context(), bigin.ModuleContacts, raws(
			`{"Last_Name":"Ok","Email":"ok@new.example"}`,
			`{"First_Name":"No last name"}`,
			` {"Last_Name":"Dup","Email":"`+existingEmail+`"} `,
			`{"Last_Name":"Bad","Email":"not an email"}`,
		))
		require.NoError(t, err)
		assert.Equal(t, http.StatusMultiStatus, f.lastRequest(t).Status)
		require.Len(t, res, 4)
		assert.True(t, res[0].OK())
		assert.Equal(t, 0, res[0].Index)
		assert.Equal(t, "SUCCESS", res[0].Code)
		assert.Equal(t, "record added", res[0].Message)
		assert.Contains(t, f.sb.RecordIDs(sandbox.Contacts), res[0].ID, "the new record's id")

		assert.Equal(t, bigin.WriteResult{Index: 1, Status: "error", Code: "MANDATORY_NOT_FOUND", Message: "required field not found", Field: "Last_Name",
			Details: res[1].Details}, res[1])
		assert.JSONEq(t, `{"api_name":"Last_Name","json_path":"$.data[1].Last_Name"}`, string(res[1].Details))

		assert.Equal(t, "DUPLICATE_DATA", res[2].Code)
		assert.Equal(t, "Email", res[2].Field)
		assert.Equal(t, existing["id"], res[2].ExistingID, "the record to update instead")
		assert.Empty(t, res[2].ID)

		assert.Equal(t, "INVALID_DATA", res[3].Code)
		assert.Equal(t, "Email", res[3].Field)
		assert.False(t, res[3].OK())
	})

	t.Run("all failed is a 400 read per record, not an error", func(t *testing.T) {
		res, err := c.CreateRecords(t.Context(), bigin.ModulePipelines, raws(`{"Deal_Name":"x"}`))
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, f.lastRequest(t).Status)
		require.Len(t, res, 1)
		assert.Equal(t, "MANDATORY_NOT_FOUND", res[0].Code)
	})

	t.Run("update: the ids sent come back", func(t *testing.T) {
		deal := f.sb.RecordIDs(sandbox.Pipelines)[0]
		before := decoded(t, mustRecord(t, f.sb, sandbox.Pipelines, deal))
		res, err := c.UpdateRecords(t.Context(), bigin.ModulePipelines, raws(
			`{"id":"`+deal+`","Amount":4242}`, `{"id":"123456789012345678","Amount":1}`))
		require.NoError(t, err)
		assert.Equal(t, "PUT", f.lastRequest(t).Method)
		assert.Equal(t, bigin.WriteResult{Index: 0, ID: deal, Status: "success", Code: "SUCCESS", Message: "record updated", Details: res[0].Details}, res[0])
		assert.Equal(t, bigin.WriteResult{Index: 1, ID: "123456789012345678", Status: "error", Code: "INVALID_DATA", Message: "the id given seems to be invalid",
			Details: json.RawMessage(`{"id":"123456789012345678"}`)}, res[1])
		after := decoded(t, mustRecord(t, f.sb, sandbox.Pipelines, deal))
		assert.Equal(t, float64(4242), after["Amount"])
		assert.Equal(t, before["Deal_Name"], after["Deal_Name"])
	})

	t.Run("delete", func(t *testing.T) {
		victims := f.sb.RecordIDs(sandbox.Tasks)[:2]
		res, err := c.DeleteRecords(t.Context(), bigin.ModuleTasks, []string{victims[0], "123456789012345678", victims[1]})
		require.NoError(t, err)
		req := f.lastRequest(t)
		assert.Equal(t, "DELETE", req.Method)
		assert.Equal(t, victims[0]+",123456789012345678,"+victims[1], req.Query.Get("ids"))
		assert.Equal(t, []string{"success", "error", "success"}, []string{res[0].Status, res[1].Status, res[2].Status})
		assert.Equal(t, []string{victims[0], "123456789012345678", victims[1]}, []string{res[0].ID, res[1].ID, res[2].ID})
		assert.Equal(t, "record deleted", res[0].Message)
		assert.NotContains(t, f.sb.RecordIDs(sandbox.Tasks), victims[0])
	})

	t.Run("add a note", func(t *testing.T) {
		deal := f.sb.RecordIDs(sandbox.Pipelines)[1]
		res, err := c.AddNote(t.Context(), bigin.ModulePipelines, deal, bigin.Note{Title: "Call", Content: "Moved to negotiation."})
		require.NoError(t, err)
		assert.True(t, res.OK())
		note := decoded(t, mustRecord(t, f.sb, sandbox.Notes, res.ID))
		assert.Equal(t, "Moved to negotiation.", note["Note_Content"])
		assert.Equal(t, "Call", note["Note_Title"])
		assert.Equal(t, deal, note["Parent_Id"].(map[string]any)["id"])
		pg, err := c.RelatedRecords(t.Context(), bigin.RelatedParams{Module: bigin.ModulePipelines, ID: deal, Related: bigin.RelatedNotes, Fields: []string{"Note_Content"}})
		require.NoError(t, err)
		assert.Contains(t, ids(t, pg.Records), res.ID)

		_, err = c.AddNote(t.Context(), bigin.ModulePipelines, "123456789012345678", bigin.Note{Content: "x"})
		var ae *bigin.APIError
		require.ErrorAs(t, err, &ae, "an unknown parent fails the call")
		assert.Equal(t, "INVALID_DATA", ae.Code)
	})

	t.Run("a Zoho error at the top level fails the call", func(t *testing.T) {
		f.sb.FailNext(1, sandbox.ErrorIn200)
		_, err := c.CreateRecords(t.Context(), bigin.ModuleAccounts, raws(`{"Account_Name":"x"}`))
		var ae *bigin.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, 200, ae.Status)
		assert.Equal(t, "INVALID_DATA", ae.Code)
	})
}

func TestMetadata(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{Users: 20})
	c := f.client(t, nil)

	fields, err := c.Fields(t.Context(), bigin.ModulePipelines)
	require.NoError(t, err)
	byName := map[string]bigin.Field{}
	for _, fl := range fields {
		byName[fl.APIName] = fl
	}
	assert.Equal(t, bigin.Field{ID: byName["Deal_Name"].ID, APIName: "Deal_Name", Label: "Deal Name", DataType: "text", SystemMandatory: true, Visible: true, Length: 120}, byName["Deal_Name"])
	assert.Equal(t, bigin.ModuleAccounts, byName["Account_Name"].LookupModule)
	assert.Equal(t, "lookup", byName["Account_Name"].DataType)
	assert.True(t, byName["Created_Time"].ReadOnly)
	assert.NotEmpty(t, byName["Stage"].PickList)
	assert.Equal(t, "/bigin/v2/settings/fields", f.lastRequest(t).Path)
	assert.Equal(t, bigin.ModulePipelines, f.lastRequest(t).Query.Get("module"))

	notes, err := c.Fields(t.Context(), bigin.RelatedNotes)
	require.NoError(t, err)
	assert.NotEmpty(t, notes)

	layouts, err := c.Layouts(t.Context(), bigin.ModulePipelines)
	require.NoError(t, err)
	tps := f.sb.TeamPipelines()
	require.Len(t, layouts, len(tps))
	for i, l := range layouts {
		assert.Equal(t, tps[i].ID, l.ID)
		assert.Equal(t, tps[i].Name, l.Name)
		assert.Equal(t, "active", l.Status)
		subs := l.SubPipelines()
		require.Len(t, subs, len(tps[i].SubPipelines))
		var all []string
		for k, sp := range subs {
			assert.Equal(t, tps[i].SubPipelines[k].Name, sp.Name)
			assert.Equal(t, tps[i].SubPipelines[k].Stages, sp.Stages)
			for _, st := range sp.Stages {
				if !slices.Contains(all, st) {
					all = append(all, st)
				}
			}
		}
		assert.Equal(t, all, l.Stages(), "the team pipeline's stages in order")
	}
	contacts, err := c.Layouts(t.Context(), bigin.ModuleContacts)
	require.NoError(t, err)
	require.Len(t, contacts, 1)
	assert.Nil(t, contacts[0].Stages())
}

// TestScopeMismatchIsNotAnExpiredToken: an account connected with the
// directory scopes only gets OAUTH_SCOPE_MISMATCH on record calls; the
// client neither refreshes nor retries, and the error is neither a
// refused refresh token nor anything but a missing scope.
func TestScopeMismatchIsNotAnExpiredToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{Users: 20})
	c := f.client(t, nil, func(o *bigin.Options) {
		o.Credentials.RefreshToken = f.sb.IssueRefreshToken(bigin.DirectoryScopes()...)
	})
	_, err := c.Org(t.Context())
	require.NoError(t, err)
	f.sb.ResetCounts()

	calls := map[string]func() error{
		"list": func() error {
			_, err := c.ListRecords(t.Context(), bigin.ListRecordsParams{Module: bigin.ModuleContacts, Fields: []string{"Last_Name"}})
			return err
		},
		"search": func() error {
			_, err := c.SearchRecords(t.Context(), bigin.SearchParams{Module: bigin.ModuleContacts, Word: "a"})
			return err
		},
		"coql": func() error {
			_, err := c.QueryRecords(t.Context(), "select Last_Name from Contacts where id is not null")
			return err
		},
		"create": func() error {
			_, err := c.CreateRecords(t.Context(), bigin.ModuleContacts, []json.RawMessage{json.RawMessage(`{"Last_Name":"x"}`)})
			return err
		},
		"fields": func() error { _, err := c.Fields(t.Context(), bigin.ModuleContacts); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			before := f.sb.APIRequestCount()
			err := call()
			require.ErrorIs(t, err, bigin.ErrScopeMismatch)
			assert.NotErrorIs(t, err, bigin.ErrRefreshRefused)
			var ae *bigin.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, http.StatusUnauthorized, ae.Status)
			assert.Equal(t, bigin.CodeScopeMismatch, ae.Code)
			assert.Equal(t, before+1, f.sb.APIRequestCount(), "one request, no retry")
		})
	}
	assert.Zero(t, f.sb.RefreshCount(), "a missing scope is not an expired token")
	_, err = c.Roles(t.Context())
	require.NoError(t, err, "the directory calls still work")

	t.Run("other errors are not ErrScopeMismatch", func(t *testing.T) {
		f.sb.FailNext(1, sandbox.InvalidToken)
		f.sb.FailNext(1, sandbox.InvalidToken)
		_, err := c.Org(t.Context())
		assert.NotErrorIs(t, err, bigin.ErrScopeMismatch)
		var ae *bigin.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "INVALID_TOKEN", ae.Code)
	})
}

// TestRecordRetries: reads are retried on 5xx like every GET; writes and
// COQL (a POST) never are.
func TestRecordRetries(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{Users: 20})
	c := f.client(t, nil)
	_, err := c.Org(t.Context())
	require.NoError(t, err)
	tests := []struct {
		name     string
		call     func() error
		ok       bool
		requests int
	}{
		{"list retried", func() error {
			_, err := c.ListRecords(t.Context(), bigin.ListRecordsParams{Module: bigin.ModuleContacts, Fields: []string{"Last_Name"}, PerPage: 1})
			return err
		}, true, 3},
		{"create never", func() error {
			_, err := c.CreateRecords(t.Context(), bigin.ModuleAccounts, []json.RawMessage{json.RawMessage(`{"Account_Name":"x"}`)})
			return err
		}, false, 1},
		{"update never", func() error {
			_, err := c.UpdateRecords(t.Context(), bigin.ModuleAccounts, []json.RawMessage{json.RawMessage(`{"id":"` + f.sb.RecordIDs(sandbox.Accounts)[0] + `","Phone":"1"}`)})
			return err
		}, false, 1},
		{"delete never", func() error { _, err := c.DeleteRecords(t.Context(), bigin.ModuleAccounts, []string{"1"}); return err }, false, 1},
		{"note never", func() error {
			_, err := c.AddNote(t.Context(), bigin.ModuleAccounts, f.sb.RecordIDs(sandbox.Accounts)[0], bigin.Note{Content: "x"})
			return err
		}, false, 1},
		{"COQL never", func() error {
			_, err := c.QueryRecords(t.Context(), "select Last_Name from Contacts where id is not null")
			return err
		}, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			accounts := len(f.sb.RecordIDs(sandbox.Accounts))
			f.sb.ResetCounts()
			f.sb.FailNext(2, sandbox.InternalError)
			defer f.sb.ClearFaults()
			err := tt.call()
			if tt.ok {
				require.NoError(t, err)
			} else {
				var ae *bigin.APIError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, 500, ae.Status)
			}
			assert.Equal(t, tt.requests, f.sb.APIRequestCount())
			assert.Len(t, f.sb.RecordIDs(sandbox.Accounts), accounts)
		})
	}

	t.Run("429 on a write is the caller's to handle", func(t *testing.T) {
		f.sb.ResetCounts()
		f.sb.FailNext(1, sandbox.RateLimited)
		_, err := c.CreateRecords(t.Context(), bigin.ModuleAccounts, []json.RawMessage{json.RawMessage(`{"Account_Name":"x"}`)})
		var ae *bigin.APIError
		require.ErrorAs(t, err, &ae)
		assert.True(t, ae.RateLimited())
		assert.Equal(t, sandbox.FaultRetryAfter, ae.RetryAfter)
		assert.Equal(t, 1, f.sb.APIRequestCount())
	})

	t.Run("a 401 INVALID_TOKEN on a write refreshes and sends it once more", func(t *testing.T) {
		f.sb.ResetCounts()
		f.sb.FailNext(1, sandbox.InvalidToken)
		res, err := c.CreateRecords(t.Context(), bigin.ModuleAccounts, []json.RawMessage{json.RawMessage(`{"Account_Name":"after refresh"}`)})
		require.NoError(t, err)
		assert.True(t, res[0].OK())
		assert.Equal(t, 2, f.sb.APIRequestCount(), "Zoho refused the first before acting")
		assert.Equal(t, 1, f.sb.RefreshCount())
	})
}

// TestRecordArgumentsRefused: malformed arguments never reach Zoho.
func TestRecordArgumentsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{Users: 20})
	c := f.client(t, nil)
	ctx := t.Context()
	list := func(p bigin.ListRecordsParams) func() error {
		return func() error { _, err := c.ListRecords(ctx, p); return err }
	}
	related := func(p bigin.RelatedParams) func() error {
		return func() error { _, err := c.RelatedRecords(ctx, p); return err }
	}
	search := func(p bigin.SearchParams) func() error {
		return func() error { _, err := c.SearchRecords(ctx, p); return err }
	}
	create := func(recs ...string) func() error {
		return func() error {
			raws := make([]json.RawMessage, len(recs))
			for i, r := range recs {
				raws[i] = json.RawMessage(r)
			}
			_, err := c.CreateRecords(ctx, bigin.ModuleContacts, raws)
			return err
		}
	}
	fields := []string{"Last_Name"}
	tooMany := make([]string, 51)
	for i := range tooMany {
		tooMany[i] = "Last_Name"
	}
	hundredOne := make([]string, 101)
	for i := range hundredOne {
		hundredOne[i] = `{"Last_Name":"x"}`
	}
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"an unknown module", list(bigin.ListRecordsParams{Module: "Deals", Fields: fields}), `module "Deals"; the record modules are Contacts, Accounts, Pipelines`},
		{"a module in lower case", list(bigin.ListRecordsParams{Module: "contacts", Fields: fields}), `module "contacts"`},
		{"no fields", list(bigin.ListRecordsParams{Module: bigin.ModuleContacts}), "at least one field name"},
		{"51 fields", list(bigin.ListRecordsParams{Module: bigin.ModuleContacts, Fields: tooMany}), "at most 50 fields, got 51"},
		{"a field with a comma", list(bigin.ListRecordsParams{Module: bigin.ModuleContacts, Fields: []string{"Last_Name,Email"}}), `"Last_Name,Email" is not a field API name`},
		{"an empty field", list(bigin.ListRecordsParams{Module: bigin.ModuleContacts, Fields: []string{""}}), "is not a field API name"},
		{"a sort Zoho lacks", list(bigin.ListRecordsParams{Module: bigin.ModuleContacts, Fields: fields, SortBy: "Last_Name"}), "Zoho sorts records by id, Created_Time, Modified_Time"},
		{"a sort order", list(bigin.ListRecordsParams{Module: bigin.ModuleContacts, Fields: fields, SortOrder: "up"}), "asc or desc"},
		{"per_page", list(bigin.ListRecordsParams{Module: bigin.ModuleContacts, Fields: fields, PerPage: 201}), "per_page must be 1 to 200"},
		{"a team pipeline on contacts", list(bigin.ListRecordsParams{Module: bigin.ModuleContacts, Fields: fields, PipelineID: "1"}), "filters Pipelines only"},
		{"a team pipeline id", list(bigin.ListRecordsParams{Module: bigin.ModulePipelines, Fields: fields, PipelineID: "Sales"}), "a team pipeline id is 1 to 30 digits"},
		{"a record id", func() error { _, err := c.GetRecord(ctx, bigin.ModuleContacts, "../users", nil); return err }, `a record id is 1 to 30 digits, got "../users"`},
		{"no search", search(bigin.SearchParams{Module: bigin.ModuleContacts}), "exactly one of criteria, word, email and phone, got 0"},
		{"two searches", search(bigin.SearchParams{Module: bigin.ModuleContacts, Word: "a", Email: "b@c.example"}), "got 2"},
		{"a long search", search(bigin.SearchParams{Module: bigin.ModuleContacts, Word: strings.Repeat("a", 2001)}), "longer than 2000 bytes"},
		{"an empty query", func() error { _, err := c.QueryRecords(ctx, "  "); return err }, "the COQL query is empty"},
		{"related lists of tasks", related(bigin.RelatedParams{Module: bigin.ModuleTasks, ID: "1", Related: bigin.RelatedNotes, Fields: fields}), "Tasks records have no related lists"},
		{"a related list the parent lacks", related(bigin.RelatedParams{Module: bigin.ModuleContacts, ID: "1", Related: bigin.ModuleAccounts, Fields: fields}),
			`related list "Accounts"; a Contacts record's are Notes, Pipelines, Products, Tasks, Events, Calls`},
		{"a contact's deals without a team pipeline", related(bigin.RelatedParams{Module: bigin.ModuleContacts, ID: "1", Related: bigin.ModulePipelines, Fields: fields}), "Zoho needs its id"},
		{"a team pipeline elsewhere", related(bigin.RelatedParams{Module: bigin.ModuleAccounts, ID: "1", Related: bigin.ModulePipelines, Fields: fields, PipelineID: "1"}), "only a contact's Pipelines"},
		{"related without fields", related(bigin.RelatedParams{Module: bigin.ModuleAccounts, ID: "1", Related: bigin.ModuleContacts}), "at least one field name"},
		{"no records", create(), "1 to 100 records, got 0"},
		{"101 records", create(hundredOne...), "got 101"},
		{"a record that is not an object", create(`{"Last_Name":"x"}`, `["x"]`), "record 1 is not a JSON object"},
		{"a record that is not JSON", create(`{"Last_Name":`), "record 0 is not a JSON object"},
		{"an update without id", func() error {
			_, err := c.UpdateRecords(ctx, bigin.ModuleContacts, []json.RawMessage{json.RawMessage(`{"Last_Name":"x"}`)})
			return err
		}, `record 0 has no "id" string`},
		{"an update with a bad id", func() error {
			_, err := c.UpdateRecords(ctx, bigin.ModuleContacts, []json.RawMessage{json.RawMessage(`{"id":"x1"}`)})
			return err
		}, `record 0: bigin: invalid argument: a record id is 1 to 30 digits, got "x1"`},
		{"a delete without ids", func() error { _, err := c.DeleteRecords(ctx, bigin.ModuleContacts, nil); return err }, "1 to 100 ids, got 0"},
		{"a delete with a bad id", func() error { _, err := c.DeleteRecords(ctx, bigin.ModuleContacts, []string{"1", "2,3"}); return err }, `got "2,3"`},
		{"a note without content", func() error { _, err := c.AddNote(ctx, bigin.ModuleContacts, "1", bigin.Note{Title: "x"}); return err }, "a note needs content"},
		{"a note on a task", func() error { _, err := c.AddNote(ctx, bigin.ModuleTasks, "1", bigin.Note{Content: "x"}); return err }, "Tasks records take no notes"},
		{"metadata of an unknown module", func() error { _, err := c.Fields(ctx, "Leads"); return err }, `module "Leads"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.ErrorIs(t, err, bigin.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	assert.Zero(t, f.sb.RequestCount(), "nothing reached Zoho, not even a refresh")
}

// TestRecordAnswers covers Zoho answers the sandbox does not give by
// itself: 204 for records and writes, garbage, and a write answer with
// fewer entries than records.
func TestRecordAnswers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{Users: 20})
	c := f.client(t, nil)
	tests := []struct {
		name  string
		fault sandbox.Fault
		check func(t *testing.T)
	}{
		{"204 on get", sandbox.NoContent, func(t *testing.T) {
			_, err := c.GetRecord(t.Context(), bigin.ModuleContacts, f.sb.RecordIDs(sandbox.Contacts)[0], nil)
			var ae *bigin.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, 204, ae.Status)
			assert.Equal(t, "INVALID_DATA", ae.Code)
		}},
		{"204 on a related list", sandbox.NoContent, func(t *testing.T) {
			pg, err := c.RelatedRecords(t.Context(), bigin.RelatedParams{Module: bigin.ModuleAccounts, ID: "1", Related: bigin.RelatedNotes, Fields: []string{"Note_Content"}})
			require.NoError(t, err)
			assert.Empty(t, pg.Records)
		}},
		{"204 on metadata", sandbox.NoContent, func(t *testing.T) {
			fl, err := c.Fields(t.Context(), bigin.ModuleContacts)
			require.NoError(t, err)
			assert.Empty(t, fl)
			ls, err := c.Layouts(t.Context(), bigin.ModuleContacts)
			require.NoError(t, err)
			assert.Empty(t, ls)
		}},
		{"204 on a write", sandbox.NoContent, func(t *testing.T) {
			_, err := c.DeleteRecords(t.Context(), bigin.ModuleContacts, []string{"1"})
			var ae *bigin.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, bigin.CodeInvalidResponse, ae.Code)
		}},
		{"garbage on a list", sandbox.Garbage, func(t *testing.T) {
			_, err := c.ListRecords(t.Context(), bigin.ListRecordsParams{Module: bigin.ModuleContacts, Fields: []string{"Last_Name"}})
			var ae *bigin.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, bigin.CodeInvalidResponse, ae.Code)
		}},
		{"a bad gateway on a write", sandbox.BadGateway, func(t *testing.T) {
			_, err := c.CreateRecords(t.Context(), bigin.ModuleContacts, []json.RawMessage{json.RawMessage(`{"Last_Name":"x"}`)})
			var ae *bigin.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, 502, ae.Status)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.sb.FailNext(1, tt.fault)
			if tt.name == "204 on metadata" {
				f.sb.FailNext(1, tt.fault)
			}
			tt.check(t)
			assert.Zero(t, f.sb.PendingFaults())
		})
	}
}

func TestQueryModule(t *testing.T) {
	t.Parallel()
	for q, want := range map[string]string{
		"select Last_Name from Contacts where id is not null":                       "Contacts",
		"SELECT Deal_Name FROM Pipelines WHERE Stage = 'from Accounts'":             "Pipelines",
		"select 'from', \"From\" from Accounts where Account_Name = 'it''s from X'": "Accounts",
		"select Last_Name\nfrom\tProducts":                                          "Products",
		"select from_date from Calls where id is not null":                          "Calls",
	} {
		got, err := bigin.QueryModule(q)
		require.NoError(t, err, q)
		assert.Equal(t, want, got, q)
	}
	for _, q := range []string{"", "select Last_Name", "select x from", "select x from 'Contacts'", "select 'from Contacts'"} {
		_, err := bigin.QueryModule(q)
		assert.ErrorIs(t, err, bigin.ErrInvalidArgument, q)
	}
}

// Every module a query reads is named: each FROM's, and each column that
// follows a lookup by dot notation, wherever it stands and however it is
// quoted or spaced; values with dots are told apart where the grammar
// wants a value.
func TestReadQueryNamesWhatItReads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query          string
		modules        []string
		lookups, maybe []string
	}{
		{"select Last_Name from Contacts where id is not null", []string{"Contacts"}, nil, nil},
		{"select Last_Name, Account_Name.Phone from Contacts", []string{"Contacts"}, []string{"Account_Name.Phone"}, nil},
		{"select Last_Name from Contacts where (Account_Name.Phone like '5%' and Email is null) order by Contact_Name.Account_Name.Website desc",
			[]string{"Contacts"}, []string{"Account_Name.Phone", "Contact_Name.Account_Name.Website"}, nil},
		{"select 'Account_Name.Phone', \"Account_Name\".Website, Account_Name . Owner from Contacts where 'Account_Name.Account_Name' = 'x'",
			[]string{"Contacts"}, []string{"Account_Name.Phone", "Account_Name.Website", "Account_Name.Owner", "Account_Name.Account_Name"}, nil},
		{"select Last_Name from Contacts where Email like '%.example' and Amount > 10.5 order by Last_Name", []string{"Contacts"}, nil, []string{"%.example"}},
		{"select Last_Name from Accounts where Website = 'www.example.com' or Phone in ('a.b', 'c')", []string{"Accounts"}, nil,
			[]string{"www.example.com", "a.b"}},
		{"select Last_Name from Contacts where Account_Name in (select id from Accounts where Phone = '1') order by Last_Name",
			[]string{"Contacts", "Accounts"}, nil, nil},
		{"select Last_Name from Contacts where Account_Name.\u00a0Phone is not null", []string{"Contacts"}, []string{"Account_Name.Phone"}, nil},
		{"select Account_Name., Last_Name from Contacts where Account_Name. is null", []string{"Contacts"}, []string{"Account_Name.", "Account_Name.is"}, nil},
		// Read with backslash escapes, the quote closes at the second
		// quote and the column stands outside it; without, it is inside.
		{`select Last_Name from Contacts where Last_Name = 'a\'' , Account_Name.Phone , 'b'`, []string{"Contacts"}, []string{"Account_Name.Phone"},
			[]string{`a\' , Account_Name.Phone ,`}},
	}
	for _, tt := range tests {
		q, err := bigin.ReadQuery(tt.query)
		require.NoError(t, err, tt.query)
		assert.Equal(t, tt.modules, q.Modules, tt.query)
		assert.Equal(t, tt.lookups, q.Lookups, tt.query)
		assert.Equal(t, tt.maybe, q.MaybeLookups, tt.query)
	}
}

// A query without WHERE gets one that reads every record, in the place
// COQL's grammar wants it; its own LIMIT is noticed so that it runs as
// written.
func TestReadQueryCompletesAndPages(t *testing.T) {
	tests := []struct {
		query, complete, page string
		limit                 bool
	}{
		{"select Last_Name from Contacts", "select Last_Name from Contacts where id is not null",
			"select Last_Name from Contacts where id is not null limit 50 offset 200", false},
		{"  SELECT Deal_Name FROM Pipelines ORDER BY Amount DESC; ", "SELECT Deal_Name FROM Pipelines where id is not null ORDER BY Amount DESC",
			"SELECT Deal_Name FROM Pipelines where id is not null ORDER BY Amount DESC limit 50 offset 200", false},
		{"select Email from Contacts limit 5", "select Email from Contacts where id is not null limit 5", "", true},
		{"select Email from Contacts where Last_Name = 'order by limit'", "select Email from Contacts where Last_Name = 'order by limit'",
			"select Email from Contacts where Last_Name = 'order by limit' limit 50 offset 200", false},
		{"select Email from Contacts where Email like '%x%' order by Email limit 10 offset 20",
			"select Email from Contacts where Email like '%x%' order by Email limit 10 offset 20", "", true},
	}
	for _, tt := range tests {
		q, err := bigin.ReadQuery(tt.query)
		require.NoError(t, err, tt.query)
		assert.Equal(t, tt.complete, q.Complete(), tt.query)
		assert.Equal(t, tt.limit, q.HasLimit, tt.query)
		if !tt.limit {
			assert.Equal(t, tt.page, q.Page(50, 200), tt.query)
		}
	}
}
