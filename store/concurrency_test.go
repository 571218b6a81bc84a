package store

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConcurrentWrites runs 50 goroutines that create, update, read, list
// and audit at once (run it with -race). The shared counter proves that
// UpdateAccount's read-modify-write is serialised.
func TestConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, Options{})
	shared := testAccount(t, "shared")
	shared.OrgName = "0"
	require.NoError(t, db.CreateAccount(ctx, shared))

	const workers = 50
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			a := testAccount(t, "w"+strconv.Itoa(i))
			if !assert.NoError(t, db.CreateAccount(ctx, a)) {
				return
			}
			s := testServer(t, a.ID, "s")
			if !assert.NoError(t, db.CreateMCPServer(ctx, s)) {
				return
			}
			_, err := db.UpdateAccount(ctx, shared.ID, func(x *tokens.Account) error {
				n, err := strconv.Atoi(x.OrgName)
				x.OrgName = strconv.Itoa(n + 1)
				return err
			})
			assert.NoError(t, err)
			got, err := db.MCPServerByTokenHash(ctx, s.TokenHash)
			if assert.NoError(t, err) {
				assert.Equal(t, s.ID, got.ID)
			}
			_, err = db.UpdateMCPServer(ctx, s.ID, func(x *tokens.MCPServer) error { x.Name = "renamed"; return nil })
			assert.NoError(t, err)
			assert.NoError(t, db.AppendAudit(ctx, &tokens.AuditEntry{Action: "tool_call", MCPServerID: s.ID}))
			_, _, err = db.Accounts(ctx, "", 10)
			assert.NoError(t, err)
		})
	}
	wg.Wait()

	got, err := db.Account(ctx, shared.ID)
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(workers), got.OrgName, "no lost update")

	accounts, _, err := db.Accounts(ctx, "", 100)
	require.NoError(t, err)
	assert.Len(t, accounts, workers+1)
	servers := 0
	require.NoError(t, db.ForEachMCPServer(ctx, func(s *tokens.MCPServer) error {
		servers++
		assert.Equal(t, "renamed", s.Name)
		return nil
	}))
	assert.Equal(t, workers, servers)
	entries, _, err := db.Audit(ctx, "", 100)
	require.NoError(t, err)
	assert.Len(t, entries, workers)
}
