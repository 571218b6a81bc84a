package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAccountCRUD(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	db := openTest(t, Options{Now: clock.Now})

	a := testAccount(t, "acme")
	require.NoError(t, db.CreateAccount(ctx, a))
	assert.Equal(t, clock.Now(), a.CreatedAt, "CreateAccount fills CreatedAt")
	assert.Equal(t, clock.Now(), a.UpdatedAt)
	assert.Equal(t, tokens.StatusActive, a.Status, "empty status defaults to active")

	got, err := db.Account(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, a, got)
	got.Name = "mutated"
	again, err := db.Account(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, "acme", again.Name, "returned records are copies")

	clock.Advance(time.Minute)
	errInvalid := errors.New("name must not be empty")
	tests := []struct {
		name    string
		id      string
		fn      func(*tokens.Account) error
		wantErr error
		check   func(t *testing.T, a *tokens.Account)
	}{
		{
			name: "rename and rotate tokens",
			id:   a.ID,
			fn: func(x *tokens.Account) error {
				x.Name, x.AccessToken, x.Status = "acme 2", "at-rotated", tokens.StatusNeedsReauth
				return nil
			},
			check: func(t *testing.T, x *tokens.Account) {
				assert.Equal(t, "acme 2", x.Name)
				assert.Equal(t, "at-rotated", x.AccessToken)
				assert.Equal(t, tokens.StatusNeedsReauth, x.Status)
				assert.Equal(t, a.RefreshToken, x.RefreshToken)
				assert.Equal(t, clock.Now(), x.UpdatedAt)
			},
		},
		{
			name: "ID and CreatedAt cannot change",
			id:   a.ID,
			fn:   func(x *tokens.Account) error { x.ID, x.CreatedAt = "other", time.Time{}; return nil },
			check: func(t *testing.T, x *tokens.Account) {
				assert.Equal(t, a.ID, x.ID)
				assert.Equal(t, a.CreatedAt, x.CreatedAt)
			},
		},
		{
			name:    "fn error is returned unchanged and nothing is stored",
			id:      a.ID,
			fn:      func(x *tokens.Account) error { x.Name = ""; return errInvalid },
			wantErr: errInvalid,
		},
		{
			name:    "unknown account",
			id:      "nope",
			fn:      func(*tokens.Account) error { t.Fatal("fn called"); return nil },
			wantErr: tokens.ErrNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.UpdateAccount(ctx, tt.id, tt.fn)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
				if tt.wantErr == errInvalid {
					assert.Same(t, errInvalid, err)
				}
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			tt.check(t, got)
			stored, err := db.Account(ctx, a.ID)
			require.NoError(t, err)
			assert.Equal(t, got, stored)
		})
	}
	stored, err := db.Account(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, "acme 2", stored.Name, "failed update left no trace")

	assert.ErrorIs(t, db.CreateAccount(ctx, &tokens.Account{ID: a.ID}), tokens.ErrConflict)
	assert.ErrorContains(t, db.CreateAccount(ctx, &tokens.Account{}), "ID is empty")

	deleted, err := db.DeleteAccount(ctx, a.ID)
	require.NoError(t, err)
	assert.Empty(t, deleted)
	_, err = db.Account(ctx, a.ID)
	assert.ErrorIs(t, err, tokens.ErrNotFound)
	_, err = db.DeleteAccount(ctx, a.ID)
	assert.ErrorIs(t, err, tokens.ErrNotFound)
}

func TestAccountsPaging(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, Options{})
	var ids []string
	for i := range 5 {
		a := testAccount(t, string(rune('a'+i)))
		require.NoError(t, db.CreateAccount(ctx, a))
		ids = append(ids, a.ID)
	}
	tests := []struct {
		name  string
		after string
		limit int
		want  []string
		more  bool
	}{
		{"first page", "", 2, ids[0:2], true},
		{"middle page", ids[1], 2, ids[2:4], true},
		{"last page", ids[3], 2, ids[4:5], false},
		{"exact fit", "", 5, ids, false},
		{"past the end", ids[4], 2, nil, false},
		{"after an unknown id between", ids[1] + "0", 10, ids[2:], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := db.Accounts(ctx, tt.after, tt.limit)
			require.NoError(t, err)
			var gotIDs []string
			for _, a := range got {
				gotIDs = append(gotIDs, a.ID)
				assert.NotEmpty(t, a.RefreshToken, "secrets are unsealed in lists")
			}
			assert.Equal(t, tt.want, gotIDs)
			assert.Equal(t, tt.more, more)
		})
	}
}
