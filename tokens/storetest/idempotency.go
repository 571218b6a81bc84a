package storetest

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// testIdempotencyKeys holds IdempotencyStore to its promises: one claim
// per live key (also among concurrent claimers), the outcome replaces
// only its own claim, a release frees only an unfinished claim of its
// own, an expired record is replaced and swept, and keys of different
// scopes are independent.
func testIdempotencyKeys(t *testing.T, open Factory) {
	ctx := context.Background()
	clk := newTestClock()
	db := open(t, clk.Now)
	now := clk.Now().UTC()
	claim := func(scope, key, claimID string, at time.Time) *tokens.IdempotencyRecord {
		return &tokens.IdempotencyRecord{Scope: scope, Key: key, ClaimID: claimID, Tool: "create_zohobigin_records",
			Fingerprint: "f1", CreatedAt: at, ExpiresAt: at.Add(2 * time.Minute)}
	}

	first := claim("mcp:s1", "k1", "c1", now)
	held, err := db.ClaimIdempotencyKey(ctx, first)
	require.NoError(t, err)
	assert.Nil(t, held)

	t.Run("a live claim holds the key", func(t *testing.T) {
		held, err := db.ClaimIdempotencyKey(ctx, claim("mcp:s1", "k1", "c2", now.Add(time.Second)))
		require.ErrorIs(t, err, tokens.ErrConflict)
		require.NotNil(t, held)
		assert.Equal(t, "c1", held.ClaimID)
		assert.False(t, held.Done)
		assert.Equal(t, "f1", held.Fingerprint)
	})
	t.Run("another scope has its own keys", func(t *testing.T) {
		held, err := db.ClaimIdempotencyKey(ctx, claim("rest:t1:a1", "k1", "c3", now))
		require.NoError(t, err)
		assert.Nil(t, held)
	})
	t.Run("only the claim's own call finishes it", func(t *testing.T) {
		other := *first
		other.ClaimID, other.Done = "c9", true
		require.ErrorIs(t, db.FinishIdempotencyKey(ctx, &other), tokens.ErrConflict)
		missing := claim("mcp:s1", "never-claimed", "c1", now)
		require.ErrorIs(t, db.FinishIdempotencyKey(ctx, missing), tokens.ErrNotFound)

		done := *first
		done.Done, done.Result, done.Text, done.Failed = true, []byte(`{"result":[{"index":0,"id":"1"}]}`), "", false
		done.ExpiresAt = now.Add(24 * time.Hour)
		require.NoError(t, db.FinishIdempotencyKey(ctx, &done))
		held, err := db.ClaimIdempotencyKey(ctx, claim("mcp:s1", "k1", "c4", now.Add(time.Hour)))
		require.ErrorIs(t, err, tokens.ErrConflict)
		assert.True(t, held.Done)
		assert.Equal(t, `{"result":[{"index":0,"id":"1"}]}`, string(held.Result), "the outcome comes back byte for byte")
		held.Result[0] = 'X'
		again, _ := db.ClaimIdempotencyKey(ctx, claim("mcp:s1", "k1", "c5", now.Add(time.Hour)))
		assert.Equal(t, byte('{'), again.Result[0], "records returned are copies")
	})
	t.Run("a release frees only an unfinished claim of its own", func(t *testing.T) {
		require.NoError(t, db.ReleaseIdempotencyKey(ctx, "mcp:s1", "k1", "c1"))
		_, err := db.ClaimIdempotencyKey(ctx, claim("mcp:s1", "k1", "c6", now.Add(time.Hour)))
		require.ErrorIs(t, err, tokens.ErrConflict, "a finished outcome stays")

		_, err = db.ClaimIdempotencyKey(ctx, claim("mcp:s2", "k2", "c7", now))
		require.NoError(t, err)
		require.NoError(t, db.ReleaseIdempotencyKey(ctx, "mcp:s2", "k2", "someone-else"))
		_, err = db.ClaimIdempotencyKey(ctx, claim("mcp:s2", "k2", "c8", now))
		require.ErrorIs(t, err, tokens.ErrConflict, "another call's release changes nothing")
		require.NoError(t, db.ReleaseIdempotencyKey(ctx, "mcp:s2", "k2", "c7"))
		_, err = db.ClaimIdempotencyKey(ctx, claim("mcp:s2", "k2", "c8", now))
		require.NoError(t, err, "released, the key can be claimed again")
		require.NoError(t, db.ReleaseIdempotencyKey(ctx, "mcp:s2", "never", "c1"), "releasing a missing key is not an error")
	})
	t.Run("an expired record is replaced", func(t *testing.T) {
		_, err := db.ClaimIdempotencyKey(ctx, claim("mcp:s3", "k3", "c10", now))
		require.NoError(t, err)
		_, err = db.ClaimIdempotencyKey(ctx, claim("mcp:s3", "k3", "c11", now.Add(2*time.Minute)))
		require.NoError(t, err, "a claim lapses at its ExpiresAt (its call died)")
	})
	t.Run("keys of any bytes", func(t *testing.T) {
		for _, k := range []string{"a/b\x00c", strings.Repeat("é", 32), "(Last_Name:equals:x)"} {
			_, err := db.ClaimIdempotencyKey(ctx, claim("mcp:s4", k, "c", now))
			require.NoError(t, err, "%q", k)
			_, err = db.ClaimIdempotencyKey(ctx, claim("mcp:s4", k, "d", now))
			require.ErrorIs(t, err, tokens.ErrConflict, "%q", k)
		}
		_, err := db.ClaimIdempotencyKey(ctx, claim("mcp:s4", strings.Repeat("k", tokens.MaxIdempotencyKey+1), "c", now))
		require.Error(t, err)
		_, err = db.ClaimIdempotencyKey(ctx, claim("mcp:s4", "", "c", now))
		require.Error(t, err)
	})
	t.Run("concurrent claims: one wins", func(t *testing.T) {
		var wg sync.WaitGroup
		wins := make(chan string, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := string(rune('A' + i))
				if _, err := db.ClaimIdempotencyKey(ctx, claim("mcp:race", "k", id, now)); err == nil {
					wins <- id
				} else {
					assert.ErrorIs(t, err, tokens.ErrConflict)
				}
			}()
		}
		wg.Wait()
		close(wins)
		var got []string
		for w := range wins {
			got = append(got, w)
		}
		assert.Len(t, got, 1, "exactly one claimer holds the key")
	})
	t.Run("sweep", func(t *testing.T) {
		n, err := db.DeleteExpiredIdempotencyKeys(ctx, now.Add(time.Hour))
		require.NoError(t, err)
		assert.Positive(t, n, "the claims of two minutes are gone an hour later")
		_, err = db.ClaimIdempotencyKey(ctx, claim("mcp:s1", "k1", "c12", now.Add(time.Hour)))
		require.ErrorIs(t, err, tokens.ErrConflict, "the day-long outcome is still there")
		n, err = db.DeleteExpiredIdempotencyKeys(ctx, now.Add(25*time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 1, n, "then the outcome")
		n, err = db.DeleteExpiredIdempotencyKeys(ctx, now.Add(25*time.Hour))
		require.NoError(t, err)
		assert.Zero(t, n)
		_, err = db.ClaimIdempotencyKey(ctx, claim("mcp:s1", "k1", "c13", now.Add(25*time.Hour)))
		require.NoError(t, err)
	})
}

// testIdempotencySweepSpansBatches: a sweep over more records than one
// transaction reads deletes every expired one, and keeps the live ones
// between them.
func testIdempotencySweepSpansBatches(t *testing.T, open Factory) {
	ctx := context.Background()
	clk := newTestClock()
	db := open(t, clk.Now)
	now := clk.Now().UTC()
	const n = 600
	for i := range n {
		ttl := time.Minute
		if i%3 == 0 {
			ttl = time.Hour
		}
		_, err := db.ClaimIdempotencyKey(ctx, &tokens.IdempotencyRecord{Scope: "mcp:s", Key: "k" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strconv.Itoa(i),
			ClaimID: "c", Tool: "t", Fingerprint: "f", CreatedAt: now, ExpiresAt: now.Add(ttl)})
		require.NoError(t, err)
	}
	deleted, err := db.DeleteExpiredIdempotencyKeys(ctx, now.Add(2*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, n-n/3, deleted)
	deleted, err = db.DeleteExpiredIdempotencyKeys(ctx, now.Add(2*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, n/3, deleted)
}
