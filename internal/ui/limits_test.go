package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// The forms for token limits and rate limits refuse what the admin API
// refuses, with its message, on a page that keeps what was typed.
func TestLimitFormsRefuseBadInput(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{})
	acc := e.ConnectAccount("us")
	b := newBrowser(t, e)
	b.signIn(e.Admin)
	page := "/ui/accounts/" + acc
	mint := func(requests, seconds string) url.Values {
		return url.Values{"name": {"x"}, "expiry": {"never"}, "rate_limit_requests": {requests}, "rate_limit_per_seconds": {seconds}}
	}
	rate := func(requests, seconds string) url.Values {
		return url.Values{"rate_limit_requests": {requests}, "rate_limit_per_seconds": {seconds}}
	}
	for _, tc := range []struct {
		name, from, path string
		form             url.Values
		says             string
	}{
		{"a token scope that does not exist", "/ui/api-tokens", "/ui/api-tokens", url.Values{"name": {"x"}, "scopes": {"root"}}, "root"},
		{"a token for an account that does not exist", "/ui/api-tokens", "/ui/api-tokens", url.Values{"name": {"x"}, "account_ids": {"nope"}}, "no integrated account"},
		{"an admin token limited to accounts", "/ui/api-tokens", "/ui/api-tokens", url.Values{"name": {"x"}, "scopes": {"admin"}, "account_ids": {acc}}, "cannot have the admin scope"},
		{"a URL rate limit without its window", page, page + "/mcp", mint("5", ""), "needs both"},
		{"a URL rate limit without its calls", page, page + "/mcp", mint("", "60"), "needs both"},
		{"a URL rate limit that is not a number", page, page + "/mcp", mint("lots", "60"), "whole numbers"},
		{"a URL rate limit of no calls", page, page + "/mcp", mint("0", "60"), "rate_limit.requests must be a whole number from 1 to 1000000"},
		{"a URL rate limit over a day", page, page + "/mcp", mint("5", "86401"), "rate_limit.per_seconds must be"},
		{"an account rate limit without its window", page, page + "/rate-limit", rate("600", ""), "needs both"},
		{"an account rate limit of no calls", page, page + "/rate-limit", rate("0", "0"), "rate_limit.requests must be"},
		{"an account rate limit of too many calls", page, page + "/rate-limit", rate("1000001", "60"), "rate_limit.requests must be"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := b.post(tc.from, tc.path, tc.form)
			assert.Equal(t, http.StatusBadRequest, a.Status, a.Body)
			assert.Contains(t, a.Body, tc.says)
			assert.Equal(t, "text/html; charset=utf-8", a.Header.Get("Content-Type"))
			for _, field := range []string{"rate_limit_requests", "rate_limit_per_seconds"} {
				if v := tc.form.Get(field); v != "" && strings.Contains(tc.path, acc) {
					assert.Contains(t, a.Body, `name="`+field+`" value="`+v+`"`, "the form keeps what was typed")
				}
			}
		})
	}
	list, _, err := e.Svc.APITokens(context.Background(), "", 100)
	require.NoError(t, err)
	assert.Len(t, list, 1, "no token was made")
	servers, _, _, err := e.Svc.MCPServers(context.Background(), acc, "", 100)
	require.NoError(t, err)
	assert.Empty(t, servers, "no URL was minted")
	a, err := e.Svc.Account(context.Background(), acc)
	require.NoError(t, err)
	assert.Nil(t, a.RateLimit, "the account's rate limit is unchanged")
}

// An account's rate limit is set and removed through the form, audited as
// the signed-in token's change, as the admin API's PATCH does.
func TestAccountRateLimitForm(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{})
	acc := e.ConnectAccount("us")
	b := newBrowser(t, e)
	b.signIn(e.Admin)
	page := "/ui/accounts/" + acc

	a := b.post(page, page+"/rate-limit", url.Values{"rate_limit_requests": {" 600 "}, "rate_limit_per_seconds": {"3600"}})
	require.Equal(t, http.StatusOK, a.Status, a.Body)
	assert.Contains(t, a.Body, `<span id="account-rate">600 calls per 3600 s</span>`)
	assert.Equal(t, map[string]any{"requests": float64(600), "per_seconds": float64(3600)},
		e.AdminCall("GET", "/admin/integrated-accounts/"+acc, nil, http.StatusOK)["rate_limit"], "the admin API sees it")

	a = b.post(page, page+"/rate-limit", url.Values{"rate_limit_requests": {""}, "rate_limit_per_seconds": {""}})
	require.Equal(t, http.StatusOK, a.Status, a.Body)
	assert.Contains(t, a.Body, `<span id="account-rate">none</span>`)
	assert.Nil(t, e.AdminCall("GET", "/admin/integrated-accounts/"+acc, nil, http.StatusOK)["rate_limit"])

	entries, _, err := e.Svc.Audit(context.Background(), tokens.AuditFilter{AccountID: acc}, "", 10)
	require.NoError(t, err)
	var updates int
	for _, en := range entries {
		if en.Action == "account.update" {
			updates++
			assert.Equal(t, "changed: rate_limit", en.Detail)
			assert.True(t, strings.HasPrefix(en.Actor, "api_token:"), en.Actor)
		}
	}
	assert.Equal(t, 2, updates)
}

// The audit page names an API token that was deleted as such, keeping its
// id in the title, and shows one that exists by its name.
func TestAuditNamesActors(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{})
	acc := e.ConnectAccount("us")
	out := e.AdminCall("POST", "/admin/api-tokens", map[string]any{"name": "short-lived"}, http.StatusCreated)
	gone := out["id"].(string)
	r := e.RequestAs(out["token"].(string), "application/json", "POST", "/admin/integrated-accounts/"+acc+"/mcp", map[string]any{"name": "made by a token now gone"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	e.AdminCall("DELETE", "/admin/api-tokens/"+gone, nil, http.StatusNoContent)
	admin, err := e.Svc.AuthenticateAPIToken(context.Background(), e.Admin)
	require.NoError(t, err)

	b := newBrowser(t, e)
	b.signIn(e.Admin)
	page := b.get("/ui/audit").Body
	assert.Contains(t, page, `<td class="actor" title="api_token:`+gone+`">a deleted API token</td>`)
	assert.Contains(t, page, `<td class="actor" title="api_token:`+admin.ID+`">`+admin.Name+`</td>`)
	assert.NotContains(t, page, `">api_token:`, "no actor is shown as its id")
	assert.Contains(t, page, `>made by a token now gone</a>`, "the MCP URL column names the URL")
}
