package mcp

import (
	"bytes"
	"encoding/json"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stdEscaped is s as encoding/json writes a string without HTML escaping,
// without the quotes.
func stdEscaped(t testing.TB, s []byte) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(string(s)))
	out := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return out[1 : len(out)-1]
}

var escapeCases = []struct{ name, in string }{
	{"empty", ""},
	{"plain", "plain ascii text"},
	{"json", `{"result":[{"id":"1","name":"A \"quoted\" \\ name"}],"next_cursor":null}`},
	{"controls", "line\nfeed\rreturn\ttab\x00nul\x1fus\x7fdel"},
	{"short escapes", "\b backspace \f form feed"},
	{"html stays", "<b>&amp;</b>"},
	{"utf-8", "Zoë, 東京, emoji 🙂"},
	{"js separators", "a\u2028b\u2029c"},
	{"invalid utf-8", "bad \xff byte, cut \xe6\x9d and \xed\xa0\x80 surrogate"},
	{"cut at the end", "ends in \xe6\x9d"},
}

func TestAppendEscapedMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range escapeCases {
		t.Run(tc.name, func(t *testing.T) {
			got := appendEscaped([]byte("prefix"), []byte(tc.in))
			assert.Equal(t, "prefix"+string(stdEscaped(t, []byte(tc.in))), string(got))
		})
	}
}

func FuzzAppendEscaped(f *testing.F) {
	for _, tc := range escapeCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if got, want := appendEscaped(nil, in), stdEscaped(t, in); !bytes.Equal(got, want) {
			t.Fatalf("appendEscaped(%q) = %q, encoding/json writes %q", in, got, want)
		}
	})
}

// TestWireResultEncodesAsTheSDK holds the one-pass encoding to the
// go-sdk's own encoding of the same result: the same JSON, whatever the
// result carries besides its content.
func TestWireResultEncodesAsTheSDK(t *testing.T) {
	t.Parallel()
	body := []byte(`{"result":[{"id":"1","full_name":"Zoë \"Z\" <z@example.com>","line":"a\nb"}],"next_cursor":null}`)
	cases := []struct {
		name string
		res  sdk.CallToolResult
		enc  encoded
		text bool
	}{
		{"success", sdk.CallToolResult{}, encoded{body: body}, true},
		{"structured only", sdk.CallToolResult{}, encoded{body: body}, false},
		{"failure", sdk.CallToolResult{IsError: true}, encoded{text: "Zoho Bigin answered 404.\n", body: []byte(`{"error":{"status":404}}`)}, true},
		{"with _meta", sdk.CallToolResult{Meta: sdk.Meta{"io.modelcontextprotocol/serverInfo": map[string]any{"name": "bigin-mcp", "content": nil}}}, encoded{body: body}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := &wireResult{CallToolResult: &tc.res, enc: &tc.enc, text: tc.text}
			got, err := w.MarshalJSON()
			require.NoError(t, err)
			require.True(t, json.Valid(got), "%s", got)
			want, err := w.sdkEncoding()
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(got))

			var back sdk.CallToolResult
			require.NoError(t, json.Unmarshal(got, &back))
			if tc.text {
				require.Len(t, back.Content, 1)
				assert.Equal(t, tc.enc.text+string(tc.enc.body), back.Content[0].(*sdk.TextContent).Text, "the text block is the bytes, unchanged")
			} else {
				assert.Empty(t, back.Content)
				assert.Contains(t, string(got), `"content":[]`, "content is an empty array, never null")
			}
		})
	}
}

func TestContentAtRefusesAnotherLayout(t *testing.T) {
	t.Parallel()
	for _, head := range []string{`{"content":[],"isError":true}`, `{"isError":true,"content":null}`, `{"_meta":{"a":1},"content":null}`} {
		assert.Equal(t, -1, contentAt([]byte(head), sdk.Meta{"b": 2}), head)
	}
	assert.Equal(t, 1, contentAt([]byte(`{"content":null,"isError":true}`), nil))
}
