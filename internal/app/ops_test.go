package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/internal/clock/clocktest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// apiCalls counts the sandbox's API requests to a path.
func apiCalls(env *apptest.Env, path string) int {
	n := 0
	for _, r := range env.Sandboxes["us"].APIRequests() {
		if r.Path == path {
			n++
		}
	}
	return n
}

// callConcurrently makes n calls of the tool at once and returns how many
// succeeded and the structured errors of the others.
func callConcurrently(t *testing.T, cs []*sdk.ClientSession, n int, tool string) (ok int, errs []map[string]any) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			res, err := cs[i%len(cs)].CallTool(ctx, &sdk.CallToolParams{Name: tool})
			if !assert.NoError(t, err) {
				return
			}
			raw, _ := json.Marshal(res.StructuredContent)
			var out map[string]any
			_ = json.Unmarshal(raw, &out)
			mu.Lock()
			defer mu.Unlock()
			if res.IsError {
				e, _ := out["error"].(map[string]any)
				errs = append(errs, e)
			} else {
				ok++
			}
		}()
	}
	wg.Wait()
	return ok, errs
}

func TestRateLimitHoldsUnderConcurrentCalls(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{})
	acct := env.ConnectAccount("us")
	m, tok := env.Mint(acct, map[string]any{"name": "limited", "config": map[string]any{"rate_limit": map[string]any{"requests": 7, "per_seconds": 60}}})
	assert.Equal(t, map[string]any{"requests": 7.0, "per_seconds": 60.0}, m["config"].(map[string]any)["rate_limit"], "the config shows the limit")
	cs := env.MustConnect(env.URL+"/mcp/"+tok, "streamable")

	const path = "/bigin/v2/settings/roles"
	ok, errs := callConcurrently(t, []*sdk.ClientSession{cs}, 50, "list_all_zohobigin_roles")
	assert.Equal(t, 7, ok, "the budget's calls pass")
	require.Len(t, errs, 43)
	assert.Equal(t, 7, apiCalls(env, path), "nothing beyond the limit reached Zoho")
	for _, e := range errs {
		assert.Equal(t, "rate_limited", e["code"])
		assert.Equal(t, 429.0, e["status"])
		assert.Greater(t, e["retry_after_seconds"], 0.0)
		assert.LessOrEqual(t, e["retry_after_seconds"], 9.0, "one call refills in 60/7 s")
		assert.Equal(t, 7.0, e["ratelimit"].(map[string]any)["limit"])
		assert.Contains(t, e["message"], "MCP URL's rate limit of 7 calls per 60 seconds")
	}

	env.Clock.Advance(60 * time.Second)
	res, _ := apptest.CallTool(t, cs, "list_all_zohobigin_roles", nil)
	assert.False(t, res.IsError, "the budget refills")

	// The account's limit binds all its URLs together; the URL's own
	// limit is removed with null.
	env.AdminCall("PATCH", "/admin/integrated-accounts/"+acct, map[string]any{"rate_limit": map[string]any{"requests": 4, "per_seconds": 3600}}, http.StatusOK)
	env.AdminCall("PATCH", "/admin/integrated-accounts/"+acct+"/mcp/"+m["id"].(string), map[string]any{"config": map[string]any{"rate_limit": nil}}, http.StatusOK)
	_, other := env.MintURL(acct, nil)
	cs2 := env.MustConnect(other, "streamable")
	before := apiCalls(env, path)
	ok, errs = callConcurrently(t, []*sdk.ClientSession{cs, cs2}, 50, "list_all_zohobigin_roles")
	assert.Equal(t, 4, ok)
	assert.Len(t, errs, 46)
	assert.Equal(t, before+4, apiCalls(env, path), "nothing beyond the account's limit reached Zoho")
	for _, e := range errs {
		assert.Contains(t, e["message"], "Bigin account's rate limit of 4 calls per 3600 seconds")
	}

	// Refused calls are audited.
	env.App.Flush()
	page := env.AdminCall("GET", "/admin/audit?outcome=rate_limited&limit=100", nil, http.StatusOK)
	entries := page["result"].([]any)
	assert.Len(t, entries, 43+46)
	first := entries[0].(map[string]any)
	assert.Equal(t, 429.0, first["status"])
	assert.Equal(t, "mcp", first["surface"])
}

