//go:build linux

package store

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/procstat"
)

// rssFileKB reads this process's file-backed resident memory.
func rssFileKB(t *testing.T) int {
	t.Helper()
	n, err := procstat.StatusKB(procstat.Self, "RssFile")
	require.NoError(t, err)
	return n
}

// A full walk of the servers maps every page it reads into this process;
// ReleaseMemory gives those pages back and leaves every record readable.
func TestReleaseMemoryDropsReadPages(t *testing.T) {
	db := openTest(t, Options{})
	ctx := context.Background()
	acct := testAccount(t, "big")
	require.NoError(t, db.CreateAccount(ctx, acct))
	const n = 20_000 // about 8 MB of pages
	batch := make([]*MCPServer, 0, 2000)
	for i := 0; i < n; i++ {
		batch = append(batch, testServer(t, acct.ID, strings.Repeat("x", 100)))
		if len(batch) == cap(batch) {
			require.NoError(t, db.CreateMCPServers(ctx, batch))
			batch = batch[:0]
		}
	}
	walk := func() int {
		seen := 0
		require.NoError(t, db.ForEachMCPServer(ctx, func(*MCPServer) error { seen++; return nil }))
		return seen
	}
	require.Equal(t, n, walk())
	fi, err := os.Stat(db.Path())
	require.NoError(t, err)
	mapped := rssFileKB(t)

	require.NoError(t, db.ReleaseMemory())
	released := rssFileKB(t)
	assert.Greater(t, mapped-released, int(fi.Size()/1024/2),
		"RssFile %d kB -> %d kB: at least half of the %d kB file should leave this process's resident memory", mapped, released, fi.Size()/1024)

	assert.Equal(t, n, walk(), "every record is still readable after the release")
	more := testServer(t, acct.ID, "after")
	require.NoError(t, db.CreateMCPServer(ctx, more), "writes still work")
	got, err := db.MCPServerByTokenHash(ctx, more.TokenHash)
	require.NoError(t, err)
	assert.Equal(t, more.ID, got.ID)
}

func TestMappingLenFindsTheDatabaseMap(t *testing.T) {
	db := openTest(t, Options{})
	n, err := mappingLen(db.bolt.Info().Data)
	require.NoError(t, err)
	fi, err := os.Stat(db.Path())
	require.NoError(t, err)
	assert.GreaterOrEqual(t, int64(n), fi.Size(), "bbolt maps at least the whole file")

	_, err = mappingLen(1) // no mapping starts at address 1
	assert.Error(t, err)
}
