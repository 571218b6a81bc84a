package memstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/store/memstore"
	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/bigin-mcp/bigin-mcp/tokens/storetest"
)

// TestConformance holds the memory store to the tokens.Store contract
// that every backend must meet.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) tokens.Store {
		s, err := memstore.New(memstore.Options{Now: now})
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
