package mcp_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/mcp"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// generous bounds every wait on the server, for a slow, busy machine;
// none of them is a timing the tests assert.
const generous = 20 * time.Second

func newLimitedEnv(t *testing.T, limits app.Limits) *apptest.Env {
	t.Helper()
	return apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.Limits = limits }})
}

// Slow bodies, for a valid MCP URL and a valid API token alike, are cut
// at the body deadline with 408, while the server goes on answering
// everyone else.
func TestSlowBodiesAreCutWhileOthersAreServed(t *testing.T) {
	t.Parallel()
	e := newLimitedEnv(t, app.Limits{BodyTimeout: 2 * time.Second})
	acct := e.ConnectAccount("us")
	_, url := e.MintURL(acct, map[string]any{})
	path := strings.TrimPrefix(url, e.URL)
	cs := e.MustConnect(url, "streamable")

	json := http.Header{"Content-Type": {"application/json"}}
	admin := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + e.Admin}}
	var slow []*apptest.SlowBody
	for i := range 30 {
		s := &apptest.SlowBody{Method: "POST", Path: path, Header: json, Length: 200000, Every: 50 * time.Millisecond}
		switch i % 3 {
		case 1:
			s.Path = path + "/sse?sessionid=abc"
		case 2:
			s.Path, s.Header = "/admin/api-tokens", admin
		}
		slow = append(slow, s.Start(t, e.URL))
	}

	// Meanwhile: a tool call, an MCP request and an admin request.
	res, out := apptest.CallTool(t, cs, "list_all_zohobigin_users", map[string]any{"limit": 5})
	assert.False(t, res.IsError, "%v", out)
	resp, body := rawPost(t, url, pingBody, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	e.AdminCall("GET", "/admin/integrated-accounts", nil, http.StatusOK)

	for _, s := range slow {
		resp, body, err := s.Response(generous)
		require.NoError(t, err, "%s: the slow body is answered, not waited for", s.Path)
		assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode, "%s: %s", s.Path, body)
		if strings.HasPrefix(s.Path, "/admin/") {
			assertAdminErrorShape(t, string(body), tokens.CodeRequestTimeout)
		} else {
			assertErrorShape(t, string(body), tokens.CodeRequestTimeout)
		}
		assert.True(t, s.ClosedByServer(generous), "%s: the connection closes", s.Path)
	}
	resp, body = rawPost(t, url, pingBody, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
}

// A request the server refuses for its token, its size or its type is
// answered at once, without waiting for its body, and its connection
// closes: the body deadline here is an hour.
func TestRefusedBeforeTheBodyIsRead(t *testing.T) {
	t.Parallel()
	e := newLimitedEnv(t, app.Limits{BodyTimeout: time.Hour})
	acct := e.ConnectAccount("us")
	_, url := e.MintURL(acct, map[string]any{})
	_, authURL := e.MintURL(acct, map[string]any{"require_api_token_auth": true})
	path, authPath := strings.TrimPrefix(url, e.URL), strings.TrimPrefix(authURL, e.URL)
	unknownPath := "/mcp/" + tokens.NewMCPToken()

	json := http.Header{"Content-Type": {"application/json"}}
	bearer := func(tok string) http.Header {
		return http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + tok}}
	}
	tests := []struct {
		name, path string
		header     http.Header
		length     int
		status     int
		code       string
	}{
		{"unknown MCP URL", unknownPath, json, 200000, 404, tokens.CodeNotFound},
		{"unknown MCP URL, SSE", unknownPath + "/sse?sessionid=abc", json, 200000, 404, tokens.CodeNotFound},
		{"MCP URL without its API token", authPath, json, 200000, 401, tokens.CodeUnauthenticated},
		{"MCP URL with an unknown API token", authPath, bearer("not-a-token"), 200000, 401, tokens.CodeUnauthenticated},
		{"MCP body over the limit", path, json, 2 << 20, 413, tokens.CodeTooLarge},
		{"MCP body not JSON", path, http.Header{"Content-Type": {"text/plain"}}, 200000, 415, tokens.CodeUnsupportedMediaType},
		{"admin without an API token", "/admin/api-tokens", json, 200000, 401, tokens.CodeUnauthenticated},
		{"admin with an unknown API token", "/admin/api-tokens", bearer("not-a-token"), 200000, 401, tokens.CodeUnauthenticated},
		{"admin body over the limit", "/admin/api-tokens", bearer(e.Admin), 2 << 20, 413, tokens.CodeTooLarge},
		{"admin path that does not exist", "/admin/nothing-here", bearer(e.Admin), 200000, 404, tokens.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, every := range []time.Duration{0, 50 * time.Millisecond} {
				s := (&apptest.SlowBody{Method: "POST", Path: tt.path, Header: tt.header, Length: tt.length, Every: every}).Start(t, e.URL)
				resp, body, err := s.Response(generous)
				require.NoError(t, err, "answered without the body (a byte every %s)", every)
				assert.Equal(t, tt.status, resp.StatusCode, "%s", body)
				if strings.HasPrefix(tt.path, "/admin/") {
					assertAdminErrorShape(t, string(body), tt.code)
				} else {
					assertErrorShape(t, string(body), tt.code)
				}
				assert.True(t, s.ClosedByServer(generous), "the connection closes")
			}
		})
	}
}

