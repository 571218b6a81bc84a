package store

import (
	"context"
	"testing"
	"time"

	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

func TestAuditRetention(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, Options{AuditRetention: 3})
	var ids []string
	for range 10 {
		e := &tokens.AuditEntry{Action: "tool_call"}
		require.NoError(t, db.AppendAudit(ctx, e))
		ids = append(ids, e.ID)
	}
	// Appending an existing ID again replaces it and does not grow the count.
	require.NoError(t, db.AppendAudit(ctx, &tokens.AuditEntry{ID: ids[9], Action: "replaced"}))

	got, more, err := db.Audit(ctx, "", 10)
	require.NoError(t, err)
	assert.False(t, more)
	require.Len(t, got, 3)
	assert.Equal(t, []string{ids[9], ids[8], ids[7]}, []string{got[0].ID, got[1].ID, got[2].ID})
	assert.Equal(t, "replaced", got[0].Action)
	require.NoError(t, db.bolt.View(func(tx *bolt.Tx) error {
		assert.Equal(t, uint64(3), tx.Bucket(bucketAudit).Sequence())
		return nil
	}))
}

// TestDeleteAuditBeforeKeepsTheCount: the count bound still holds after
// entries aged out, so it trims no more and no less than it should.
func TestDeleteAuditBeforeKeepsTheCount(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db := openTest(t, Options{AuditRetention: 4, Now: func() time.Time { return now }})
	var ids []string
	for range 4 {
		e := &tokens.AuditEntry{Action: "tool_call"}
		require.NoError(t, db.AppendAudit(ctx, e))
		ids = append(ids, e.ID)
		now = now.Add(time.Hour)
	}
	n, err := db.DeleteAuditBefore(ctx, now.Add(-150*time.Minute)) // the two oldest
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	for range 2 {
		e := &tokens.AuditEntry{Action: "tool_call"}
		require.NoError(t, db.AppendAudit(ctx, e))
		ids = append(ids, e.ID)
	}
	got, _, err := db.Audit(ctx, "", 10)
	require.NoError(t, err)
	var gotIDs []string
	for _, e := range got {
		gotIDs = append(gotIDs, e.ID)
	}
	assert.Equal(t, []string{ids[5], ids[4], ids[3], ids[2]}, gotIDs, "4 kept: the count bound did not trim early")
	require.NoError(t, db.bolt.View(func(tx *bolt.Tx) error {
		assert.Equal(t, uint64(4), tx.Bucket(bucketAudit).Sequence())
		return nil
	}))
}
