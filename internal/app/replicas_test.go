package app_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/store/etcdstore"
	"github.com/bigin-mcp/bigin-mcp/store/etcdstore/etcdtest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// within is how soon every replica must enforce a change another one
// acknowledged.
const within = time.Second

// shared is the package's etcd cluster, for the tests that stop no
// member: starting a cluster (its first election) is most of what such a
// test costs. Each test's replicas use a key prefix of their own.
var shared etcdtest.Shared

func TestMain(m *testing.M) {
	// This package's tests mostly wait (for etcd elections, replicas'
	// change feeds, HTTP round trips on loopback), not compute: unless
	// -test.parallel is given, run more of them at once than the default
	// of one per CPU.
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", "8")
	}
	os.Exit(shared.Run(m, 3))
}

// client is the tests' HTTP client: a replica that stops answering fails
// the request, saying so, rather than hang the test.
var client = &http.Client{Timeout: 30 * time.Second}

// replicas starts n server replicas (the real wiring, over HTTP on
// loopback) on one etcd prefix of cluster, sharing one sandbox.
func replicas(t *testing.T, cluster *etcdtest.Cluster, n int, cfg func(*app.Config)) []*apptest.Env {
	t.Helper()
	prefix := "/replicas/" + uuid.NewString() + "/"
	open := func(t testing.TB, key []byte, now func() time.Time) tokens.Store {
		c, err := etcdstore.Dial(etcdstore.ClientConfig{Endpoints: cluster.Endpoints()})
		require.NoError(t, err)
		s, err := etcdstore.Open(context.Background(), etcdstore.Options{Client: c, Prefix: prefix, Key: key, Now: now})
		require.NoError(t, err)
		return s
	}
	first := apptest.New(t, apptest.Options{OpenStore: open, Config: cfg})
	envs := []*apptest.Env{first}
	for range n - 1 {
		envs = append(envs, apptest.New(t, apptest.Options{OpenStore: open, ReplicaOf: first}))
	}
	return envs
}

// post sends an MCP initialize to url and returns the status.
func post(t *testing.T, url string) int {
	t.Helper()
	return postAs(t, url, "")
}

// postAs is post with a bearer token ("" for none).
func postAs(t *testing.T, url, bearer string) int {
	t.Helper()
	status, err := initialize(url, bearer)
	require.NoError(t, err)
	return status
}

