package app_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// partitionedStore is a shared store whose change feed confirms the
// index current only while the cluster is reachable: a replica that a
// test cuts off and reconnects.
type partitionedStore struct {
	tokens.Store
	reachable *atomic.Bool
}

// Follow confirms the index current every millisecond while reachable.
func (s partitionedStore) Follow(ctx context.Context, f tokens.Follower) error {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if s.reachable.Load() {
				f.Current(time.Now())
			}
		}
	}
}

// Barrier returns at once.
func (partitionedStore) Barrier(context.Context) error { return nil }

// logLines decodes the JSON log lines with the message msg.
func logLines(t *testing.T, logs *syncBuffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(logs.String(), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// linesStarting are the log lines whose message starts with prefix.
func linesStarting(t *testing.T, logs *syncBuffer, prefix string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(logs.String(), "\n") {
		var m map[string]any
		if line == "" || json.Unmarshal([]byte(line), &m) != nil {
			continue
		}
		if msg, _ := m["msg"].(string); strings.HasPrefix(msg, prefix) {
			out = append(out, m)
		}
	}
	return out
}

const (
	staleWarning = "this replica cannot confirm that its view of the store is current"
	recoveredMsg = "this replica's view of the store is current again"
)

// TestStaleReplicaWarnsOnceAndRecovers: a replica cut off from its store
// logs one warning when it turns stale and fails closed, however many
// requests it refuses meanwhile, and one info line when it is current
// again; each later partition warns once more. Its 503s are logged and
// measured under the route the request falls under, not "unmatched".
func TestStaleReplicaWarnsOnceAndRecovers(t *testing.T) { // not parallel: its 40 ms staleness bound is real time, which the other tests' load could exceed
	logs := &syncBuffer{}
	reachable := &atomic.Bool{}
	reachable.Store(true)
	const maxStaleness = 40 * time.Millisecond
	env := apptest.New(t, apptest.Options{
		OpenStore: func(t testing.TB, key []byte, now func() time.Time) tokens.Store {
			return partitionedStore{Store: openBolt(t, key, now), reachable: reachable}
		},
		Config: func(c *app.Config) {
			c.MaxStaleness = maxStaleness
			c.Metrics = true
			c.Logger = slog.New(slog.NewJSONHandler(logs, nil))
		},
	})
	env.AdminCall("GET", "/admin/api-tokens", nil, http.StatusOK)
	assert.Empty(t, linesStarting(t, logs, staleWarning), "a current replica does not warn")

	for episode := 1; episode <= 2; episode++ {
		reachable.Store(false)
		require.Eventually(t, func() bool { return len(linesStarting(t, logs, staleWarning)) == episode }, 10*time.Second, time.Millisecond,
			"partition %d: the replica warns that it is stale", episode)
		w := linesStarting(t, logs, staleWarning)[episode-1]
		assert.Equal(t, "WARN", w["level"])
		assert.Contains(t, w["msg"], "every route but /healthz, /readyz and /ui/static/ answers 503")
		assert.Equal(t, maxStaleness.String(), w["max_staleness"])
		assert.NotEmpty(t, w["current_as_of"])

		// Requests refused while stale, and time for the watcher to look
		// again many times: still one warning.
		for range 5 {
			r := env.Request("GET", "/admin/api-tokens", nil)
			require.Equal(t, http.StatusServiceUnavailable, r.Status, "%s", r.Body)
		}
		require.Eventually(t, func() bool { return time.Since(env.Svc.CurrentAsOf()) > 20*maxStaleness }, 10*time.Second, time.Millisecond,
			"the replica stays stale for a while")
		assert.Len(t, linesStarting(t, logs, staleWarning), episode, "one warning per partition, not one per request or check")
		assert.Len(t, linesStarting(t, logs, recoveredMsg), episode-1)

		reachable.Store(true)
		require.Eventually(t, func() bool { return len(linesStarting(t, logs, recoveredMsg)) == episode }, 10*time.Second, time.Millisecond,
			"partition %d: the replica says it is current again", episode)
		rec := linesStarting(t, logs, recoveredMsg)[episode-1]
		assert.Equal(t, "INFO", rec["level"])
		assert.NotEmpty(t, rec["stale_for"])
		env.AdminCall("GET", "/admin/api-tokens", nil, http.StatusOK)
		assert.Len(t, linesStarting(t, logs, staleWarning), episode)
	}

	// The refusals' route: the table's pattern, in the log and the metrics.
	reachable.Store(false)
	require.Eventually(t, func() bool { return env.Svc.Available() != nil }, 10*time.Second, time.Millisecond)
	before := len(logLines(t, logs, "http request"))
	for _, p := range []probe{{"GET", "/admin/api-tokens"}, {"POST", "/mcp/bmcp_x"}, {"GET", "/ui/accounts"}, {"GET", "/openapi.json"}, {"GET", "/nowhere"}} {
		status, _, body := send(t, env.URL, p)
		require.True(t, refusedAsStale(status, body), "%s %s: %d %s", p.method, p.path, status, body)
	}
	var routes []string
	for _, l := range logLines(t, logs, "http request")[before:] {
		assert.EqualValues(t, http.StatusServiceUnavailable, l["status"])
		routes = append(routes, l["route"].(string))
	}
	assert.Equal(t, []string{"/admin/", "/mcp/{token}", "/ui/", "GET /openapi.json", "unmatched"}, routes,
		"each refusal is logged under its route; only a path no route takes is unmatched")

	fams := scrape(t, env.App.Metrics.Handler())
	for _, route := range []string{"/admin/", "/mcp/{token}", "/ui/", "/openapi.json"} {
		method := "GET"
		if route == "/mcp/{token}" {
			method = "POST"
		}
		m := series(t, fams, "http_server_request_duration_seconds",
			map[string]string{"http_route": route, "http_request_method": method, "http_response_status_code": "503"})
		assert.NotZero(t, m.GetHistogram().GetSampleCount(), route)
	}
	unmatched := series(t, fams, "http_server_request_duration_seconds",
		map[string]string{"http_route": "unmatched", "http_request_method": "GET", "http_response_status_code": "503"})
	assert.EqualValues(t, 1, unmatched.GetHistogram().GetSampleCount(), "only /nowhere is unmatched")
}
