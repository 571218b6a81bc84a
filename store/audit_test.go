package store

import (
	"context"
	"testing"
	"time"

	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

func TestAuditPagingNewestFirst(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	db := openTest(t, Options{Now: clock.Now})

	var ids []string // oldest first
	for i := range 5 {
		e := &tokens.AuditEntry{Actor: "system", Action: "tool_call", Tool: string(rune('a' + i)), Outcome: "ok"}
		require.NoError(t, db.AppendAudit(ctx, e))
		id, err := uuid.Parse(e.ID)
		require.NoError(t, err, "AppendAudit fills the ID")
		assert.Equal(t, uuid.Version(7), id.Version())
		assert.Equal(t, clock.Now(), e.Time, "AppendAudit fills the time")
		ids = append(ids, e.ID)
		clock.Advance(time.Second)
	}
	rev := func(s []string) []string {
		out := make([]string, len(s))
		for i, v := range s {
			out[len(s)-1-i] = v
		}
		return out
	}
	tests := []struct {
		name   string
		before string
		limit  int
		want   []string
		more   bool
	}{
		{"newest page", "", 2, rev(ids[3:]), true},
		{"next page", ids[3], 2, rev(ids[1:3]), true},
		{"last page", ids[1], 2, ids[:1], false},
		{"all", "", 10, rev(ids), false},
		{"before the oldest", ids[0], 10, nil, false},
		{"before a later unknown id", "ffffffff", 1, ids[4:], true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := db.Audit(ctx, tt.before, tt.limit)
			require.NoError(t, err)
			var gotIDs []string
			for _, e := range got {
				gotIDs = append(gotIDs, e.ID)
			}
			assert.Equal(t, tt.want, gotIDs)
			assert.Equal(t, tt.more, more)
		})
	}
}

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
