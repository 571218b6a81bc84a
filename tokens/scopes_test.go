package tokens_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

func TestAPITokenLimits(t *testing.T) {
	t.Parallel()
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
		{"mcp held", tokens.APIToken{Scopes: []string{tokens.ScopeMCP}}, tokens.ScopeMCP, "a", true, true},
		{"mcp granted by tools", tokens.APIToken{Scopes: []string{tokens.ScopeTools}}, tokens.ScopeMCP, "a", true, true},
		{"mcp not granted by proxy", tokens.APIToken{Scopes: []string{tokens.ScopeProxy, tokens.ScopeUnified}}, tokens.ScopeMCP, "a", false, true},
		{"mcp not granted by admin", tokens.APIToken{Scopes: []string{tokens.ScopeAdmin}}, tokens.ScopeMCP, "a", false, true},
		{"tools not granted by mcp", tokens.APIToken{Scopes: []string{tokens.ScopeMCP}}, tokens.ScopeTools, "a", false, true},
		{"mcp of a token limited to accounts made without scopes", tokens.APIToken{AccountIDs: []string{"a"}, Scopes: []string{"proxy", "tools", "unified"}}, tokens.ScopeMCP, "a", true, true},
		// Creating a token refuses admin with account_ids; a record made
		// another way (migrated, written by hand) still gets no admin.
		{"admin of a record limited to accounts with the admin scope", tokens.APIToken{AccountIDs: []string{"a"}, Scopes: []string{"admin"}}, tokens.ScopeAdmin, "a", false, true},
		{"admin of a record limited to accounts without scopes", tokens.APIToken{AccountIDs: []string{"a"}}, tokens.ScopeAdmin, "a", false, true},
		{"tools of a record limited to accounts without scopes", tokens.APIToken{AccountIDs: []string{"a"}}, tokens.ScopeTools, "a", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.scopeOK, tt.tok.Allows(tt.scope))
			assert.Equal(t, tt.accountOK, tt.tok.AllowsAccount(tt.account))
		})
	}
	assert.Equal(t, []string{"admin", "tools", "unified", "proxy", "mcp"}, tokens.APIScopes())
}

// TestPermit: a refusal is permission_denied and names the scope or the
// account the token lacks.
func TestPermit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		tok            tokens.APIToken
		scope, account string
		want           string // "" when permitted
	}{
		{"unlimited", tokens.APIToken{}, tokens.ScopeMCP, "a", ""},
		{"scope and account held", tokens.APIToken{AccountIDs: []string{"a"}, Scopes: []string{tokens.ScopeMCP}}, tokens.ScopeMCP, "a", ""},
		{"any scope", tokens.APIToken{Scopes: []string{tokens.ScopeProxy}}, "", "a", ""},
		{"no account named", tokens.APIToken{AccountIDs: []string{"a"}}, tokens.ScopeTools, "", ""},
		{"scope missing", tokens.APIToken{Scopes: []string{tokens.ScopeProxy}}, tokens.ScopeMCP, "a", "does not have the mcp scope (it has: proxy)"},
		{"account missing", tokens.APIToken{AccountIDs: []string{"a"}}, tokens.ScopeTools, "b", "limited to other integrated accounts, not b"},
		{"admin of a token limited to accounts", tokens.APIToken{AccountIDs: []string{"a"}, Scopes: []string{tokens.ScopeAdmin}}, tokens.ScopeAdmin, "",
			"is limited to integrated accounts, so it cannot use the admin API"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.tok.Permit(tt.scope, tt.account)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			var te *tokens.Error
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tokens.CodePermissionDenied, te.Code)
			assert.Contains(t, te.Message, tt.want)
		})
	}
}
