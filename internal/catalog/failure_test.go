package catalog

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin"
)

// The text a model reads keeps Zoho's message and the hint as separate
// sentences, whatever punctuation Zoho used.
func TestFailureTextSentences(t *testing.T) {
	cat, err := New()
	require.NoError(t, err)
	get, _ := cat.Lookup("get_single_zohobigin_user_by_id")
	del, _ := cat.Lookup("delete_a_zohobigin_user_by_id")
	tests := []struct {
		name        string
		entry       *Entry
		args        any
		err         error
		wantMessage string
		wantText    string
	}{
		{
			"Zoho's message without a full stop", get, &userArgs{ID: "123"},
			&bigin.APIError{Status: 400, Code: "INVALID_DATA", Message: "the id given seems to be invalid"},
			"Zoho Bigin answered 400 INVALID_DATA: the id given seems to be invalid.",
			"Zoho Bigin answered 400 INVALID_DATA: the id given seems to be invalid. No user with id 123 exists in this organization; use list_all_zohobigin_users to find valid ids.",
		},
		{
			"Zoho's message with a full stop", del, &idArgs{ID: "5"},
			&bigin.APIError{Status: 400, Code: "INVALID_REQUEST", Message: "cannot delete the primary contact."},
			"Zoho Bigin answered 400 INVALID_REQUEST: cannot delete the primary contact.",
			"Zoho Bigin answered 400 INVALID_REQUEST: cannot delete the primary contact. Zoho will not delete this user (the primary contact cannot be deleted; make another user the primary contact first).",
		},
		{
			"no hint", get, &userArgs{ID: "1"},
			&bigin.APIError{Status: 400, Code: "SOMETHING_NEW", Message: "new trouble"},
			"Zoho Bigin answered 400 SOMETHING_NEW: new trouble.",
			"Zoho Bigin answered 400 SOMETHING_NEW: new trouble.",
		},
		{
			"unreachable", get, &userArgs{ID: "1"}, errors.New("dial tcp: connection refused"),
			"Zoho Bigin could not be reached: dial tcp: connection refused",
			"Zoho Bigin could not be reached: dial tcp: connection refused. Try again in a moment.",
		},
		{
			"invalid arguments", get, &userArgs{}, &ArgsError{Tool: get.Name, Problems: []string{"id is required"}},
			"id is required",
			"id is required. Nothing was sent to Zoho Bigin. Call get_single_zohobigin_user_by_id again with the arguments corrected as described; its input schema lists what each argument accepts.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := failCtx{entry: tt.entry, args: tt.args, account: "acct"}.fail(tt.err)
			assert.Equal(t, tt.wantMessage, f.Error.Message)
			assert.Equal(t, tt.wantText, f.Text)
		})
	}
}
