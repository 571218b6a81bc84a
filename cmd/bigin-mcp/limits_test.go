package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
)

// serve applies the limits of its settings: a slow body gets 408, a
// stream past the per-URL cap gets 429, and both show in the logs.
func TestServeAppliesLimits(t *testing.T) {
	t.Parallel()
	_, base, tok, url, logs, _ := sandboxServe(t, map[string]string{
		"BIGIN_MCP_DATA_DIR":                t.TempDir(),
		"BIGIN_MCP_BODY_TIMEOUT":            "500ms",
		"BIGIN_MCP_SSE_MAX_STREAMS_PER_URL": "1",
	})

	slow := (&apptest.SlowBody{Method: "POST", Path: "/admin/api-tokens", Length: 1000, Every: 50 * time.Millisecond,
		Header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + tok}}}).Start(t, base)
	resp, _, err := slow.Response(20 * time.Second)
	require.NoError(t, err)
	assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	statuses := make([]int, 2)
	for i := range statuses {
		req, _ := http.NewRequestWithContext(ctx, "GET", url+"/sse", nil)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		statuses[i] = resp.StatusCode
	}
	assert.Equal(t, []int{http.StatusOK, http.StatusTooManyRequests}, statuses)

	var sawTimeout, sawRefusal bool
	for _, line := range strings.Split(logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil || m["msg"] != "http request" {
			continue
		}
		switch m["status"] {
		case float64(http.StatusRequestTimeout):
			sawTimeout = true
		case float64(http.StatusTooManyRequests):
			sawRefusal = m["sse_refused"] == "per_url" && m["sse_streams_url"] == "1" && m["sse_streams_total"] == "1"
		}
	}
	assert.True(t, sawTimeout, "the 408 is logged")
	assert.True(t, sawRefusal, "the refused stream is logged with the counts: %s", logs.String())
	assert.NotContains(t, logs.String(), strings.TrimPrefix(url, base+"/mcp/"), "no MCP token in the logs")
}
