package ui_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
)

// A token without the admin scope cannot sign in to the UI, which does
// what the admin API does.
func TestSignInNeedsTheAdminScope(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{})
	acct := e.ConnectAccount("us")
	out := e.AdminCall("POST", "/admin/api-tokens", map[string]any{"name": "tools only", "scopes": []string{"tools"}, "account_ids": []string{acct}}, http.StatusCreated)
	b := newBrowser(t, e)
	a := b.post("/ui/signin", "/ui/signin", url.Values{"token": {out["token"].(string)}})
	assert.Equal(t, http.StatusForbidden, a.Status, a.Body)
	assert.Contains(t, a.Body, "admin scope")
	b.signIn(e.Admin) // the full token still signs in
}