// initialize sends an MCP initialize to url with a bearer token ("" for
// none) and returns the status.
func initialize(url, bearer string) (int, error) {
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewBufferString(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}

// servedEverywhere waits until every replica serves the URL minted on
// one of them (within a second, as TestReplicasFollowEachOther asserts).
func servedEverywhere(t *testing.T, envs []*apptest.Env, url string) {
	t.Helper()
	for i, e := range envs {
		require.Eventually(t, func() bool { return post(t, on(e, url)) == http.StatusOK }, within, 10*time.Millisecond,
			"replica %d serves the minted URL", i)
	}
}

// on rewrites an MCP URL minted on one replica to reach another.
func on(e *apptest.Env, url string) string {
	return e.URL + url[strings.Index(url, "/mcp/"):]
}

// TestReplicasFollowEachOther: a URL minted through A answers on B and
// C; deleted through B, it answers 404 on A and C within a second; an
// account deleted through C stops all its URLs everywhere.
func TestReplicasFollowEachOther(t *testing.T) {
	t.Parallel()
	cluster := shared.Cluster(t)
	envs := replicas(t, cluster, 3, nil)
	a, b, c := envs[0], envs[1], envs[2]

	acct := a.ConnectAccount("us")
	id, url := a.MintURL(acct, nil)
	assert.Equal(t, http.StatusOK, post(t, url), "the minting replica serves its URL at once")
	for _, e := range []*apptest.Env{b, c} {
		assert.Eventually(t, func() bool { return post(t, on(e, url)) == http.StatusOK }, within, 10*time.Millisecond)
	}
	cs := b.MustConnect(on(b, url), "streamable")
	res, _ := apptest.CallTool(t, cs, "list_all_zohobigin_current_organization", nil)
	assert.False(t, res.IsError, "a tool call through B on a URL minted through A")

	b.AdminCall("DELETE", "/admin/integrated-accounts/"+acct+"/mcp/"+id, nil, http.StatusNoContent)
	assert.Equal(t, http.StatusNotFound, post(t, on(b, url)))
	for _, e := range []*apptest.Env{a, c} {
		assert.Eventually(t, func() bool { return post(t, on(e, url)) == http.StatusNotFound }, within, 10*time.Millisecond)
	}

	var urls []string
	for range 3 {
		_, u := b.MintURL(acct, nil)
		urls = append(urls, u)
	}
	for _, e := range envs {
		for _, u := range urls {
			assert.Eventually(t, func() bool { return post(t, on(e, u)) == http.StatusOK }, within, 10*time.Millisecond)
		}
	}
	c.AdminCall("DELETE", "/admin/integrated-accounts/"+acct, nil, http.StatusNoContent)
	for _, e := range envs {
		for _, u := range urls {
			assert.Eventually(t, func() bool { return post(t, on(e, u)) == http.StatusNotFound }, within, 10*time.Millisecond)
		}
	}
}

// TestReplicasRefreshOnce: 200 concurrent calls for one account whose
// access token expired, spread over three replicas, cost exactly one
// refresh at Zoho.
func TestReplicasRefreshOnce(t *testing.T) {
	t.Parallel()
	cluster := shared.Cluster(t)
	envs := replicas(t, cluster, 3, nil)
	acct := envs[0].ConnectAccount("us")
	_, url := envs[0].MintURL(acct, nil)
	servedEverywhere(t, envs, url)
	// Each call runs beside the test, so it reports how it failed rather
	// than fail the test itself.
	var calls []func() string
	for _, e := range envs {
		// The other replicas serve the URL once their index follows.
		require.Eventually(t, func() bool { return post(t, on(e, url)) == http.StatusOK }, within, 10*time.Millisecond)
		cs := e.MustConnect(on(e, url), "streamable")
		calls = append(calls, func() string {
			ctx, cancel := context.WithTimeout(context.Background(), apptest.Wait)
			defer cancel()
			res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "list_all_zohobigin_current_organization"})
			switch {
			case err != nil:
				return err.Error()
			case res.IsError:
				for _, c := range res.Content {
					if t, ok := c.(*sdk.TextContent); ok {
						return t.Text
					}
				}
				return "a tool error without text"
			}
			return ""
		})
	}
	sb := envs[0].Sandboxes["us"]
	sb.ExpireAccessTokens()
	envs[0].Clock.Advance(2 * time.Hour)
	sb.ResetCounts()

	var mu sync.Mutex
	failed := map[string]int{} // how each failed call failed
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if msg := calls[i%len(calls)](); msg != "" {
				mu.Lock()
				failed[msg]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Empty(t, failed, "every call succeeded")
	assert.Equal(t, 1, sb.RefreshCount(), "one refresh across all replicas")
}

