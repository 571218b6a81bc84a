package store

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/bigin-mcp/bigin-mcp/tokens/storetest"
	"github.com/stretchr/testify/require"
)

// BenchmarkMCPServerByTokenHash looks servers up by token hash, as every MCP
// request does, in a database of 100,000 servers.
func BenchmarkMCPServerByTokenHash(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	db := openTest(b, Options{})
	acct := storetest.Account(b, "bench")
	require.NoError(b, db.CreateAccount(ctx, acct))

	hashes := make([][32]byte, n)
	const perTx = 10_000
	for start := 0; start < n; start += perTx {
		batch := make([]*tokens.MCPServer, 0, perTx)
		for i := start; i < start+perTx; i++ {
			var tok [8]byte
			binary.BigEndian.PutUint64(tok[:], uint64(i))
			hashes[i] = storetest.HashOf(string(tok[:]))
			batch = append(batch, &tokens.MCPServer{
				ID: storetest.NewID(b), AccountID: acct.ID, Name: "server", TokenHash: hashes[i],
				Config: tokens.Config{Methods: []string{"read"}, Tags: []string{"users", "directory"}},
			})
		}
		require.NoError(b, db.CreateMCPServers(ctx, batch)) // one transaction each
	}

	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s, err := db.MCPServerByTokenHash(ctx, hashes[i%n])
		if err != nil || s.TokenHash != hashes[i%n] {
			b.Fatalf("lookup %d: %v", i, err)
		}
		i++
	}
}