func TestRateLimitValidation(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{})
	acct := env.ConnectAccount("us")
	tests := []struct {
		name  string
		limit any
		want  string
	}{
		{"zero requests", map[string]any{"requests": 0, "per_seconds": 60}, "config.rate_limit.requests must be a whole number from 1 to 1000000"},
		{"no window", map[string]any{"requests": 5}, "config.rate_limit.per_seconds must be a whole number of seconds from 1 to 86400"},
		{"window over a day", map[string]any{"requests": 5, "per_seconds": 86401}, "per_seconds"},
		{"not a number", map[string]any{"requests": "five", "per_seconds": 60}, `config.rate_limit must be an object {"requests": N, "per_seconds": S}`},
		{"unknown field", map[string]any{"requests": 5, "per_minute": 1}, "config.rate_limit must be an object"},
		{"not an object", 5, "config.rate_limit must be an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.Request("POST", "/admin/integrated-accounts/"+acct+"/mcp", map[string]any{"name": "x", "config": map[string]any{"rate_limit": tt.limit}})
			require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
			code, msg := r.ErrCode(t)
			assert.Equal(t, "invalid_argument", code)
			assert.Contains(t, msg, tt.want)
			r = env.Request("PATCH", "/admin/integrated-accounts/"+acct, map[string]any{"rate_limit": tt.limit})
			require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
		})
	}
	got := env.AdminCall("GET", "/admin/integrated-accounts/"+acct, nil, http.StatusOK)
	assert.Nil(t, got["rate_limit"], "no limit is null")
	got = env.AdminCall("PATCH", "/admin/integrated-accounts/"+acct, map[string]any{"rate_limit": map[string]any{"requests": 10, "per_seconds": 1}}, http.StatusOK)
	assert.Equal(t, map[string]any{"requests": 10.0, "per_seconds": 1.0}, got["rate_limit"])
	got = env.AdminCall("PATCH", "/admin/integrated-accounts/"+acct, map[string]any{"name": "renamed"}, http.StatusOK)
	assert.NotNil(t, got["rate_limit"], "a PATCH without rate_limit keeps it")
	got = env.AdminCall("PATCH", "/admin/integrated-accounts/"+acct, map[string]any{"rate_limit": nil}, http.StatusOK)
	assert.Nil(t, got["rate_limit"], "null removes it")
}

// auditEnv is a stack with a fixed fake clock and some audited traffic:
// three calls on one URL and one on another, an hour apart.
func auditEnv(t *testing.T) (env *apptest.Env, acct, url1, url2 string, start time.Time) {
	start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	env = apptest.New(t, apptest.Options{Clock: clocktest.New(start)})
	acct = env.ConnectAccount("us")
	url1, u1 := env.MintURL(acct, nil)
	url2, u2 := env.MintURL(acct, map[string]any{"methods": []string{"read"}})
	cs1 := env.MustConnect(u1, "streamable")
	cs2 := env.MustConnect(u2, "streamable")
	userID := env.Sandboxes["us"].PrimaryUserID()
	env.Clock.Advance(time.Hour)
	apptest.CallTool(t, cs1, "list_all_zohobigin_users", map[string]any{"limit": 3, "fields": []string{"id", "email"}})
	env.Clock.Advance(time.Hour)
	apptest.CallTool(t, cs1, "get_single_zohobigin_user_by_id", map[string]any{"id": userID})
	env.Clock.Advance(time.Hour)
	apptest.CallTool(t, cs1, "get_single_zohobigin_user_by_id", map[string]any{"id": "123"})
	env.Clock.Advance(time.Hour)
	apptest.CallTool(t, cs2, "list_all_zohobigin_roles", nil)
	env.App.Flush()
	return env, acct, url1, url2, start
}

func auditIDs(page map[string]any) []string {
	var ids []string
	for _, e := range page["result"].([]any) {
		ids = append(ids, e.(map[string]any)["id"].(string))
	}
	return ids
}

