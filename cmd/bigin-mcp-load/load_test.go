package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// TestMain lets the test binary serve as a target child process, as the
// real binary re-executes itself in that hidden mode.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == targetMode {
		if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Every mode runs end to end against real child servers with tiny counts,
// reports what it promises, and sees no failed call. Nothing about
// timings is asserted.
func TestModesRunEndToEnd(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string // regular expressions the report must match
	}{
		{[]string{"calls", "-c", "2", "-n", "9", "-rounds", "3", "-warmup", "2", "-urls", "3"}, []string{
			`ours serves 3 minted URLs; bare and ours return the same 100 records`,
			`(?m)^\s+bare\s+9\s+0\s`, `(?m)^\s+floor\s+9\s+0\s`, `(?m)^\s+ours\s+9\s+0\s`,
			`throughput ours/bare = \d`, `p99 added: ours - bare = `}},
		{[]string{"calls", "-tool", "records", "-c", "2", "-n", "6", "-rounds", "2", "-warmup", "2", "-urls", "2"}, []string{
			`tools/call list_zohobigin_records \(module Contacts, default fields, default limit 50\)`,
			`one Zoho call per tools/call: GET /bigin/v2/Contacts\?fields=First_Name%2CLast_Name%2C\S+&page=1&per_page=50\n`,
			`ours serves 2 minted URLs; bare and ours return the same 50 records`,
			`(?m)^\s+bare\s+6\s+0\s`, `(?m)^\s+floor\s+6\s+0\s`, `(?m)^\s+maps\s+6\s+0\s`, `(?m)^\s+ours\s+6\s+0\s`,
			`throughput ours/bare = \d`}},
		{[]string{"urls", "-n", "300", "-sample", "20"}, []string{
			`minted 300 URLs`, `restart with 300 URLs`, `idle RSS \d+\.\d MB`, `after 40 calls over 20 distinct URLs`}},
		{[]string{"sse", "-k", "5"}, []string{`5 open SSE sessions: \+`}},
		{[]string{"accounts", "-m", "2", "-c", "5"}, []string{`2 accounts created: 2 token refreshes`,
			`phase 1 .*, 10 calls ok, 0 errors: 0 refreshes \(want 0, i\.e\. 0 extra\)`,
			`phase 2 .*, 10 calls ok, 0 errors: 2 refreshes \(want 2, i\.e\. 0 extra\)`}},
		{[]string{"scale", "-c", "3", "-n", "12", "-warmup", "3", "-urls", "2", "-replicas", "2", "-members", "1", "-mints", "4"}, []string{
			`(?m)^\s+1 replica, bbolt\s+12\s+0\s+\d+\s+\S+ms\s+\S+ms\s+\S+ms\s+\S+ms\s+0$`,
			`(?m)^\s+2 replicas, etcd \(1 members\)\s+12\s+0\s+\d+\s+\S+ms\s+\S+ms\s+\S+ms\s+\S+ms\s+0$`}},
	} {
		t.Run(strings.Join(tt.args[:min(3, len(tt.args))], " "), func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, run(context.Background(), tt.args, &out))
			for _, re := range tt.want {
				assert.Regexp(t, regexp.MustCompile(re), out.String())
			}
		})
	}
}

func TestPercentileNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {95, 95 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0, time.Millisecond}} {
		assert.Equal(t, tt.want, percentile(d, tt.p), "p%v", tt.p)
	}
	assert.Equal(t, time.Duration(0), percentile(nil, 99))
	assert.Equal(t, 7*time.Millisecond, percentile([]time.Duration{7 * time.Millisecond}, 99))
}

func TestPrintedErrorsHideTokens(t *testing.T) {
	tok := tokens.NewMCPToken()
	msg := redact(`Post "http://127.0.0.1:4000/mcp/` + tok + `": connection refused`)
	assert.NotContains(t, msg, tok)
	assert.Equal(t, `Post "http://127.0.0.1:4000/mcp/bmcp_…": connection refused`, msg)
}

func TestOnlyLoopbackTargets(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080/mcp/x", "http://localhost:1", "http://[::1]:80/"} {
		assert.NoError(t, checkLoopbackURL(u), u)
	}
	for _, u := range []string{"http://10.0.0.1:8080/", "https://example.com/mcp", "http://192.168.1.2/", "not a url"} {
		assert.Error(t, checkLoopbackURL(u), u)
	}
}

func TestModeFlagsAreBounded(t *testing.T) {
	ctx := context.Background()
	for _, args := range [][]string{
		{"calls", "-c", "0"}, {"calls", "-tool", "deals"}, {"calls", "-n", "0"}, {"calls", "-c", "100000"}, {"calls", "-rounds", "0"}, {"calls", "-urls", "0"}, {"calls", "-n", "3", "-rounds", "4"},
		{"sse", "-k", "0"}, {"sse", "-k", "1000000"},
		{"accounts", "-m", "0"}, {"accounts", "-c", "5000"},
		{"urls", "-n", "0"}, {"frobnicate"}, {},
		{"scale", "-c", "0"}, {"scale", "-replicas", "0"}, {"scale", "-members", "8"}, {"scale", "-urls", "101"}, {"scale", "-mints", "0"},
	} {
		assert.Error(t, run(ctx, args, io.Discard), "%v", args)
	}
}

// samePayload refuses to compare servers that do not return the same
// records: the ratios would mean nothing.
func TestSamePayloadRefusesUnlikeServers(t *testing.T) {
	serve := func(body string) *target {
		srv := sdk.NewServer(&sdk.Implementation{Name: "t", Version: "1"}, nil)
		srv.AddTool(&sdk.Tool{Name: usersTool, InputSchema: json.RawMessage(`{"type":"object"}`)},
			func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
				return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: body}}, StructuredContent: json.RawMessage(body)}, nil
			})
		ts := httptest.NewServer(sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return srv }, &sdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true}))
		t.Cleanup(ts.Close)
		return &target{info: targetInfo{URLs: []string{ts.URL}}}
	}
	ctx := context.Background()
	a := serve(`{"result":[{"id":"1"},{"id":"2"}],"next_cursor":"x"}`)
	b := serve(`{"result":[{"id":"1"},{"id":"2"}],"next_cursor":"other"}`)
	c := serve(`{"result":[{"id":"1"}],"next_cursor":null}`)

	users := benchTools["users"]
	p, err := samePayload(ctx, a, b, users)
	require.NoError(t, err, "cursors may differ")
	assert.Equal(t, 2, p.records)
	_, err = samePayload(ctx, a, c, users)
	assert.ErrorContains(t, err, "other records")
}
