package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// testDeleteAuditBefore: retention deletes exactly the entries older than
// the cutoff, keeps the rest in order, and appends still work afterwards.
func testDeleteAuditBefore(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := newTestClock()
	db := open(t, clock.Now)
	start := clock.Now()

	var ids []string // oldest first, one a day
	for range 6 {
		e := &tokens.AuditEntry{Actor: "system", Action: "tool_call", Tool: "t", Outcome: "ok", Args: map[string]any{"id": "42"}, Status: 200, LatencyMS: 1.5, Surface: tokens.SurfaceMCP}
		require.NoError(t, db.AppendAudit(ctx, e))
		ids = append(ids, e.ID)
		clock.Advance(24 * time.Hour)
	}
	remaining := func() []string {
		got, _, err := db.Audit(ctx, "", 100)
		require.NoError(t, err)
		var out []string
		for i := len(got) - 1; i >= 0; i-- {
			out = append(out, got[i].ID)
		}
		return out
	}

	tests := []struct {
		name    string
		cutoff  time.Time
		deleted int
		want    []string
	}{
		{"nothing is older than the first entry", start, 0, ids},
		{"strictly before: an entry at the cutoff stays", start.Add(24 * time.Hour), 1, ids[1:]},
		{"between entries", start.Add(60 * time.Hour), 2, ids[3:]},
		{"an earlier cutoff deletes nothing more", start, 0, ids[3:]},
		{"everything", start.Add(30 * 24 * time.Hour), 3, nil},
		{"an empty log", start.Add(60 * 24 * time.Hour), 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := db.DeleteAuditBefore(ctx, tt.cutoff)
			require.NoError(t, err)
			assert.Equal(t, tt.deleted, n)
			assert.Equal(t, tt.want, remaining())
		})
	}

	e := &tokens.AuditEntry{Actor: "system", Action: "tool_call", Outcome: "ok"}
	require.NoError(t, db.AppendAudit(ctx, e))
	assert.Equal(t, []string{e.ID}, remaining(), "appending after a full purge works")
}

// testAuditEntryFields: every field of an entry comes back as written.
func testAuditEntryFields(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := newTestClock()
	db := open(t, clock.Now)
	e := &tokens.AuditEntry{
		Actor: "mcp:s1", Action: "tool_call", AccountID: "a1", MCPServerID: "s1", Tool: "get_single_zohobigin_user_by_id",
		Outcome: "INVALID_DATA", Surface: tokens.SurfaceMCP, APITokenID: "k1", Status: 400, LatencyMS: 12.25,
		Args: map[string]any{"id": "123", "limit": float64(5), "fields": []any{"id", "email"}}, TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
		UserZUID: "99", UserEmail: "u@example.com", OAuthClient: "c1",
	}
	require.NoError(t, db.AppendAudit(ctx, e))
	got, _, err := db.Audit(ctx, "", 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, e, got[0])
	assert.Equal(t, clock.Now(), got[0].Time)
}
