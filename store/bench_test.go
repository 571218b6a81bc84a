package store

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/bigin-mcp/bigin-mcp/tokens/storetest"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
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
		require.NoError(b, db.bolt.Update(func(tx *bolt.Tx) error {
			for i := start; i < start+perTx; i++ {
				var tok [8]byte
				binary.BigEndian.PutUint64(tok[:], uint64(i))
				hashes[i] = storetest.HashOf(string(tok[:]))
				s := &tokens.MCPServer{
					ID: storetest.NewID(b), AccountID: acct.ID, Name: "server", TokenHash: hashes[i],
					Config: tokens.Config{Methods: []string{"read"}, Tags: []string{"users", "directory"}},
				}
				if err := db.putNewServer(tx, s); err != nil {
					return err
				}
			}
			return nil
		}))
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
