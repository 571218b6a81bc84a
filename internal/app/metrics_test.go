package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
)

// scrape fetches the metrics over HTTP and parses them with the
// Prometheus text parser.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return families
}

// series finds the metric of family name whose labels are exactly want.
func series(t *testing.T, families map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	f, ok := families[name]
	require.True(t, ok, "no family %s", name)
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if len(got) == len(want) {
			match := true
			for k, v := range want {
				if got[k] != v {
					match = false
				}
			}
			if match {
				return m
			}
		}
	}
	var have []string
	for _, m := range f.GetMetric() {
		have = append(have, m.String())
	}
	require.Failf(t, "series not found", "%s%v; have:\n%s", name, want, strings.Join(have, "\n"))
	return nil
}

func TestMetricsAfterKnownTraffic(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.Metrics = true }})
	sb := env.Sandboxes["us"]
	acct := env.ConnectAccount("us")
	serverID, url := env.MintURL(acct, nil)
	token := url[strings.LastIndex(url, "/")+1:]

	cs := env.MustConnect(url, "streamable")
	for range 2 {
		res, _ := apptest.CallTool(t, cs, "list_all_zohobigin_users", map[string]any{"limit": 5})
		require.False(t, res.IsError)
	}
	var err error
	missing := "9999999999999"
	res, _ := apptest.CallTool(t, cs, "get_single_zohobigin_user_by_id", map[string]any{"id": missing})
	require.True(t, res.IsError, "an unknown user is a tool error")
	// An unknown tool is a JSON-RPC error; its name is client input and
	// must not become a label value.
	_, err = cs.CallTool(context.Background(), &sdk.CallToolParams{Name: "no_such_tool_" + acct})
	require.Error(t, err)

	// An unknown JSON-RPC method is client input too.
	req, err := http.NewRequest("POST", url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"evil/`+acct+`","params":{}}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "the SDK refuses an unknown method before any handler")

	// Zoho's 429: counted upstream, never retried.
	sb.FailNext(1, sandbox.RateLimited)
	res, _ = apptest.CallTool(t, cs, "list_all_zohobigin_roles", nil)
	require.True(t, res.IsError)

	// The access token expires: the next call refreshes it once.
	env.Clock.Advance(2 * time.Hour)
	res, _ = apptest.CallTool(t, cs, "list_all_zohobigin_current_organization", nil)
	require.False(t, res.IsError)

	// A record tool is named like any other.
	res, _ = apptest.CallTool(t, cs, "list_zohobigin_records", map[string]any{"module": "Contacts", "limit": 2})
	require.False(t, res.IsError)

	// An open legacy SSE stream.
	sse := env.MustConnect(url, "sse")
	_, err = sse.ListTools(context.Background(), nil)
	require.NoError(t, err)
	env.AdminCall("GET", "/admin/integrated-accounts/"+acct, nil, http.StatusOK)

	fams := scrape(t, env.App.Metrics.Handler())

	count := func(name string, labels map[string]string) uint64 {
		return series(t, fams, name, labels).GetHistogram().GetSampleCount()
	}
	op := "mcp_server_operation_duration_seconds"
	assert.Equal(t, uint64(2), count(op, map[string]string{"mcp_method_name": "tools/call", "gen_ai_tool_name": "list_all_zohobigin_users", "error_type": ""}))
	assert.Equal(t, uint64(1), count(op, map[string]string{"mcp_method_name": "tools/call", "gen_ai_tool_name": "get_single_zohobigin_user_by_id", "error_type": "tool_error"}))
	assert.Equal(t, uint64(1), count(op, map[string]string{"mcp_method_name": "tools/call", "gen_ai_tool_name": "list_all_zohobigin_roles", "error_type": "tool_error"}))
	assert.Equal(t, uint64(1), count(op, map[string]string{"mcp_method_name": "tools/call", "gen_ai_tool_name": "list_zohobigin_records", "error_type": ""}))
	assert.Equal(t, uint64(2), count(op, map[string]string{"mcp_method_name": "server/discover", "gen_ai_tool_name": "", "error_type": ""}), "one per session")
	assert.Equal(t, uint64(1), count(op, map[string]string{"mcp_method_name": "initialize", "gen_ai_tool_name": "", "error_type": ""}), "the legacy SSE session initializes")
	assert.Equal(t, uint64(1), count(op, map[string]string{"mcp_method_name": "tools/call", "gen_ai_tool_name": "", "error_type": "-32602"}), "the unknown tool, unnamed")
	h := series(t, fams, op, map[string]string{"mcp_method_name": "tools/call", "gen_ai_tool_name": "list_all_zohobigin_users", "error_type": ""}).GetHistogram()
	require.NotEmpty(t, h.GetBucket())
	assert.InDelta(t, 0.01, h.GetBucket()[0].GetUpperBound(), 1e-9, "buckets start at 10 ms")
	assert.InDelta(t, 300, h.GetBucket()[len(h.GetBucket())-2].GetUpperBound(), 1e-9, "and end at 300 s (before +Inf)")

	httpDur := "http_server_request_duration_seconds"
	assert.Equal(t, uint64(1), count(httpDur, map[string]string{"http_route": "/admin/integrated-accounts", "http_request_method": "POST", "http_response_status_code": "201"}))
	assert.Equal(t, uint64(1), count(httpDur, map[string]string{"http_route": "/admin/integrated-accounts/{id}", "http_request_method": "GET", "http_response_status_code": "200"}))
	assert.Equal(t, uint64(7), count(httpDur, map[string]string{"http_route": "/mcp/{token}", "http_request_method": "POST", "http_response_status_code": "200"}), "discover and six tool calls")

	up := "bigin_upstream_request_duration_seconds"
	assert.Equal(t, uint64(2), count(up, map[string]string{"datacenter": "us", "operation": "GET /users", "http_response_status_code": "200"}))
	assert.Equal(t, uint64(1), count(up, map[string]string{"datacenter": "us", "operation": "GET /users/{id}", "http_response_status_code": "400"}), "the unknown user")
	assert.Equal(t, uint64(1), count(up, map[string]string{"datacenter": "us", "operation": "GET /settings/roles", "http_response_status_code": "429"}))
	assert.Equal(t, 1.0, series(t, fams, "bigin_upstream_rate_limited_total", map[string]string{}).GetCounter().GetValue())
	assert.Equal(t, 1.0, series(t, fams, "bigin_token_refreshes_total", map[string]string{"result": "ok"}).GetCounter().GetValue())
	assert.Equal(t, 0.0, series(t, fams, "bigin_token_refreshes_total", map[string]string{"result": "refused"}).GetCounter().GetValue())

	assert.Equal(t, 1.0, series(t, fams, "bigin_mcp_urls", map[string]string{}).GetGauge().GetValue())
	assert.Equal(t, 1.0, series(t, fams, "bigin_mcp_open_sse_streams", map[string]string{}).GetGauge().GetValue())
	assert.Contains(t, fams, "go_goroutines", "the Go runtime collector")
	assert.Contains(t, fams, "process_cpu_seconds_total", "the process collector")

	// No label value holds a token, an id or a user.
	forbidden := []string{token, "bmcp_", env.Admin, acct, serverID, missing, sb.OrgID()}
	for _, u := range sb.Users() {
		forbidden = append(forbidden, u.ID, u.Email)
	}
	checked := 0
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				checked++
				for _, bad := range forbidden {
					if bad != "" {
						assert.NotContains(t, l.GetValue(), bad, "%s{%s}", name, l.GetName())
					}
				}
				assert.NotContains(t, l.GetValue(), "@", "%s{%s}: no email", name, l.GetName())
			}
		}
	}
	assert.Greater(t, checked, 20)

	require.NoError(t, sse.Close())
	env.Close() // ends the stream for certain
}
