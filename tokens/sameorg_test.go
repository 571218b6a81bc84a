package tokens_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

func TestAccountsOfOrg(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{Datacenters: []string{"us", "eu"}})
	ids := func(list []*tokens.AccountInfo) []string {
		var out []string
		for _, a := range list {
			out = append(out, a.ID)
		}
		return out
	}
	us := e.Sandboxes["us"].OrgID()
	assert.Empty(t, e.Svc.AccountsOfOrg("us", us), "nothing connected yet")

	first := e.ConnectAccount("us")
	eu := e.ConnectAccount("eu")
	second := e.ConnectAccount("us")
	assert.Equal(t, []string{first, second}, ids(e.Svc.AccountsOfOrg("us", us)), "both accounts of the org, oldest first")
	assert.Equal(t, []string{eu}, ids(e.Svc.AccountsOfOrg("eu", e.Sandboxes["eu"].OrgID())), "another datacenter's org is another org")
	assert.Empty(t, e.Svc.AccountsOfOrg("us", ""), "an account without an org id matches nothing")

	require.NoError(t, e.Svc.DeleteAccount(context.Background(), first))
	assert.Equal(t, []string{second}, ids(e.Svc.AccountsOfOrg("us", us)), "a deleted account is no longer one of the org's")
}
