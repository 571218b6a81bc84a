package store

import (
	"testing"
	"time"

	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/bigin-mcp/bigin-mcp/tokens/storetest"
)

// TestConformance holds the bbolt store to the tokens.Store contract that
// every backend must meet.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) tokens.Store {
		return openTest(t, Options{Now: now, NoSync: true}) // durability has tests of its own
	})
}
