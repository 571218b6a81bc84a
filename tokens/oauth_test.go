package tokens_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// TestClipClient: a client id in an audit entry is cut between
// characters, so the entry stays valid UTF-8.
func TestClipClient(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"short", "bmcp_client_1", "bmcp_client_1"},
		{"cut at 120 bytes", "https://c.example/" + strings.Repeat("a", 200), ("https://c.example/" + strings.Repeat("a", 200))[:120] + "…"},
		{"a character across the cut is left out", strings.Repeat("a", 119) + "é", strings.Repeat("a", 119) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tokens.ClipClient(tt.in)
			assert.Equal(t, tt.want, got)
			assert.True(t, utf8.ValidString(got))
		})
	}
}
