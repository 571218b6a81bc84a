package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// testLastAPITokenRace: two callers deleting the last two API tokens at
// once leave one of them: the "last token" rule holds across racing
// transactions, not only one after another.
func testLastAPITokenRace(t *testing.T, open Factory) {
	ctx := context.Background()
	for round := range 10 {
		db := open(t, nil)
		var ids []string
		for range 2 {
			tok := &tokens.APIToken{ID: NewID(t), Name: "admin", TokenHash: HashOf(RandomSecret(t, "bmcp_api_"))}
			require.NoError(t, db.CreateAPIToken(ctx, tok))
			ids = append(ids, tok.ID)
		}
		start := make(chan struct{})
		errs := make([]error, len(ids))
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Go(func() { <-start; errs[i] = db.DeleteAPIToken(ctx, id) })
		}
		close(start)
		wg.Wait()
		n, err := db.CountAPITokens(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n, "round %d: one token is left (the deletes returned %v)", round, errs)
		assert.True(t, (errs[0] == nil) != (errs[1] == nil), "exactly one delete succeeds: %v", errs)
		for _, err := range errs {
			if err != nil {
				assert.ErrorIs(t, err, tokens.ErrConflict)
			}
		}
	}
}
