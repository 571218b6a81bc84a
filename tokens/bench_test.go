package tokens_test

import (
	"context"
	"testing"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/stretchr/testify/require"
)

// BenchmarkResolve resolves MCP URL tokens against an index loaded from a
// store of 100,000 MCP servers, as every MCP request does.
func BenchmarkResolve(b *testing.B) {
	const n = 100_000
	e := newTestEnv(b)
	ctx := context.Background()
	acct := e.SeedAccount("bench")
	toks := make([]string, n)
	batch := make([]*tokens.MCPServer, 0, 10_000)
	for i := range toks {
		toks[i] = tokens.NewMCPToken()
		batch = append(batch, &tokens.MCPServer{
			ID: apptest.NewID(), AccountID: acct.ID, Name: "server", TokenHash: tokens.HashToken(toks[i]),
			Config: tokens.Config{Methods: []string{"read"}, Tags: []string{"users", "directory"}},
		})
		if len(batch) == cap(batch) {
			require.NoError(b, e.DB.CreateMCPServers(ctx, batch)) // one transaction per 10,000
			batch = batch[:0]
		}
	}
	e.Reopen() // NewService loads all of them
	require.Equal(b, n, e.Svc.IndexSize())

	b.ReportAllocs()
	i := 0
	for b.Loop() {
		res, err := e.Svc.Resolve(ctx, toks[i%n])
		if err != nil || res == nil {
			b.Fatalf("resolve %d: %v", i, err)
		}
		i++
	}
}

// BenchmarkResolveParallel is BenchmarkResolve from every CPU at once (the
// index's read lock is shared).
func BenchmarkResolveParallel(b *testing.B) {
	e := newTestEnv(b)
	ctx := context.Background()
	acct := e.SeedAccount("bench")
	toks := make([]string, 1000)
	for i := range toks {
		_, toks[i] = e.Mint(acct.ID, nil)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := e.Svc.Resolve(ctx, toks[i%len(toks)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
