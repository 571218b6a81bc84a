//go:build linux

package tokens

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/procstat"
	"github.com/bigin-mcp/bigin-mcp/store"
)

func rssFileKB(t *testing.T) int {
	t.Helper()
	n, err := procstat.StatusKB(procstat.Self, "RssFile")
	require.NoError(t, err)
	return n
}

// Each sweeper pass hands back the database pages that reads mapped in
// since the last one, so a long-running server's RSS does not grow with
// its database.
func TestSweeperReleasesMappedPages(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	acct := e.seedAccount("big")
	batch := make([]*store.MCPServer, 0, 2000)
	for i := 0; i < 20_000; i++ {
		batch = append(batch, &store.MCPServer{ID: newID(), AccountID: acct.ID, Name: strings.Repeat("n", 100),
			TokenHash: HashToken(NewMCPToken()), Config: Config{Methods: []string{"read"}}})
		if len(batch) == cap(batch) {
			require.NoError(t, e.db.CreateMCPServers(ctx, batch))
			batch = batch[:0]
		}
	}
	require.NoError(t, e.db.ForEachMCPServer(ctx, func(*store.MCPServer) error { return nil }))
	fi, err := os.Stat(e.path)
	require.NoError(t, err)
	mapped := rssFileKB(t)

	sweepCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); e.svc.RunSweeper(sweepCtx, time.Hour) }()
	require.Eventually(t, func() bool { return mapped-rssFileKB(t) > int(fi.Size()/1024/2) }, 10*time.Second, 10*time.Millisecond,
		"the first pass should release at least half of the %d kB database from RssFile (was %d kB)", fi.Size()/1024, mapped)
	stop()
	<-done
}
