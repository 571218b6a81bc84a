package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/store"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// staleStore is a shared store whose change feed never confirms that the
// index is current: a replica cut off from its cluster since it started.
type staleStore struct{ tokens.Store }

// Follow follows nothing and never reports the index current.
func (staleStore) Follow(ctx context.Context, _ tokens.Follower) error {
	<-ctx.Done()
	return ctx.Err()
}

// Barrier returns at once: writes are acknowledged, the index never hears.
func (staleStore) Barrier(context.Context) error { return nil }

func openBolt(t testing.TB, key []byte, now func() time.Time) tokens.Store {
	db, err := store.Open(filepath.Join(t.TempDir(), "bigin-mcp.db"), store.Options{Key: key, Now: now, NoSync: true})
	require.NoError(t, err)
	return db
}

// probe is one request made from a route pattern.
type probe struct{ method, path string }

var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// probesOf turns a ServeMux pattern into requests it matches: wildcards
// filled in, a subtree pattern ("/admin/") probed below its root, and a
// pattern without a method probed with GET and POST.
func probesOf(pattern string) []probe {
	methods := []string{http.MethodGet, http.MethodPost}
	p := pattern
	if m, rest, ok := strings.Cut(pattern, " "); ok {
		methods, p = []string{m}, rest
	}
	p = strings.ReplaceAll(p, "{$}", "")
	p = wildcard.ReplaceAllString(p, "x")
	if strings.HasSuffix(p, "/") {
		p += "probe"
	}
	var out []probe
	for _, m := range methods {
		out = append(out, probe{m, p})
	}
	return out
}

// send makes the request with no credentials (the guard stands before
// every check of them).
func send(t *testing.T, base string, p probe) (int, http.Header, []byte) {
	t.Helper()
	var body io.Reader
	if p.method == http.MethodPost {
		body = strings.NewReader("{}")
	}
	req, err := http.NewRequest(p.method, base+p.path, body)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, res.Header, b
}

// refusedAsStale reports whether an answer is the stale guard's.
func refusedAsStale(status int, body []byte) bool {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	return status == http.StatusServiceUnavailable && json.Unmarshal(body, &e) == nil && e.Error.Code == "unavailable"
}

// TestStaleReplicaRefusesEveryRouteButTheExemptions walks the route
// table: while the index cannot confirm it is current, every route
// registered (and any path no route matches) answers 503 unavailable with
// Retry-After, except /healthz, /readyz (which answers not ready itself)
// and the web UI's static files. On a replica that is current, no route
// gives that answer, so it is the guard's and nothing else's.
func TestStaleReplicaRefusesEveryRouteButTheExemptions(t *testing.T) {
	t.Parallel()
	stale := apptest.New(t, apptest.Options{
		OpenStore: func(t testing.TB, key []byte, now func() time.Time) tokens.Store {
			return staleStore{openBolt(t, key, now)}
		},
		Config: func(c *app.Config) { c.MaxStaleness = time.Millisecond },
	})
	require.Eventually(t, func() bool { return stale.Svc.Available() != nil }, 5*time.Second, time.Millisecond,
		"the replica, never confirmed current, turns stale past its bound")
	fresh := apptest.New(t, apptest.Options{})

	routes := stale.App.Routes()
	assert.Equal(t, fresh.App.Routes(), routes, "one wiring, one table")
	for _, want := range []string{"GET /healthz", "GET /readyz", "/admin/", "/ui/", "GET /ui", "/oauth/token", "GET /connect/{link}", "/unified/", "/proxy/", "GET /openapi.json", "/mcp/{token}", "/mcp/{token}/sse"} {
		assert.Contains(t, routes, want, "the table lists every surface")
	}

	var probes []probe
	for _, pattern := range routes {
		probes = append(probes, probesOf(pattern)...)
	}
	// The pages of the UI's subtree, the UI's root, and a path no route
	// matches are refused too.
	probes = append(probes, probe{"GET", "/ui/"}, probe{"GET", "/ui/signin"}, probe{"POST", "/ui/signin"}, probe{"GET", "/ui/accounts"}, probe{"GET", "/nowhere"})

	for _, p := range probes {
		t.Run(p.method+" "+p.path, func(t *testing.T) {
			status, hdr, body := send(t, stale.URL, p)
			switch p.path {
			case "/healthz":
				assert.Equal(t, http.StatusOK, status, "%s", body)
			case "/readyz":
				assert.Equal(t, http.StatusServiceUnavailable, status)
				assert.Contains(t, string(body), `"status":"unavailable"`, "readyz answers for itself: not ready")
				assert.False(t, refusedAsStale(status, body))
			default:
				assert.True(t, refusedAsStale(status, body), "refused as stale: got %d %s", status, body)
				assert.Equal(t, "1", hdr.Get("Retry-After"))
			}

			status, _, body = send(t, fresh.URL, p)
			assert.False(t, refusedAsStale(status, body), "a current replica serves it: got %d %s", status, body)
		})
	}

	t.Run("static files", func(t *testing.T) {
		for _, f := range []string{"/ui/static/ui.css", "/ui/static/ui.js"} {
			status, _, body := send(t, stale.URL, probe{"GET", f})
			assert.Equal(t, http.StatusOK, status, "%s is served while stale: %s", f, body)
			assert.NotEmpty(t, body)
		}
	})
}
