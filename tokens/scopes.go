package tokens

import (
	"context"
	"slices"
	"strings"
)

// Scopes an API token can be limited to. A token without scopes has all
// of them.
const (
	ScopeAdmin   = "admin"   // the admin API
	ScopeTools   = "tools"   // /integrated-account/{id}/tools
	ScopeUnified = "unified" // /unified/…
	ScopeProxy   = "proxy"   // /proxy/…
	// ScopeMCP is the MCP URLs whose auth is api_token. ScopeTools grants
	// it too: over REST it reaches every tool of the account, with any
	// policy, so it already holds more than any MCP URL of the account
	// offers.
	ScopeMCP = "mcp"
)

// validScopes are the scopes in the order error messages offer them.
var validScopes = []string{ScopeAdmin, ScopeTools, ScopeUnified, ScopeProxy, ScopeMCP}

// accountScopes are the scopes of a token limited to accounts that names
// none, sorted as stored: every surface but the admin API (ScopeTools
// grants ScopeMCP).
var accountScopes = []string{ScopeProxy, ScopeTools, ScopeUnified}

// impliedBy lists, for a scope, the other scopes that grant it.
var impliedBy = map[string][]string{ScopeMCP: {ScopeTools}}

// APIScopes returns every scope a token can be limited to.
func APIScopes() []string { return slices.Clone(validScopes) }

// Allows reports whether the token may use the surface of scope. A token
// without scopes may use every surface, except that a token limited to
// accounts never has the admin scope: the admin API manages every
// account. Creating a token refuses that combination; Allows refuses it
// again for a record made another way (migrated, or written by hand).
func (t *APIToken) Allows(scope string) bool {
	if scope == ScopeAdmin && len(t.AccountIDs) > 0 {
		return false
	}
	if len(t.Scopes) == 0 || slices.Contains(t.Scopes, scope) {
		return true
	}
	for _, s := range impliedBy[scope] {
		if slices.Contains(t.Scopes, s) {
			return true
		}
	}
	return false
}

// Permit checks that the token may use the surface of scope ("": any)
// for the integrated account ("": a request that names none). It returns
// nil, or a permission_denied *Error that names the scope or the account
// the token lacks.
func (t *APIToken) Permit(scope, accountID string) error {
	if scope == ScopeAdmin && len(t.AccountIDs) > 0 {
		return &Error{Code: CodePermissionDenied, Message: "this API token is limited to integrated accounts, so it cannot use the admin API (which manages every account); use a token without account_ids"}
	}
	if scope != "" && !t.Allows(scope) {
		return &Error{Code: CodePermissionDenied, Message: "this API token does not have the " + scope +
			" scope (it has: " + strings.Join(t.Scopes, ", ") + "); use a token with that scope"}
	}
	if accountID != "" && !t.AllowsAccount(accountID) {
		return &Error{Code: CodePermissionDenied, Message: "this API token is limited to other integrated accounts, not " + clipID(accountID)}
	}
	return nil
}

// AllowsAccount reports whether the token may reach the integrated
// account. A token without account_ids reaches every account.
func (t *APIToken) AllowsAccount(id string) bool {
	return len(t.AccountIDs) == 0 || slices.Contains(t.AccountIDs, id)
}

// APITokenInput is what a new API token is made from.
type APITokenInput struct {
	Name string
	// AccountIDs, when set, limits the token to these integrated
	// accounts, which must exist.
	AccountIDs []string
	// Scopes, when set, limits the token to these surfaces. A token
	// limited to accounts cannot have the admin scope (the admin API
	// manages every account); without scopes it gets accountScopes.
	Scopes []string
}

// normalizeLimits checks the token's limits and returns them in stored
// form: deduplicated and sorted, nil when empty.
func (s *Service) normalizeLimits(ctx context.Context, in APITokenInput) (accounts, scopes []string, err error) {
	scopes, err = normalizeWords(in.Scopes, "scopes", "scope", validScopes)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range in.AccountIDs {
		id = strings.TrimSpace(id)
		if _, err := s.db.Account(ctx, id); err != nil {
			return nil, nil, invalidf("account_ids: no integrated account has id %q", clipID(id))
		}
		accounts = append(accounts, id)
	}
	slices.Sort(accounts)
	accounts = slices.Compact(accounts)
	if len(accounts) > 0 {
		if slices.Contains(scopes, ScopeAdmin) {
			return nil, nil, invalidf("a token limited by account_ids cannot have the admin scope (the admin API manages every account); choose among %s", strings.Join(validScopes[1:], ", "))
		}
		if len(scopes) == 0 {
			scopes = slices.Clone(accountScopes)
		}
	}
	return accounts, scopes, nil
}

// clipID keeps an id quoted in a message short.
func clipID(id string) string {
	if len(id) > 64 {
		return id[:64] + "…"
	}
	return id
}