// TestReplicasFailClosedAndRecover: with every etcd member stopped, the
// replicas answer 503 on MCP, admin and UI routes and /readyz within the
// staleness bound (/healthz still answers), each logging one warning that
// it fails closed, and serve again by themselves once the cluster is
// back, each logging once that it is current again.
func TestReplicasFailClosedAndRecover(t *testing.T) {
	t.Parallel()
	cluster := etcdtest.Start(t, 1) // its own: it stops the store (one member starts and restarts fastest)
	const staleness = 2 * time.Second
	logs := &syncBuffer{}
	envs := replicas(t, cluster, 2, func(c *app.Config) {
		c.MaxStaleness = staleness
		c.Logger = slog.New(slog.NewJSONHandler(logs, nil)) // both replicas'
	})
	// A replica serves once it has confirmed its index current (its
	// /readyz tells a load balancer so); on a busy machine the first
	// confirmation can take longer than this test's short bound.
	for i, e := range envs {
		require.Eventually(t, func() bool { return e.Svc.Available() == nil }, apptest.Wait, 10*time.Millisecond,
			"replica %d confirms its index current", i)
	}
	acct := envs[0].ConnectAccount("us")
	_, url := envs[0].MintURL(acct, nil)
	for _, e := range envs {
		assert.Eventually(t, func() bool { return post(t, on(e, url)) == http.StatusOK }, within, 10*time.Millisecond)
	}

	stopping := time.Now()
	cluster.StopAll()
	stopped := time.Now()
	t.Logf("stopping the cluster took %s", stopped.Sub(stopping).Round(100*time.Millisecond))
	// The replicas are watched together: each /readyz waits for the
	// store's ping to time out.
	seen := make([]failedClosed, len(envs))
	var wg sync.WaitGroup
	for i, e := range envs {
		wg.Go(func() { seen[i] = watchFailClosed(e, on(e, url), stopped, staleness+5*time.Second) })
	}
	wg.Wait()
	for i, s := range seen {
		require.NoError(t, s.err, "replica %d fails closed", i)
		t.Logf("replica %d failed closed %s after the cluster stopped (bound %s)", i, s.after.Round(100*time.Millisecond), staleness)
		assert.Equal(t, http.StatusServiceUnavailable, s.ready.Status, "/readyz")
		assert.Equal(t, http.StatusServiceUnavailable, s.admin.Status, "admin API")
		code, _ := s.admin.ErrCode(t)
		assert.Equal(t, "unavailable", code)
		e := envs[i]
		r := e.Request("GET", "/ui/accounts", nil)
		assert.Equal(t, http.StatusServiceUnavailable, r.Status, "the web UI fails closed too")
		assert.Equal(t, http.StatusOK, e.Request("GET", "/healthz", nil).Status, "the process is up")
	}
	// Each stale spell is logged once, when it starts, and its end once:
	// warnings and recoveries alternate per replica, so with every
	// replica stale now there is one more warning than recoveries for
	// each. (On a loaded machine a replica may also have had a short
	// spell before the stop, logged and ended the same way.)
	spells := func() int {
		return len(linesStarting(t, logs, staleWarning)) - len(linesStarting(t, logs, recoveredMsg))
	}
	require.Eventually(t, func() bool { return spells() == len(envs) }, 5*time.Second, 10*time.Millisecond,
		"each replica warns once that it fails closed")
	// Requests to a stale replica log no more warnings: one per spell,
	// not one per request.
	before := len(linesStarting(t, logs, staleWarning))
	for _, e := range envs {
		for range 20 {
			assert.Equal(t, http.StatusServiceUnavailable, post(t, on(e, url)))
		}
	}
	assert.Equal(t, before, len(linesStarting(t, logs, staleWarning)), "no warning per refused request")

	cluster.RestartAll()
	for i, e := range envs {
		last := 0
		ok := assert.Eventually(t, func() bool { last = post(t, on(e, url)); return last == http.StatusOK },
			60*time.Second, 100*time.Millisecond, "recovers by itself")
		if !ok {
			t.Fatalf("replica %d: last status %d, index current as of %s, cluster leader %d",
				i, last, e.Svc.CurrentAsOf().Format(time.RFC3339Nano), cluster.Leader())
		}
		assert.Equal(t, http.StatusOK, e.Request("GET", "/readyz", nil).Status)
	}
	// While the cluster was down no replica could flap; once it is back,
	// each stale spell (a restarting cluster may cause another) ends
	// with one line saying so.
	require.Eventually(t, func() bool {
		return len(linesStarting(t, logs, recoveredMsg)) == len(linesStarting(t, logs, staleWarning))
	}, 5*time.Second, 10*time.Millisecond, "each replica says once that it is current again")
}

// failedClosed is what watchFailClosed saw of one replica.
type failedClosed struct {
	after        time.Duration    // from the cluster's stop to the first 503 on MCP
	ready, admin apptest.Response // /readyz and the admin API then
	err          error
}

