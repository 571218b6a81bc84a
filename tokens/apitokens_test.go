package tokens

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestCheckBootstrapToken: BIGIN_MCP_ADMIN_TOKEN must hold 32 random
// characters besides the bmcp_api_ prefix; short values and placeholders
// are refused with an error that does not repeat them.
func TestCheckBootstrapToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, tok, err string
	}{
		{"generated", NewAPIToken(), ""},
		{"openssl rand -hex 16", "7f3a9c0e5b1d2f8a6c4e0b9d3a7f1c5e", ""},
		{"openssl rand -base64 32", "q2W9xZ+f7Lr0Yh3sKd8Vn1Bc6Tj4Pm5Ga0Eo2Iu9Rw=", ""},
		{"32 digits", "40719382650128364759018273645091", ""},
		{"16 characters", "abcdefghijklmnop", "at least 32 random characters besides the bmcp_api_ prefix, and this one has 16"},
		{"31 characters", strings.Repeat("0123456789abcdef", 2)[:31], "this one has 31"},
		{"the prefix does not count", "bmcp_api_" + "0123456789abcdefghijklmnopqrst", "this one has 30"},
		{"one character repeated", "bmcp_api_" + strings.Repeat("a", 43), "repeats 1 different characters, too few"},
		{"a short pattern repeated", strings.Repeat("abcde", 8), "repeats 5 different characters"},
		{"empty", "", "this one has 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckBootstrapToken(tt.tok)
			if tt.err == "" {
				assert.NoError(t, err)
				return
			}
			if assert.Error(t, err) {
				assert.Contains(t, err.Error(), tt.err)
				assert.Contains(t, err.Error(), "openssl rand -hex 32", "says how to make a good one")
				if tt.tok != "" {
					assert.NotContains(t, err.Error(), tt.tok, "the token is not repeated")
				}
			}
		})
	}
}
