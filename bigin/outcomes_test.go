package bigin

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadOutcome reads both shapes Zoho has for DUPLICATE_DATA and the
// other per-record answers.
func TestReadOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		item string
		sent string
		want WriteResult
	}{
		{"success", `{"code":"SUCCESS","details":{"id":"111","Created_Time":"2025-01-01T00:00:00+00:00"},"message":"record added","status":"success"}`, "",
			WriteResult{ID: "111", Status: "success", Code: "SUCCESS", Message: "record added"}},
		{"an id sent as a number", `{"code":"SUCCESS","details":{"id":4876876000000223001},"message":"record added","status":"success"}`, "",
			WriteResult{ID: "4876876000000223001", Status: "success", Code: "SUCCESS", Message: "record added"}},
		{"duplicate, newer answers", `{"code":"DUPLICATE_DATA","details":{"api_name":"Email","json_path":"$.data[0].Email","duplicate_record":{"id":"222","module":{"api_name":"Contacts","id":"9"},"Owner":{"name":"P","id":"1"}}},"message":"duplicate data","status":"error"}`, "",
			WriteResult{Status: "error", Code: "DUPLICATE_DATA", Message: "duplicate data", Field: "Email", ExistingID: "222"}},
		{"duplicate, older answers", `{"code":"DUPLICATE_DATA","details":{"api_name":"Email","id":"333"},"message":"duplicate data","status":"error"}`, "",
			WriteResult{Status: "error", Code: "DUPLICATE_DATA", Message: "duplicate data", Field: "Email", ExistingID: "333"}},
		{"an update's unknown id keeps the id sent", `{"code":"INVALID_DATA","details":{"id":"444"},"message":"the id given seems to be invalid","status":"error"}`, "444",
			WriteResult{ID: "444", Status: "error", Code: "INVALID_DATA", Message: "the id given seems to be invalid"}},
		{"an error's details.id is not the record's", `{"code":"INVALID_DATA","details":{"id":"555","api_name":"Owner"},"message":"invalid data","status":"error"}`, "",
			WriteResult{Status: "error", Code: "INVALID_DATA", Message: "invalid data", Field: "Owner"}},
		{"no details", `{"code":"SUCCESS","message":"record deleted","status":"success"}`, "666",
			WriteResult{ID: "666", Status: "success", Code: "SUCCESS", Message: "record deleted"}},
		{"not an outcome", `{"id":"1"}`, "",
			WriteResult{Status: "error", Code: CodeInvalidResponse, Message: "Zoho's entry for this record is not an outcome, so whether it was written is not known"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := WriteResult{ID: tt.sent}
			readOutcome(json.RawMessage(tt.item), &r)
			r.Details = nil
			assert.Equal(t, tt.want, r)
		})
	}
}

// TestDecodeWriteAnswers: a write's answer is read per record in any of
// Zoho's statuses for it; a top-level error still fails it; a directory
// answer's wrapped error does not pass as an outcome.
func TestDecodeWriteAnswers(t *testing.T) {
	t.Parallel()
	now := time.Now()
	failing := `{"data":[{"code":"MANDATORY_NOT_FOUND","details":{"api_name":"Last_Name"},"message":"required field not found","status":"error"}]}`
	for _, status := range []int{200, 201, 202, 207, 400} {
		a, err := decodeAs(writeOutcomes, status, http.Header{}, []byte(failing), now)
		require.NoError(t, err, status)
		assert.Len(t, a.arrays["data"], 1)
	}
	_, err := decodeAs(writeOutcomes, 401, http.Header{}, []byte(`{"code":"OAUTH_SCOPE_MISMATCH","details":{},"message":"Unauthorized","status":"error"}`), now)
	assert.ErrorIs(t, err, ErrScopeMismatch)
	_, err = decodeAs(writeOutcomes, 500, http.Header{}, []byte(failing), now)
	var ae *APIError
	require.ErrorAs(t, err, &ae, "a 5xx is not a per-record answer")
	assert.Equal(t, CodeInvalidResponse, ae.Code)
	_, err = decodeAs(writeOutcomes, 400, http.Header{}, []byte(`{"data":{"x":1},"code":"LIMIT_EXCEEDED","details":{"limit":100},"message":"too many","status":"error"}`), now)
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "LIMIT_EXCEEDED", ae.Code)

	_, err = decodeAs(wrappedErrors, 400, http.Header{}, []byte(failing), now)
	require.ErrorAs(t, err, &ae, "directory answers keep reading wrapped errors")
	assert.Equal(t, "MANDATORY_NOT_FOUND", ae.Code)

	// A record with fields named code and status is a record.
	rec := `{"data":[{"code":"X-1","status":"error","id":"1"}],"info":{"count":1}}`
	a, err := decodeAs(recordItems, 200, http.Header{}, []byte(rec), now)
	require.NoError(t, err)
	assert.Len(t, a.arrays["data"], 1)
}

// TestFieldsOfBothShapes reads a lookup's module in Zoho's v2 shape and
// its later one, and keeps picklists in their sequence order.
func TestFieldsOfBothShapes(t *testing.T) {
	t.Parallel()
	var raw []rawField
	require.NoError(t, json.Unmarshal([]byte(`[
		{"api_name":"Account_Name","field_label":"Company","data_type":"lookup","lookup":{"display_label":"Company","api_name":"Account_Name","module":"Accounts","id":"1"},"id":"10"},
		{"api_name":"Contact_Name","display_label":"Contact","data_type":"lookup","lookup":{"module":{"api_name":"Contacts","id":"2"}},"id":11},
		{"api_name":"Stage","field_label":"Stage","data_type":"picklist","visible":false,"lookup":{},
		 "pick_list_values":[{"display_value":"Won","actual_value":"Closed Won","sequence_number":2},{"display_value":"New","sequence_number":1}]}
	]`), &raw))
	fs := fieldsOf(raw)
	require.Len(t, fs, 3)
	assert.Equal(t, Field{ID: "10", APIName: "Account_Name", Label: "Company", DataType: "lookup", Visible: true, LookupModule: "Accounts"}, fs[0])
	assert.Equal(t, "Contacts", fs[1].LookupModule)
	assert.Equal(t, "Contact", fs[1].Label, "display_label when there is no field_label")
	assert.Equal(t, "11", fs[1].ID)
	assert.False(t, fs[2].Visible)
	assert.Empty(t, fs[2].LookupModule)
	assert.Equal(t, []PickListValue{{DisplayValue: "New", ActualValue: "New", Sequence: 1}, {DisplayValue: "Won", ActualValue: "Closed Won", Sequence: 2}}, fs[2].PickList)
	l := Layout{Fields: fs}
	assert.Equal(t, []string{"New", "Closed Won"}, l.Stages())
	assert.Nil(t, l.SubPipelines(), "no Sub_Pipeline field")
}
