package store

import (
	"testing"
	"time"

	"github.com/bigin-mcp/bigin-mcp/store/internal/kv"
	"github.com/bigin-mcp/bigin-mcp/store/internal/kv/kvtest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/bigin-mcp/bigin-mcp/tokens/storetest"
)

// TestConformance holds the bbolt store to the tokens.Store contract that
// every backend must meet, and its transactions to the kv.Tx contract the
// Store's rules are written against.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) tokens.Store {
		return openTest(t, Options{Now: now, NoSync: true}) // durability has tests of its own
	})
	t.Run("Tx", func(t *testing.T) {
		kvtest.Run(t, func(t *testing.T) kv.Backend { return backend{openTest(t, Options{NoSync: true}).bolt} })
	})
}