// sseOpener opens legacy SSE streams and keeps them open until the test
// closes them.
type sseOpener struct {
	t    *testing.T
	mu   sync.Mutex
	open []context.CancelFunc
}

// stream opens one stream on url and returns the status it got (200: the
// stream is open, and stays open until closeAll or close).
func (o *sseOpener) stream(url string) (int, http.Header, string, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/sse", nil)
	require.NoError(o.t, err)
	resp, err := http.DefaultClient.Do(req)
	if !assert.NoError(o.t, err) {
		cancel()
		return 0, nil, "", cancel
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		return resp.StatusCode, resp.Header, string(body), cancel
	}
	o.mu.Lock()
	o.open = append(o.open, cancel)
	o.mu.Unlock()
	return resp.StatusCode, resp.Header, "", func() { cancel(); resp.Body.Close() }
}

func (o *sseOpener) closeAll() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, c := range o.open {
		c()
	}
	o.open = nil
}

// The caps on open SSE streams hold under a burst, per URL and in total,
// with 429 and Retry-After past them; places come back when streams
// close, whether the client closes them or a change or deletion of their
// URL does.
func TestSSEStreamCaps(t *testing.T) {
	t.Parallel()
	e := newLimitedEnv(t, app.Limits{MaxSSEStreams: 5, MaxSSEStreamsPerURL: 3})
	acct := e.ConnectAccount("us")
	idA, urlA := e.MintURL(acct, map[string]any{})
	_, urlB := e.MintURL(acct, map[string]any{})
	_, urlC := e.MintURL(acct, map[string]any{})
	o := &sseOpener{t: t}
	t.Cleanup(o.closeAll)
	h := e.App.MCP
	openNow := func(want int) {
		t.Helper()
		require.Eventually(t, func() bool { return h.SSEStreams().Open == want }, generous, 10*time.Millisecond,
			"open streams: want %d, have %+v", want, h.SSEStreams())
	}

	// A burst of 12 on URL A: exactly 3 get a stream.
	type result struct {
		status int
		header http.Header
		body   string
	}
	results := make(chan result, 12)
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			status, hdr, body, _ := o.stream(urlA)
			results <- result{status, hdr, body}
		})
	}
	wg.Wait()
	close(results)
	counts := map[int]int{}
	for r := range results {
		counts[r.status]++
		if r.status == http.StatusTooManyRequests {
			assert.Equal(t, "30", r.header.Get("Retry-After"))
			assertErrorShape(t, r.body, tokens.CodeRateLimited)
			assert.Contains(t, r.body, "this MCP URL already has 3 open event streams")
		}
	}
	assert.Equal(t, map[int]int{200: 3, 429: 9}, counts)
	assert.Equal(t, mcp.SSEStreamCounts{Open: 3, URLs: 1, Refused: 9, MaxTotal: 5, MaxPerURL: 3}, h.SSEStreams())

	// B fills the total; then neither B nor C gets one more.
	status, _, _, closeB := o.stream(urlB)
	require.Equal(t, 200, status)
	status, _, _, _ = o.stream(urlB)
	require.Equal(t, 200, status)
	for _, u := range []string{urlB, urlC} {
		status, hdr, body, _ := o.stream(u)
		assert.Equal(t, http.StatusTooManyRequests, status)
		assert.Equal(t, "30", hdr.Get("Retry-After"))
		assert.Contains(t, body, "the server already has 5 open event streams")
	}
	assert.Equal(t, mcp.SSEStreamCounts{Open: 5, URLs: 2, Refused: 11, MaxTotal: 5, MaxPerURL: 3}, h.SSEStreams())

	// A client closing a stream frees its place.
	closeB()
	openNow(4)
	status, _, _, _ = o.stream(urlC)
	assert.Equal(t, 200, status, "the freed place is C's")

	// Changing A ends its streams: their places come back.
	path := "/admin/integrated-accounts/" + acct + "/mcp/" + idA
	e.AdminCall("PATCH", path, map[string]any{"name": "renamed"}, http.StatusOK)
	openNow(2)
	for range 3 {
		status, _, _, _ = o.stream(urlA)
		assert.Equal(t, 200, status, "A has its places again")
	}
	status, _, _, _ = o.stream(urlA)
	assert.Equal(t, http.StatusTooManyRequests, status, "and still its cap")

	// Deleting A ends its streams too.
	e.AdminCall("DELETE", path, nil, http.StatusNoContent)
	openNow(2)
	assert.Equal(t, 2, h.SSEStreams().URLs)

	// Everyone closing leaves nothing counted.
	o.closeAll()
	openNow(0)
	assert.Equal(t, 0, h.SSEStreams().URLs)
}

// assertAdminErrorShape checks the admin API's error shape
// ({"error":{"code","message"}}, code a string).
func assertAdminErrorShape(t *testing.T, body, code string) {
	t.Helper()
	var got struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &got), body)
	assert.Equal(t, code, got.Error.Code, body)
	assert.NotEmpty(t, got.Error.Message, body)
}
