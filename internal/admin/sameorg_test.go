package admin_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
)

// Connecting a Zoho org that is already connected works (an operator may
// want two accounts) but the answer warns, naming the existing account
// and how to repair it instead.
func TestCreateAccountWarnsWhenTheOrgIsConnected(t *testing.T) {
	e := apptest.New(t, apptest.Options{Datacenters: []string{"us", "eu"}})
	create := func(dc, name string) map[string]any {
		t.Helper()
		sb := e.Sandboxes[dc]
		r := e.Request("POST", "/admin/integrated-accounts", map[string]any{
			"name": name, "datacenter": dc, "refresh_token": sb.IssueRefreshToken(bigin.Scopes()...),
			"client_id": sb.ClientID(), "client_secret": sb.ClientSecret(),
		})
		require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
		return r.JSON(t)
	}

	first := create("us", "Acme")
	assert.NotContains(t, first, "warnings", "the first account of an org has nothing to warn about")
	other := create("eu", "Acme EU")
	assert.NotContains(t, other, "warnings", "another datacenter's org is another org")

	second := create("us", "Acme again")
	require.NotEmpty(t, second["id"], "a second account of the org is created, not refused")
	assert.NotEqual(t, first["id"], second["id"])
	warnings, ok := second["warnings"].([]any)
	require.True(t, ok, "the answer warns: %v", second)
	require.Len(t, warnings, 1)
	w := warnings[0].(map[string]any)
	assert.Equal(t, "org_already_connected", w["code"])
	assert.Equal(t, []any{first["id"]}, w["account_ids"], "names the existing account")
	msg, _ := w["message"].(string)
	assert.Contains(t, msg, first["id"].(string))
	assert.Contains(t, msg, `"Acme"`)
	assert.Contains(t, msg, "reconnect link", "says how to repair the existing account instead")
	assert.Contains(t, msg, e.Sandboxes["us"].OrgID())

	// A get or a list shows the account as any other: the warning belongs
	// to the answer of the create.
	got := e.AdminCall("GET", "/admin/integrated-accounts/"+second["id"].(string), nil, http.StatusOK)
	assert.NotContains(t, got, "warnings")

	third := create("us", "Acme thrice")
	w = third["warnings"].([]any)[0].(map[string]any)
	assert.Equal(t, []any{first["id"], second["id"]}, w["account_ids"], "every existing account of the org, oldest first")
}