// watchFailClosed posts to the replica's MCP URL until it answers 503,
// for at most bound, then asks /readyz and the admin API. It runs beside
// the test (it requires nothing), so several replicas are watched at once.
func watchFailClosed(e *apptest.Env, url string, stopped time.Time, bound time.Duration) (f failedClosed) {
	get := func(path string) (apptest.Response, error) {
		req, err := http.NewRequest(http.MethodGet, e.URL+path, nil)
		if err != nil {
			return apptest.Response{}, err
		}
		req.Header.Set("Authorization", "Bearer "+e.Admin)
		res, err := client.Do(req)
		if err != nil {
			return apptest.Response{}, err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		return apptest.Response{Status: res.StatusCode, Header: res.Header, Body: body}, err
	}
	last := 0
	for deadline := time.Now().Add(bound); ; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			f.err = fmt.Errorf("MCP still answered %d after %s", last, bound)
			return f
		}
		if last, f.err = initialize(url, ""); f.err != nil {
			return f
		}
		if last == http.StatusServiceUnavailable {
			break
		}
	}
	f.after = time.Since(stopped)
	if f.ready, f.err = get("/readyz"); f.err == nil {
		f.admin, f.err = get("/admin/integrated-accounts")
	}
	return f
}

// TestReplicasSurviveMemberLoss: the leading etcd member stopped while calls run
// fails no call (beyond those in flight at that moment) and loses no
// acknowledged write.
func TestReplicasSurviveMemberLoss(t *testing.T) {
	t.Parallel()
	cluster := etcdtest.Start(t, 3) // its own: it stops members
	envs := replicas(t, cluster, 2, nil)
	acct := envs[0].ConnectAccount("us")
	_, url := envs[0].MintURL(acct, nil)
	servedEverywhere(t, envs, url)
	var css []func() bool
	for _, e := range envs {
		cs := e.MustConnect(on(e, url), "streamable")
		css = append(css, func() bool {
			res, _ := apptest.CallTool(t, cs, "list_all_zohobigin_current_organization", nil)
			return !res.IsError
		})
	}
	var minted []string
	run := func(rounds int) (failed int) {
		for i := range rounds {
			if !css[i%len(css)]() {
				failed++
			}
			_, u := envs[i%len(envs)].MintURL(acct, nil)
			minted = append(minted, u)
		}
		return failed
	}
	assert.Zero(t, run(10))
	leader := cluster.Leader()
	require.NotEqual(t, -1, leader)
	cluster.Stop(leader) // the hardest member to lose: a new election follows
	failedDuring := run(20)
	assert.LessOrEqual(t, failedDuring, 1, "at most the call in flight when the member stopped")
	for _, e := range envs {
		for _, u := range minted {
			assert.Eventually(t, func() bool { return post(t, on(e, u)) == http.StatusOK }, within, 10*time.Millisecond, "an acknowledged mint")
		}
	}
	cluster.Restart(leader)
}

// TestReplicasSweepOnOneReplica: the expiry sweeper runs on the elected
// replica only, and an expired URL is swept (and audited) exactly once.
func TestReplicasSweepOnOneReplica(t *testing.T) {
	t.Parallel()
	cluster := shared.Cluster(t)
	envs := replicas(t, cluster, 3, nil)
	acct := envs[0].ConnectAccount("us")
	exp := envs[0].Clock.Now().Add(time.Minute).Format(time.RFC3339)
	m, _ := envs[0].Mint(acct, map[string]any{"name": "short", "expires_at": exp})
	id := m["id"].(string)
	// The sweep takes its candidates from the replica's index: whichever
	// replica is elected must have seen the mint before its first pass,
	// the only one within this test (the next is an hour away).
	servedEverywhere(t, envs, m["url"].(string))
	envs[0].Clock.Advance(2 * time.Minute)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		stopped := make(chan struct{})
		go func() { wg.Wait(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(apptest.Wait):
			t.Errorf("the sweepers did not stop within %s of their context's end", apptest.Wait)
		}
	})
	for _, e := range envs {
		wg.Go(func() { e.App.RunSweeper(ctx, time.Hour) })
	}
	store := envs[1].Store
	require.Eventually(t, func() bool {
		_, err := store.MCPServer(context.Background(), id)
		return errors.Is(err, tokens.ErrNotFound)
	}, 30*time.Second, 20*time.Millisecond, "the elected replica sweeps")
	entries, _, err := store.Audit(context.Background(), "", 1000)
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		if e.Action == "mcp_server.expire" && e.MCPServerID == id {
			n++
		}
	}
	assert.Equal(t, 1, n, "swept once")
}

