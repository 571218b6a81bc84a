package tokens_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

func TestAPITokenLimits(t *testing.T) {
	tests := []struct {
		name      string
		tok       tokens.APIToken
		scope     string
		account   string
		scopeOK   bool
		accountOK bool
	}{
		{"no limits (tokens made before limits)", tokens.APIToken{}, tokens.ScopeAdmin, "a", true, true},
		{"scope held", tokens.APIToken{Scopes: []string{tokens.ScopeProxy, tokens.ScopeTools}}, tokens.ScopeTools, "a", true, true},
		{"scope not held", tokens.APIToken{Scopes: []string{tokens.ScopeProxy}}, tokens.ScopeAdmin, "a", false, true},
		{"account held", tokens.APIToken{AccountIDs: []string{"a", "b"}}, tokens.ScopeUnified, "b", true, true},
		{"account not held", tokens.APIToken{AccountIDs: []string{"a"}}, tokens.ScopeUnified, "c", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.scopeOK, tt.tok.Allows(tt.scope))
			assert.Equal(t, tt.accountOK, tt.tok.AllowsAccount(tt.account))
		})
	}
	assert.Equal(t, []string{"admin", "tools", "unified", "proxy"}, tokens.APIScopes())
}
