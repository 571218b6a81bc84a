package connect_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Connecting an org that is already connected still connects it (a second
// account: an operator may want two), and the page says so, naming the
// existing account and telling the customer how to renew it instead.
func TestConnectingAnOrgAgainSaysSo(t *testing.T) {
	t.Parallel()
	z := newConnectEnv(t)
	const warning = "This organization was already connected"

	status, page := z.callback(z.consent(z.mintLink(map[string]any{"name": "Acme"}), "us"))
	require.Equal(t, http.StatusOK, status, page)
	assert.NotContains(t, page, warning, "the first connection of an org")
	first := z.onlyAccountID(t, "Acme")

	status, page = z.callback(z.consent(z.mintLink(map[string]any{"name": "Acme EU"}), "eu"))
	require.Equal(t, http.StatusOK, status, page)
	assert.NotContains(t, page, warning, "another region's org is another org")

	status, page = z.callback(z.consent(z.mintLink(map[string]any{"name": "Acme again"}), "us"))
	require.Equal(t, http.StatusOK, status, page)
	assert.Contains(t, page, "is now connected", "connected all the same")
	assert.Contains(t, page, warning)
	assert.Contains(t, page, "<code>"+first+"</code>", "names the existing account")
	assert.Contains(t, page, "reconnect link", "says how to renew the existing connection instead")
	second := z.onlyAccountID(t, "Acme again")
	assert.NotEqual(t, first, second)
	assert.Equal(t, 3, z.accountCount())

	// Renewing the existing account with a reconnect link is no second
	// connection: nothing to warn about.
	_, link := z.mintReconnect(first)
	status, page = z.callback(z.consent(link, ""))
	require.Equal(t, http.StatusOK, status, page)
	assert.Contains(t, page, "connected again")
	assert.NotContains(t, page, warning)
	assert.Equal(t, 3, z.accountCount())
}

// onlyAccountID returns the id of the one account named name.
func (z *connectEnv) onlyAccountID(t *testing.T, name string) string {
	t.Helper()
	var ids []string
	for _, a := range z.AdminCall("GET", "/admin/integrated-accounts?limit=100", nil, http.StatusOK)["result"].([]any) {
		if m := a.(map[string]any); m["name"] == name {
			ids = append(ids, m["id"].(string))
		}
	}
	require.Len(t, ids, 1, "accounts named %q", name)
	return ids[0]
}