// TestReplicasEnforceAdminChanges: what an admin changes through one
// replica is enforced by the others within a second: a deleted API token,
// a URL's auth switched (and the OAuth grants that switch ends, which do
// not come back when it is switched back), a revoked connect link.
func TestReplicasEnforceAdminChanges(t *testing.T) {
	t.Parallel()
	cluster := shared.Cluster(t)
	envs := replicas(t, cluster, 2, nil)
	a, b := envs[0], envs[1]
	ctx := context.Background()

	t.Run("API token deleted", func(t *testing.T) {
		tok := a.AdminCall("POST", "/admin/api-tokens", map[string]any{"name": "temp"}, http.StatusCreated)
		value, id := tok["token"].(string), tok["id"].(string)
		assert.Equal(t, http.StatusOK, b.RequestAs(value, "", "GET", "/admin/integrated-accounts", nil).Status, "created through A, it works on B")
		a.AdminCall("DELETE", "/admin/api-tokens/"+id, nil, http.StatusNoContent)
		assert.Eventually(t, func() bool {
			return b.RequestAs(value, "", "GET", "/admin/integrated-accounts", nil).Status == http.StatusUnauthorized
		}, within, 10*time.Millisecond, "deleted through A, it stops working on B")
	})

	acct := a.ConnectAccount("us")
	id, url := a.MintURL(acct, nil)
	urlOnB := on(b, url)
	require.Eventually(t, func() bool { return post(t, urlOnB) == http.StatusOK }, within, 10*time.Millisecond)
	patch := func(cfg map[string]any) {
		a.AdminCall("PATCH", "/admin/integrated-accounts/"+acct+"/mcp/"+id, map[string]any{"config": cfg}, http.StatusOK)
	}

	t.Run("URL switched to api_token auth", func(t *testing.T) {
		patch(map[string]any{"auth": "api_token"})
		assert.Eventually(t, func() bool { return post(t, urlOnB) == http.StatusUnauthorized }, within, 10*time.Millisecond,
			"B stops serving the URL without an API token")
		assert.Equal(t, http.StatusOK, postAs(t, urlOnB, b.Admin), "and serves it with one")
	})

	t.Run("URL switched to oauth, then away and back", func(t *testing.T) {
		patch(map[string]any{"auth": "oauth"})
		m, err := a.Store.MCPServer(ctx, id)
		require.NoError(t, err)
		access := tokens.OAuthAccessPrefix + strings.Repeat("A", 43)
		g := &tokens.OAuthGrant{
			ID: apptest.NewID(), MCPServerID: id, AccountID: acct, AuthEpoch: m.Config.AuthEpoch, ClientID: "bmcp_client_test",
			UserID: "1", ZUID: "1", Email: "p@example.com", CodeHash: tokens.HashToken("code-" + apptest.NewID()),
			CodeExpiresAt: a.Clock.Now(), AccessHash: tokens.HashToken(access), AccessExpiresAt: a.Clock.Now().Add(time.Hour),
		}
		require.NoError(t, a.Store.CreateOAuthGrant(ctx, g), "a grant as the token endpoint stores it")
		assert.Eventually(t, func() bool { return postAs(t, urlOnB, access) == http.StatusOK }, within, 10*time.Millisecond,
			"B serves the oauth URL to the grant's access token")
		assert.Equal(t, http.StatusUnauthorized, postAs(t, urlOnB, b.Admin), "and not to an API token")

		patch(map[string]any{"auth": "url"})
		assert.Eventually(t, func() bool { return post(t, urlOnB) == http.StatusOK }, within, 10*time.Millisecond,
			"B serves the URL alone once its auth is url")
		_, err = b.Store.OAuthGrant(ctx, g.ID)
		assert.ErrorIs(t, err, tokens.ErrNotFound, "switching auth away from oauth ended the grant")

		patch(map[string]any{"auth": "oauth"})
		assert.Eventually(t, func() bool { return post(t, urlOnB) == http.StatusUnauthorized }, within, 10*time.Millisecond,
			"B asks for OAuth again")
		assert.Equal(t, http.StatusUnauthorized, postAs(t, urlOnB, access), "the old grant does not come back")
	})

	t.Run("connect link revoked", func(t *testing.T) {
		l := a.AdminCall("POST", "/admin/connect-links", map[string]any{"name": "customer"}, http.StatusCreated)
		page := b.URL + l["url"].(string)[strings.Index(l["url"].(string), "/connect/"):]
		get := func() int {
			res, err := client.Get(page)
			require.NoError(t, err)
			res.Body.Close()
			return res.StatusCode
		}
		assert.Equal(t, http.StatusOK, get(), "created through A, the link opens on B")
		a.AdminCall("DELETE", "/admin/connect-links/"+l["id"].(string), nil, http.StatusNoContent)
		assert.Eventually(t, func() bool { return get() != http.StatusOK }, within, 10*time.Millisecond,
			"revoked through A, it no longer opens on B")
	})
}

