package zoho_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// A call that fails with the old, refused credentials after an admin
// already stored new ones must not mark the account needs_reauth again:
// StillCurrent tells a client built from replaced credentials.
func TestStaleClientIsNotCurrent(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	sb := e.Sandboxes["us"]
	acct := e.ConnectAccount("us")
	_, url := e.MintURL(acct, map[string]any{})
	ctx := context.Background()
	res, err := e.Svc.Resolve(ctx, url[strings.LastIndex(url, "/")+1:])
	require.NoError(t, err)

	client, err := e.App.Clients.Get(ctx, res.Account)
	require.NoError(t, err)
	again, err := e.App.Clients.Get(ctx, res.Account)
	require.NoError(t, err)
	assert.Same(t, client, again, "one client per account")
	assert.True(t, e.App.Clients.StillCurrent(ctx, acct, client))

	_, err = e.DB.UpdateAccount(ctx, acct, func(a *tokens.Account) error {
		a.RefreshToken = sb.IssueRefreshToken()
		return nil
	})
	require.NoError(t, err)
	assert.False(t, e.App.Clients.StillCurrent(ctx, acct, client), "credentials changed since the client was built")
}

// Concurrent first calls for one account share one client.
func TestConcurrentGetsShareOneClient(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	acct := e.ConnectAccount("us")
	_, url := e.MintURL(acct, map[string]any{})
	ctx := context.Background()
	res, err := e.Svc.Resolve(ctx, url[strings.LastIndex(url, "/")+1:])
	require.NoError(t, err)
	got := make(chan any, 20)
	for range 20 {
		go func() {
			c, err := e.App.Clients.Get(ctx, res.Account)
			if err != nil {
				got <- err
				return
			}
			got <- c
		}()
	}
	first := <-got
	for range 19 {
		assert.Same(t, first, <-got)
	}
}