func TestAuditAPI(t *testing.T) {
	t.Parallel()
	env, acct, url1, url2, start := auditEnv(t)
	all := env.AdminCall("GET", "/admin/audit?limit=100", nil, http.StatusOK)
	entries := all["result"].([]any)
	require.Len(t, entries, 8, "the first API token, the account, 2 URLs, 4 tool calls")
	newest := entries[0].(map[string]any)
	assert.Equal(t, "tool_call", newest["action"])
	assert.Equal(t, "list_all_zohobigin_roles", newest["tool"])
	assert.Equal(t, "mcp", newest["surface"])
	assert.Equal(t, url2, newest["mcp_server_id"])
	assert.Equal(t, acct, newest["account_id"])
	assert.Equal(t, "mcp:"+url2, newest["actor"])
	assert.Equal(t, 200.0, newest["status"])
	assert.Contains(t, newest, "latency_ms")
	assert.Equal(t, start.Add(4*time.Hour).Format(time.RFC3339), newest["time"])

	failed := entries[1].(map[string]any)
	assert.Equal(t, map[string]any{"id": "123"}, failed["args"], "ids only")
	assert.NotEqual(t, "ok", failed["outcome"])
	assert.Equal(t, 400.0, failed["status"])
	listed := entries[3].(map[string]any)
	assert.Equal(t, map[string]any{"limit": 3.0, "fields": []any{"id", "email"}}, listed["args"])
	admin := entries[4].(map[string]any)
	assert.Equal(t, "mcp_server.create", admin["action"])
	assert.Equal(t, "admin", admin["surface"])
	assert.NotEmpty(t, admin["api_token_id"])

	tests := []struct {
		name  string
		query string
		want  int
	}{
		{"by URL", "mcp_server_id=" + url1, 4},
		{"by tool", "tool=get_single_zohobigin_user_by_id", 2},
		{"by outcome", "outcome=ok&tool=get_single_zohobigin_user_by_id", 1},
		{"by account", "account_id=" + acct, 7},
		{"by another account", "account_id=nope", 0},
		{"since, inclusive", "since=" + start.Add(2*time.Hour).Format(time.RFC3339), 3},
		{"until, exclusive", "until=" + start.Add(2*time.Hour).Format(time.RFC3339), 5},
		{"a window", "since=" + start.Add(2*time.Hour).Format(time.RFC3339) + "&until=" + start.Add(4*time.Hour).Format(time.RFC3339), 2},
		{"an offset", "since=" + strings.ReplaceAll(start.Add(2*time.Hour).In(time.FixedZone("", 3600)).Format(time.RFC3339), "+", "%2B"), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := env.AdminCall("GET", "/admin/audit?limit=100&"+tt.query, nil, http.StatusOK)
			assert.Len(t, page["result"], tt.want)
			assert.Nil(t, page["next_cursor"])
		})
	}

	// Paging: pages of 2 walk the whole log once, newest first.
	var walked []string
	cursor := ""
	for range 10 {
		q := "/admin/audit?limit=2"
		if cursor != "" {
			q += "&next_cursor=" + cursor
		}
		page := env.AdminCall("GET", q, nil, http.StatusOK)
		walked = append(walked, auditIDs(page)...)
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		assert.NotContains(t, next, "-", "the cursor is opaque")
		cursor = next
	}
	assert.Equal(t, auditIDs(all), walked)
	page := env.AdminCall("GET", "/admin/audit?limit=1&mcp_server_id="+url1, nil, http.StatusOK)
	page = env.AdminCall("GET", "/admin/audit?limit=10&mcp_server_id="+url1+"&next_cursor="+page["next_cursor"].(string), nil, http.StatusOK)
	assert.Len(t, page["result"], 3, "a filtered page continues the filtered selection")
}

func TestAuditExportJSONL(t *testing.T) {
	t.Parallel()
	env, _, url1, _, _ := auditEnv(t)
	all := env.AdminCall("GET", "/admin/audit?limit=100", nil, http.StatusOK)
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"format=jsonl", auditIDs(all)},
		{"format=jsonl&mcp_server_id=" + url1, auditIDs(env.AdminCall("GET", "/admin/audit?limit=100&mcp_server_id="+url1, nil, http.StatusOK))},
	} {
		r := env.Request("GET", "/admin/audit?"+tt.query, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		assert.Equal(t, "application/jsonl; charset=utf-8", r.Header.Get("Content-Type"))
		var ids []string
		sc := bufio.NewScanner(bytes.NewReader(r.Body))
		for sc.Scan() {
			var e map[string]any
			require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "every line is one JSON object")
			ids = append(ids, e["id"].(string))
		}
		assert.Equal(t, tt.want, ids, tt.query)
	}
}

func TestAuditExportStreamsPastOnePage(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{})
	acct := env.ConnectAccount("us")
	for range 3 {
		_, _ = env.MintURL(acct, nil)
	}
	// More entries than one page of the export's reads. The store batches
	// appends that arrive together into one write (one alone waits for
	// company), so they are appended from many goroutines, as a busy
	// server's calls append theirs.
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			for range 11 {
				assert.NoError(t, env.DB.AppendAudit(context.Background(), newEntry(acct)))
			}
		})
	}
	wg.Wait()
	r := env.Request("GET", "/admin/audit?format=jsonl&account_id="+acct, nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, 1100+4, bytes.Count(r.Body, []byte("\n")))
}

