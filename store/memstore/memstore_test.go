package memstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/store/internal/kv"
	"github.com/bigin-mcp/bigin-mcp/store/internal/kv/kvtest"
	"github.com/bigin-mcp/bigin-mcp/store/memstore"
	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/bigin-mcp/bigin-mcp/tokens/storetest"
)

// TestConformance holds the memory store to the tokens.Store contract
// that every backend must meet, and its transactions to the kv.Tx
// contract the Store's rules are written against.
func TestConformance(t *testing.T) {
	open := func(t *testing.T, now func() time.Time) *memstore.Store {
		s, err := memstore.New(memstore.Options{Now: now})
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	storetest.Run(t, func(t *testing.T, now func() time.Time) tokens.Store { return open(t, now) })
	t.Run("Tx", func(t *testing.T) {
		kvtest.Run(t, func(t *testing.T) kv.Backend { return memstore.Backend(open(t, nil)) })
	})
}
