package app_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/catalog"
	"github.com/bigin-mcp/bigin-mcp/store"
)

func TestResultBudgetOfTheServer(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{3}, 32)
	db, err := store.Open(filepath.Join(t.TempDir(), "bigin-mcp.db"), store.Options{Key: key, NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	tests := []struct {
		name   string
		budget int
		want   int // 0: refused
	}{
		{"unset is the default", 0, catalog.DefaultMaxResultChars},
		{"smallest", 500, 500},
		{"largest", 1_000_000, 1_000_000},
		{"too small", 499, 0},
		{"too large", 1_000_001, 0},
		{"negative", -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := app.New(context.Background(), db, app.Config{SecretKey: key, PublicURL: "http://127.0.0.1:1", MaxResultChars: tt.budget})
			if tt.want == 0 {
				assert.ErrorContains(t, err, "MaxResultChars must be 500 to 1000000 characters")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, a.Executor.Budget(catalog.Caller{}), "the server's budget")
			assert.Equal(t, 7000, a.Executor.Budget(catalog.Caller{MaxResultChars: 7000}), "a URL's budget wins")
		})
	}
}