func TestAuditAPIRefusesBadQueries(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{})
	tests := []struct {
		name, query, want string
	}{
		{"unknown parameter", "acount_id=x", `unknown query parameter "acount_id"`},
		{"bad since", "since=yesterday", "since must be an RFC 3339 time"},
		{"bad until", "until=2026-13-01T00:00:00Z", "until must be an RFC 3339 time"},
		{"empty window", "since=2026-03-01T00:00:00Z&until=2026-03-01T00:00:00Z", "since must be before until"},
		{"bad format", "format=csv", "format must be json"},
		{"jsonl with limit", "format=jsonl&limit=5", "format=jsonl exports the whole selection"},
		{"bad limit", "limit=0", "limit must be a whole number from 1 to 100"},
		{"forged cursor", "next_cursor=abc", "next_cursor is not one this server issued"},
		{"control characters", "tool=%00", "tool is too long or holds control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.Request("GET", "/admin/audit?"+tt.query, nil)
			require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
			code, msg := r.ErrCode(t)
			assert.Equal(t, "invalid_argument", code)
			assert.Contains(t, msg, tt.want)
		})
	}
	r := env.RequestAs("", "", "GET", "/admin/audit", nil)
	assert.Equal(t, http.StatusUnauthorized, r.Status)
}

func TestAuditRetentionWithTheFakeClock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		retention time.Duration
		advance   time.Duration
		deleted   int
	}{
		{"the default keeps 90 days", 0, 89 * 24 * time.Hour, 0},
		{"the default deletes after 90 days", 0, 91 * 24 * time.Hour, 4},
		{"a configured retention", 36 * time.Hour, 37 * time.Hour, 4},
		{"forever", -1, 10 * 365 * 24 * time.Hour, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.AuditRetention = tt.retention }})
			acct := env.ConnectAccount("us")
			_, url := env.MintURL(acct, nil)
			apptest.CallTool(t, env.MustConnect(url, "streamable"), "list_all_zohobigin_roles", nil)
			env.App.Flush()
			env.Clock.Advance(tt.advance)
			apptest.CallTool(t, env.MustConnect(url, "streamable"), "list_all_zohobigin_me", nil)
			env.App.Flush()

			n, err := env.Svc.SweepAudit(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tt.deleted, n)
			page := env.AdminCall("GET", "/admin/audit?limit=100", nil, http.StatusOK)
			assert.Len(t, page["result"], 5-tt.deleted, "the API token, account, URL and two calls, less the deleted")
			assert.Equal(t, "list_all_zohobigin_me", page["result"].([]any)[0].(map[string]any)["tool"], "the new entry stays")
		})
	}
}

func TestTraceParentInTheLogLines(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	env := apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.Logger = logger }})
	acct := env.ConnectAccount("us")
	_, url := env.MintURL(acct, nil)

	const fromHeader = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	const fromMeta = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	for _, tp := range []string{fromHeader, "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "not-a-traceparent"} {
		req, err := http.NewRequest("GET", env.URL+"/healthz", nil)
		require.NoError(t, err)
		req.Header.Set("Traceparent", tp)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	cs := env.MustConnect(url, "streamable")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "list_all_zohobigin_roles", Meta: sdk.Meta{"traceparent": fromMeta}})
	require.NoError(t, err)
	env.App.Flush()

	var traced []map[string]any
	for _, line := range strings.Split(logs.String(), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		if m["traceparent"] != nil {
			traced = append(traced, m)
		}
	}
	var got []string
	for _, m := range traced {
		got = append(got, m["msg"].(string)+" "+m["traceparent"].(string))
	}
	assert.ElementsMatch(t, []string{
		"http request " + fromHeader,
		"tool call " + fromMeta,
		"http request " + fromMeta,
	}, got, "only valid traceparents are logged")
	page := env.AdminCall("GET", "/admin/audit?limit=1&tool=list_all_zohobigin_roles", nil, http.StatusOK)
	assert.Equal(t, "0af7651916cd43dd8448eb211c80319c", page["result"].([]any)[0].(map[string]any)["trace_id"])
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEntry(accountID string) *tokens.AuditEntry {
	return &tokens.AuditEntry{Actor: "system", Action: "tool_call", AccountID: accountID, Tool: "list_all_zohobigin_roles", Outcome: "ok", Surface: tokens.SurfaceMCP}
}