// TestReplicasFollowAReconnect: an account whose Zoho grant was revoked
// fails its URL on both replicas; a reconnect link opened on A and
// completed through the sandbox's consent makes the URL work on B too,
// whose cached Bigin client holds the old grant.
func TestReplicasFollowAReconnect(t *testing.T) {
	t.Parallel()
	cluster := shared.Cluster(t)
	envs := replicas(t, cluster, 2, nil)
	a, b := envs[0], envs[1]
	sb := a.Sandboxes["us"]
	rt := sb.IssueRefreshToken(bigin.Scopes()...)
	acct := a.AdminCall("POST", "/admin/integrated-accounts", map[string]any{
		"name": "Acme", "datacenter": "us", "refresh_token": rt,
	}, http.StatusCreated)["id"].(string)
	_, url := a.MintURL(acct, nil)
	require.Eventually(t, func() bool { return post(t, on(b, url)) == http.StatusOK }, within, 10*time.Millisecond)
	csB := b.MustConnect(on(b, url), "streamable")
	res, _ := apptest.CallTool(t, csB, "list_all_zohobigin_me", nil)
	require.False(t, res.IsError, "B built its client with the first grant")

	require.True(t, sb.RevokeRefreshToken(rt))
	sb.ExpireAccessTokens()
	res, out := apptest.CallTool(t, csB, "list_all_zohobigin_me", nil)
	require.True(t, res.IsError)
	assert.Equal(t, "reauthorization_required", out["error"].(map[string]any)["code"])

	l := a.AdminCall("POST", "/admin/connect-links", map[string]any{"account_id": acct}, http.StatusCreated)
	link := l["url"].(string)
	browser := &http.Client{Timeout: client.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	hop := func(target string) string {
		res, err := browser.Get(target)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusFound, res.StatusCode, target)
		return res.Header.Get("Location")
	}
	back := hop(hop(a.URL + link[strings.Index(link, "/connect/"):]))
	res2, err := client.Get(a.URL + back[strings.Index(back, "/oauth/"):])
	require.NoError(t, err)
	res2.Body.Close()
	require.Equal(t, http.StatusOK, res2.StatusCode, "the callback on A repairs the account")

	assert.Eventually(t, func() bool {
		res, _ := apptest.CallTool(t, csB, "list_all_zohobigin_me", nil)
		return !res.IsError
	}, within, 10*time.Millisecond, "B serves the account with its new grant")
	assert.Equal(t, "active", b.AdminCall("GET", "/admin/integrated-accounts/"+acct, nil, http.StatusOK)["status"])
}
