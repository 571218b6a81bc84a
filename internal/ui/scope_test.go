package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
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

// The new-token form explains each scope it offers, so an operator can
// tell what ticking one grants.
func TestTokenFormExplainsEveryScope(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{})
	b := newBrowser(t, e)
	b.signIn(e.Admin)
	page := b.get("/ui/api-tokens").Body
	field := regexp.MustCompile(`(?s)<fieldset id="token-scopes">(.*?)</fieldset>`).FindStringSubmatch(page)
	if !assert.NotNil(t, field, "the form has its scopes fieldset") {
		return
	}
	hint := regexp.MustCompile(`(?s)<p class="muted">(.*?)</p>`).FindStringSubmatch(field[1])
	if !assert.NotNil(t, hint, "the scopes have an explanation") {
		return
	}
	offered := regexp.MustCompile(`name="scopes" value="([a-z]+)"`).FindAllStringSubmatch(field[1], -1)
	assert.Len(t, offered, 5, "admin, tools, unified, proxy and mcp are offered")
	for _, m := range offered {
		assert.Regexp(t, `\b`+m[1]+`\b[^.]*:`, hint[1], "the explanation names the scope %s", m[1])
	}
}
