package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCursorRoundTripAndBinding(t *testing.T) {
	c := &cursorCodec{key: bytes.Repeat([]byte{7}, 32)}
	cur := c.encode("list_all_zohobigin_users", "acct-1", "AllUsers|100", 3)

	pos, err := c.decode(cur, "list_all_zohobigin_users", "acct-1", "AllUsers|100")
	require.NoError(t, err)
	assert.Equal(t, 3, pos)

	other := &cursorCodec{key: bytes.Repeat([]byte{8}, 32)}
	flipped := []byte(cur)
	flipped[len(flipped)-3] ^= 1
	tests := map[string]func() (int, error){
		"other tool":      func() (int, error) { return c.decode(cur, "list_all_zohobigin_roles", "acct-1", "AllUsers|100") },
		"other account":   func() (int, error) { return c.decode(cur, "list_all_zohobigin_users", "acct-2", "AllUsers|100") },
		"other arguments": func() (int, error) { return c.decode(cur, "list_all_zohobigin_users", "acct-1", "ActiveUsers|100") },
		"other server key": func() (int, error) {
			return other.decode(cur, "list_all_zohobigin_users", "acct-1", "AllUsers|100")
		},
		"tampered": func() (int, error) {
			return c.decode(string(flipped), "list_all_zohobigin_users", "acct-1", "AllUsers|100")
		},
		"garbage":   func() (int, error) { return c.decode("page=2", "list_all_zohobigin_users", "acct-1", "AllUsers|100") },
		"truncated": func() (int, error) { return c.decode(cur[:10], "list_all_zohobigin_users", "acct-1", "AllUsers|100") },
	}
	for name, f := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := f()
			var ce *cursorError
			require.True(t, errors.As(err, &ce), "want a cursorError, got %v", err)
			assert.True(t, strings.HasPrefix(err.Error(), "next_cursor is not valid for this call"))
		})
	}
}

func TestListResultIsValidJSONWithRecordsUnchanged(t *testing.T) {
	recs := []json.RawMessage{json.RawMessage(`{"id":"1","Isonline":false,"Modified_Time":"2020-10-20T13:24:46+00:00"}`), json.RawMessage(`{"id":"2"}`)}
	for _, next := range []string{"", "c1.abc_-"} {
		b := listResult(recs, next)
		var got struct {
			Result     []json.RawMessage `json:"result"`
			NextCursor *string           `json:"next_cursor"`
		}
		require.NoError(t, json.Unmarshal(b, &got), string(b))
		require.Len(t, got.Result, 2)
		assert.JSONEq(t, string(recs[0]), string(got.Result[0]))
		if next == "" {
			assert.Nil(t, got.NextCursor)
		} else {
			require.NotNil(t, got.NextCursor)
			assert.Equal(t, next, *got.NextCursor)
		}
	}
	assert.JSONEq(t, `{"result":[],"next_cursor":null}`, string(listResult(nil, "")))
}

func TestFailureBodyIsNotHTMLEscaped(t *testing.T) {
	f := &Failure{Error: &ToolError{Status: 400, Code: "INVALID_DATA", Message: "value must be <= 200 & > 0"}}
	b := f.Body()
	assert.Equal(t, `{"error":{"status":400,"code":"INVALID_DATA","message":"value must be <= 200 & > 0"}}`, string(b))
}
