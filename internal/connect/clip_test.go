package connect_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/bigin-mcp/bigin-mcp/internal/connect"
)

func TestClipTextKeepsCharactersWhole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short text is unchanged", "access_denied", 80, "access_denied"},
		{"ASCII is cut at n", strings.Repeat("a", 10), 4, "aaaa…"},
		{"a two-byte character straddling n is dropped whole", "aaé", 3, "aa…"},
		{"a four-byte character straddling n is dropped whole", "a😀b", 3, "a…"},
		{"a character ending at n is kept", "aé€", 3, "aé…"},
		{"control characters are removed before cutting", "a\nb\x7fc", 80, "abc"},
		{"invalid UTF-8 becomes U+FFFD", "a\xffb", 80, "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, connect.ClipText(tt.in, tt.n))
		})
	}
}

// FuzzClipText holds clipText to valid UTF-8 of at most n bytes plus the
// cut mark, for any input.
func FuzzClipText(f *testing.F) {
	f.Add("Zoho said: ünïcödé 😀 everywhere", 12)
	f.Add("\xff\xfe\xfd", 1)
	f.Add("", 0)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 1000 {
			return
		}
		got := connect.ClipText(s, n)
		if !utf8.ValidString(got) {
			t.Fatalf("ClipText(%q, %d) = %q is not valid UTF-8", s, n, got)
		}
		if len(strings.TrimSuffix(got, "…")) > n {
			t.Fatalf("ClipText(%q, %d) = %q is longer than %d bytes", s, n, got, n)
		}
	})
}
