package bigin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

// jsonSeeds are valid and invalid inputs, the shapes Zoho sends and the
// corners of the grammar.
var jsonSeeds = []string{
	``, ` `, `{}`, `[]`, `null`, `true`, `false`, `nul`, `truex`, `0`, `-0`, `01`, `-`, `1.`, `1.5`, `1e5`, `1E+5`, `1e-`, `.5`, `-1.25e-3`,
	`""`, `"a\"b"`, `"\u00e9"`, `"\u00g9"`, `"\x"`, "\"tab\there\"", `"é"`, "\"\xff\"", `"unterminated`, `"\`,
	`{"a":1}`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":1 "b":2}`, `{"a":[1,2,{"b":null}]}`, `[1,]`, `[,1]`, `[1 2]`, ` [ 1 , 2 ] `,
	`{"users":[{"id":"1","name":"x, y ] }"}],"info":{"per_page":100,"count":1,"page":1,"more_records":false}}`,
	`{"users":[{"code":"INVALID_DATA","details":{},"message":"bad","status":"error"}]}`,
	`{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}`,
	`{"a":1,"a":2}`, `{"a":[1],"a":2}`, `{"a":2,"a":[]}`, `{"\u0061":1}`, `{"k":[ {"a":1} , "x,]" ,[2]]}`, `{"k":[]} `, "{\"\xff\":1}", `{"a":{}} x`, `[[[[]]]]`, `{} {}`,
	strings.Repeat("[", maxNestingDepth) + strings.Repeat("]", maxNestingDepth),
	strings.Repeat("[", maxNestingDepth+1) + strings.Repeat("]", maxNestingDepth+1),
}

// FuzzValidJSON holds validJSON and scanAnswer to json.Valid, and
// scanAnswer's split to encoding/json decoding the object into
// map[string]json.RawMessage and each array member into []json.RawMessage.
func FuzzValidJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		valid := validJSON(b)
		require.Equal(t, json.Valid(b), valid, "%q", b)
		top, arrays, object, scanned := scanAnswer(b)
		require.Equal(t, valid, scanned, "scanAnswer's validity of %q", b)
		var want map[string]json.RawMessage
		isObject := valid && json.Unmarshal(b, &want) == nil && want != nil
		require.Equal(t, isObject, object && scanned, "is %q an object", b)
		if !isObject {
			return
		}
		require.Len(t, top, len(want), "%q", b)
		for k, v := range want {
			require.Equal(t, string(v), string(top[k]), "key %q of %q", k, b)
			var elems []json.RawMessage
			if json.Unmarshal(v, &elems) != nil || elems == nil {
				require.NotContains(t, arrays, k, "key %q of %q is not an array", k, b)
				continue
			}
			require.Contains(t, arrays, k, "key %q of %q is an array", k, b)
			require.Len(t, arrays[k], len(elems), "key %q of %q", k, b)
			for i := range elems {
				require.Equal(t, string(elems[i]), string(arrays[k][i]), "element %d of key %q of %q", i, k, b)
			}
		}
		require.LessOrEqual(t, len(arrays), len(top))
	})
}

func TestValidJSONDepthLimit(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", maxNestingDepth) + strings.Repeat("]", maxNestingDepth)
	assert.True(t, validJSON([]byte(deep)))
	assert.False(t, validJSON([]byte("["+deep+"]")), "one level deeper than encoding/json allows")
}

// usersPage is the sandbox's answer to a page of 100 users: what decode
// reads on every list call.
func usersPage(tb testing.TB) []byte {
	tb.Helper()
	sb := sandbox.New(sandbox.Options{Location: "us"})
	ts := httptest.NewServer(sb)
	defer ts.Close()
	sb.SetBaseURL(ts.URL)
	resp, err := http.PostForm(ts.URL+"/oauth/v2/token", url.Values{"grant_type": {"refresh_token"},
		"client_id": {sb.ClientID()}, "client_secret": {sb.ClientSecret()}, "refresh_token": {sb.IssueRefreshToken()}})
	require.NoError(tb, err)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(tb, json.NewDecoder(resp.Body).Decode(&tok))
	resp.Body.Close()
	req := httptest.NewRequest(http.MethodGet, "/bigin/v2/users?type=AllUsers&page=1&per_page=100", nil)
	req.Header.Set("Authorization", "Zoho-oauthtoken "+tok.AccessToken)
	w := httptest.NewRecorder()
	sb.ServeHTTP(w, req)
	require.Equal(tb, http.StatusOK, w.Code)
	return w.Body.Bytes()
}

// BenchmarkDecodeUsersPage is decode plus splitting the records: the
// Bigin client's whole cost per page of users, network aside.
func BenchmarkDecodeUsersPage(b *testing.B) {
	body := usersPage(b)
	now := time.Now()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		a, err := decode(http.StatusOK, http.Header{}, body, now)
		if err != nil {
			b.Fatal(err)
		}
		recs, err := a.records("users")
		if err != nil || len(recs) != 100 {
			b.Fatalf("%d records, %v", len(recs), err)
		}
	}
}
