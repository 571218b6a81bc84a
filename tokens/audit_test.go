package tokens_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

func TestAuditFilterAndPaging(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	start := e.Clock.Now()
	// 30 entries, one a minute, over two accounts and two tools.
	for i := range 30 {
		acct, tool, outcome := "a1", "list_all_zohobigin_users", "ok"
		if i%2 == 1 {
			acct = "a2"
		}
		if i%3 == 0 {
			tool, outcome = "delete_a_zohobigin_user_by_id", "INVALID_DATA"
		}
		require.NoError(t, e.DB.AppendAudit(ctx, &tokens.AuditEntry{Time: start.Add(time.Duration(i) * time.Minute),
			Actor: "mcp:s", Action: "tool_call", AccountID: acct, MCPServerID: "s-" + acct, Tool: tool, Outcome: outcome}))
	}
	collect := func(f tokens.AuditFilter, limit int) (all []*tokens.AuditEntry, pages int) {
		before := ""
		for {
			page, next, err := e.Svc.Audit(ctx, f, before, limit)
			require.NoError(t, err)
			all = append(all, page...)
			pages++
			if next == "" {
				return all, pages
			}
			before = next
		}
	}
	for _, tt := range []struct {
		name string
		f    tokens.AuditFilter
		want func(*tokens.AuditEntry) bool
	}{
		{"account", tokens.AuditFilter{AccountID: "a2"}, func(x *tokens.AuditEntry) bool { return x.AccountID == "a2" }},
		{"tool and outcome", tokens.AuditFilter{Tool: "delete_a_zohobigin_user_by_id", Outcome: "INVALID_DATA"}, func(x *tokens.AuditEntry) bool { return x.Tool == "delete_a_zohobigin_user_by_id" }},
		{"time window", tokens.AuditFilter{Since: start.Add(10 * time.Minute), Until: start.Add(20 * time.Minute)}, func(x *tokens.AuditEntry) bool {
			return !x.Time.Before(start.Add(10*time.Minute)) && x.Time.Before(start.Add(20*time.Minute))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, pages := collect(tt.f, 4)
			require.NotEmpty(t, got)
			assert.Greater(t, pages, 1, "paged")
			for i, x := range got {
				assert.True(t, tt.want(x), "entry %d matches", i)
				if i > 0 {
					assert.False(t, x.Time.After(got[i-1].Time), "newest first")
				}
			}
			all, _ := collect(tokens.AuditFilter{}, 100)
			n := 0
			for _, x := range all {
				if x.Action == "tool_call" && tt.want(x) {
					n++
				}
			}
			assert.Equal(t, n, len(got), "every match once")
		})
	}
	_, _, err := e.Svc.Audit(ctx, tokens.AuditFilter{}, "", 0)
	assert.Error(t, err)
}
