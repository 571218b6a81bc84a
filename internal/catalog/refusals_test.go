package catalog_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// callTool sends one tools/call to an MCP URL over streamable HTTP and
// requires an answer.
func callTool(t *testing.T, url, tool, args string) {
	t.Helper()
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":%q,"arguments":%s}}`, tool, args)
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
}

// callsOf returns a URL's tool call entries, oldest first.
func callsOf(t *testing.T, e *apptest.Env, serverID string) []*tokens.AuditEntry {
	t.Helper()
	all, _, err := e.Svc.Audit(context.Background(), tokens.AuditFilter{MCPServerID: serverID}, "", 1000)
	require.NoError(t, err)
	var out []*tokens.AuditEntry
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Action == "tool_call" {
			out = append(out, all[i])
		}
	}
	return out
}

// tally sums how many calls the entries stand for, by outcome.
func tally(entries []*tokens.AuditEntry) map[string]int {
	m := map[string]int{}
	for _, en := range entries {
		m[en.Outcome] += max(en.Count, 1)
	}
	return m
}

// TestRepeatedRefusalsAreAggregated: calls refused before Zoho (over a
// rate limit, or with invalid arguments) are audited one entry for the
// first of a minute, and one entry counting the rest of that minute's,
// per URL, tool and outcome; so a caller hammering its URL writes a few
// entries a minute, not one a call, and the log still says how many were
// refused.
func TestRepeatedRefusalsAreAggregated(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	acct := e.ConnectAccount("us")
	limited, url := e.MintURL(acct, map[string]any{"rate_limit": map[string]any{"requests": 1, "per_seconds": 3600}})
	other, otherURL := e.MintURL(acct, nil)

	for range 200 {
		callTool(t, url, "list_all_zohobigin_roles", `{}`)
	}
	for range 30 {
		callTool(t, otherURL, "list_all_zohobigin_users", `{"limit":0}`)
	}
	// The minute ends: its aggregated entries are written.
	e.Clock.Advance(time.Minute)
	require.Eventually(t, func() bool { return len(callsOf(t, e, limited)) == 3 && len(callsOf(t, e, other)) == 2 },
		20*time.Second, 10*time.Millisecond, "three entries for 200 calls, two for 30")
	e.App.Flush()
	got := callsOf(t, e, limited)
	require.Len(t, got, 3)
	assert.Equal(t, "ok", got[0].Outcome)
	assert.Equal(t, tokens.CodeRateLimited, got[1].Outcome)
	assert.Zero(t, got[1].Count, "the first refusal is an entry of its own")
	agg := got[2]
	assert.Equal(t, tokens.CodeRateLimited, agg.Outcome)
	assert.Equal(t, 198, agg.Count, "it says how many more were refused in that minute")
	assert.Equal(t, "list_all_zohobigin_roles", agg.Tool)
	assert.Equal(t, 429, agg.Status)
	assert.Equal(t, map[string]int{"ok": 1, tokens.CodeRateLimited: 199}, tally(got), "every call is accounted for")
	assert.Equal(t, map[string]int{tokens.CodeInvalidArgument: 30}, tally(callsOf(t, e, other)))

	// A new minute starts a new first entry; refusals still counting at
	// shutdown are written by Flush.
	for range 5 {
		callTool(t, url, "list_all_zohobigin_roles", `{}`)
	}
	e.App.Flush()
	got = callsOf(t, e, limited)
	require.Len(t, got, 5)
	assert.Zero(t, got[3].Count)
	assert.Equal(t, 4, got[4].Count)
	assert.Equal(t, map[string]int{"ok": 1, tokens.CodeRateLimited: 204}, tally(got))
}
