package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// RetentionFactory opens a new, empty Store whose clock is now and that
// keeps at most perAccount audit entries of each account, checking an
// account's bound on every append of that account.
type RetentionFactory func(t *testing.T, now func() time.Time, perAccount int) tokens.Store

// RunAuditRetention runs the conformance tests of the audit log's bound
// per account against stores that open makes.
func RunAuditRetention(t *testing.T, open RetentionFactory) {
	t.Run("AuditPerAccount", func(t *testing.T) { testAuditPerAccount(t, open) })
}

// testAuditPerAccount: an account that writes a flood of entries trims
// only its own oldest ones; every other account's history, and the
// entries of no account, stay. Aging out entries leaves the bound
// counting the entries that are left.
func testAuditPerAccount(t *testing.T, open RetentionFactory) {
	ctx := context.Background()
	clock := newTestClock()
	const keep = 5
	db := open(t, clock.Now, keep)
	at := map[string]time.Time{} // entry id → its time
	appendFor := func(account string, n int) []string {
		var ids []string
		for range n {
			e := &tokens.AuditEntry{Actor: "system", Action: "tool_call", AccountID: account, Tool: "t", Outcome: "ok"}
			require.NoError(t, db.AppendAudit(ctx, e))
			ids = append(ids, e.ID)
			at[e.ID] = e.Time
			clock.Advance(time.Second)
		}
		return ids
	}
	byAccount := func() map[string][]string {
		all, _, err := db.Audit(ctx, "", 100)
		require.NoError(t, err)
		m := map[string][]string{}
		for i := len(all) - 1; i >= 0; i-- {
			m[all[i].AccountID] = append(m[all[i].AccountID], all[i].ID)
		}
		return m
	}

	quiet := appendFor("acct-quiet", 3)
	admin := appendFor("", 3)
	flood := appendFor("acct-flood", 40)
	got := byAccount()
	assert.Equal(t, quiet, got["acct-quiet"], "another account's history stays whole")
	assert.Equal(t, admin, got[""], "entries of no account stay")
	assert.Equal(t, flood[len(flood)-keep:], got["acct-flood"], "the flooding account keeps its newest entries")

	quiet = append(quiet, appendFor("acct-quiet", 4)...)
	got = byAccount()
	assert.Equal(t, quiet[len(quiet)-keep:], got["acct-quiet"], "each account is held to the same bound")
	assert.Equal(t, flood[len(flood)-keep:], got["acct-flood"])

	// Age out everything but the last two of the flood, then add three:
	// the bound counts what is left, so all five are there.
	_, err := db.DeleteAuditBefore(ctx, at[flood[len(flood)-2]])
	require.NoError(t, err)
	more := appendFor("acct-flood", 3)
	got = byAccount()
	assert.Equal(t, append(flood[len(flood)-2:], more...), got["acct-flood"])
}
