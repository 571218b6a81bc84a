package store

import (
	"context"
	"testing"

	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAPITokens(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	db := openTest(t, Options{Now: clock.Now})

	n, err := db.CountAPITokens(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)

	var toks []*tokens.APIToken
	for i := range 3 {
		tok := &tokens.APIToken{ID: newID(t), Name: string(rune('a' + i)), TokenHash: hashOf(randomSecret(t, "bmcp_api_"))}
		require.NoError(t, db.CreateAPIToken(ctx, tok))
		assert.Equal(t, clock.Now(), tok.CreatedAt)
		toks = append(toks, tok)
	}

	t.Run("create errors", func(t *testing.T) {
		tests := []struct {
			name string
			tok  *tokens.APIToken
			is   error
			msg  string
		}{
			{"hash taken", &tokens.APIToken{ID: newID(t), TokenHash: toks[0].TokenHash}, tokens.ErrConflict, "hash already in use"},
			{"ID taken", &tokens.APIToken{ID: toks[0].ID, TokenHash: hashOf("x")}, tokens.ErrConflict, "already exists"},
			{"no ID", &tokens.APIToken{TokenHash: hashOf("x")}, nil, "ID is empty"},
			{"no hash", &tokens.APIToken{ID: newID(t)}, nil, "no token hash"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := db.CreateAPIToken(ctx, tt.tok)
				if tt.is != nil {
					assert.ErrorIs(t, err, tt.is)
				}
				assert.ErrorContains(t, err, tt.msg)
			})
		}
	})

	t.Run("lookup and list", func(t *testing.T) {
		got, err := db.APITokenByHash(ctx, toks[1].TokenHash)
		require.NoError(t, err)
		assert.Equal(t, toks[1], got)
		_, err = db.APITokenByHash(ctx, hashOf("unknown"))
		assert.ErrorIs(t, err, tokens.ErrNotFound)

		page, more, err := db.APITokens(ctx, "", 2)
		require.NoError(t, err)
		assert.Equal(t, toks[:2], page)
		assert.True(t, more)
		page, more, err = db.APITokens(ctx, toks[1].ID, 2)
		require.NoError(t, err)
		assert.Equal(t, toks[2:], page)
		assert.False(t, more)

		n, err := db.CountAPITokens(ctx)
		require.NoError(t, err)
		assert.Equal(t, 3, n)
	})

	t.Run("delete down to the last", func(t *testing.T) {
		assert.ErrorIs(t, db.DeleteAPIToken(ctx, "missing"), tokens.ErrNotFound)
		require.NoError(t, db.DeleteAPIToken(ctx, toks[0].ID))
		_, err := db.APITokenByHash(ctx, toks[0].TokenHash)
		assert.ErrorIs(t, err, tokens.ErrNotFound, "a deleted token stops working at once")
		require.NoError(t, db.DeleteAPIToken(ctx, toks[2].ID))

		err = db.DeleteAPIToken(ctx, toks[1].ID)
		assert.ErrorIs(t, err, tokens.ErrConflict)
		assert.ErrorContains(t, err, "last one")
		_, err = db.APITokenByHash(ctx, toks[1].TokenHash)
		assert.NoError(t, err, "the last token still works")
		n, err := db.CountAPITokens(ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, n)

		// The hash of a deleted token can be used again.
		require.NoError(t, db.CreateAPIToken(ctx, &tokens.APIToken{ID: newID(t), TokenHash: toks[0].TokenHash}))
	})
}
