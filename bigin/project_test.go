package bigin

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func keepOnly(keys ...string) func(string) bool {
	return func(k string) bool {
		for _, want := range keys {
			if k == want {
				return true
			}
		}
		return false
	}
}

func TestProjectKeepsChosenMembersUnchanged(t *testing.T) {
	t.Parallel()
	user := `{"id":"1","full_name":"Patricia Boyle","role":{"name":"CEO","id":"9"},"phone":null,"Isonline":false,"offset":-18000000}`
	tests := []struct {
		name, in string
		keep     []string
		want     string
	}{
		{"subset in the record's order", user, []string{"role", "id"}, `{"id":"1","role":{"name":"CEO","id":"9"}}`},
		{"nothing kept", user, nil, `{}`},
		{"everything kept", user, []string{"id", "full_name", "role", "phone", "Isonline", "offset"}, user},
		{"case matters", user, []string{"isonline", "Isonline"}, `{"Isonline":false}`},
		{"whitespace kept inside values, dropped between members",
			"{ \"id\" : \"1\" ,\n \"a\" : [ 1 , {\"b\" : \"}\"} ] , \"c\":2 }", []string{"id", "a"}, "{\"id\":\"1\",\"a\":[ 1 , {\"b\" : \"}\"} ]}"},
		{"escaped key matched by its value", `{"na\u006de":"x","id":"2"}`, []string{"name"}, `{"na\u006de":"x"}`},
		{"strings that look like structure", `{"a":"\",\"id\":\"7","id":"3"}`, []string{"id"}, `{"id":"3"}`},
		{"empty object", `{}`, []string{"id"}, `{}`},
		{"not an object", `[1,2]`, []string{"id"}, `[1,2]`},
		{"invalid JSON", `{"id":`, []string{"id"}, `{"id":`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Project(json.RawMessage(tt.in), keepOnly(tt.keep...))
			assert.Equal(t, tt.want, string(got))
		})
	}
}

// FuzzProject holds Project to encoding/json: the projection of a valid
// object is valid JSON and decodes to the original's chosen members.
func FuzzProject(f *testing.F) {
	for _, s := range []string{`{"id":"1","a":{"b":[1,2]},"c":"x"}`, `{}`, `{"a":1,"a":2}`, ` { "c" : null } `, `{"id":"\u0041"}`} {
		f.Add([]byte(s))
	}
	keep := func(k string) bool { return k == "id" || k == "c" }
	f.Fuzz(func(t *testing.T, b []byte) {
		var orig map[string]json.RawMessage
		if json.Unmarshal(b, &orig) != nil || orig == nil {
			return
		}
		got := Project(b, keep)
		require.True(t, json.Valid(got), "%q -> %q", b, got)
		var proj map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(got, &proj))
		want := map[string]json.RawMessage{}
		for k, v := range orig {
			if keep(k) {
				want[k] = v
			}
		}
		require.Len(t, proj, len(want))
		for k, v := range want {
			assert.JSONEq(t, string(v), string(proj[k]), "%q", b)
		}
	})
}
