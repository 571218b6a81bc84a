package mcp_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/mcp"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// send is rawPost with full control over the headers: nil values are
// removed (rawPost sets Accept and Content-Type).
func send(t *testing.T, method, url, body string, hdr map[string]*string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range hdr {
		if v == nil {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, *v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func str(s string) *string { return &s }

// rpcAnswer is a JSON-RPC response as the tests read it.
type rpcAnswer struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    struct {
			Status int    `json:"status"`
			Code   string `json:"code"`
		} `json:"data"`
	} `json:"error"`
}

func decodeAnswer(t *testing.T, body string) rpcAnswer {
	t.Helper()
	var a rpcAnswer
	require.NoError(t, json.Unmarshal([]byte(body), &a), body)
	return a
}

// sseData returns the data of the first event of an event-stream body.
func sseData(t *testing.T, body string) string {
	t.Helper()
	for _, line := range strings.Split(body, "\n") {
		if d, ok := strings.CutPrefix(line, "data: "); ok {
			return d
		}
	}
	t.Fatalf("no data line in %q", body)
	return ""
}

// Clients that send only one side of the Accept the go-sdk wants (Claude's
// hosted proxy, Claude Code and the Agent SDK have been seen to) are
// served in the format they accept.
func TestAcceptOneSide(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, url := e.MintURL(e.ConnectAccount("us"), map[string]any{})
	tests := []struct {
		name       string
		accept     *string
		wantStatus int
		wantType   string
	}{
		{"both", str("application/json, text/event-stream"), 200, "application/json"},
		{"JSON only", str("application/json"), 200, "application/json"},
		{"JSON with parameters", str("application/json; charset=utf-8;q=0.9"), 200, "application/json"},
		{"event stream only", str("text/event-stream"), 200, "text/event-stream"},
		{"anything", str("*/*"), 200, "application/json"},
		{"no Accept", nil, 200, "application/json"},
		{"neither", str("text/html"), 406, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := send(t, "POST", url, pingBody, map[string]*string{"Accept": tt.accept})
			require.Equal(t, tt.wantStatus, resp.StatusCode, body)
			assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), tt.wantType), resp.Header.Get("Content-Type"))
			data := body
			if tt.wantType == "text/event-stream" {
				data = sseData(t, body)
				assert.Equal(t, "no", resp.Header.Get("X-Accel-Buffering"))
			}
			a := decodeAnswer(t, data)
			assert.JSONEq(t, "1", string(a.ID))
			if tt.wantStatus == 200 {
				require.Nil(t, a.Error, body)
				assert.Contains(t, string(a.Result), "list_all_zohobigin_users")
			} else {
				require.NotNil(t, a.Error, body)
				assert.Contains(t, a.Error.Message, "Accept must include application/json or text/event-stream")
			}
		})
	}
}

// Every 4xx of the MCP endpoints is a JSON-RPC error a client can show:
// those of the go-sdk (text/plain on its own) with the request's id, and
// those of unknown tokens and unclean or unknown paths alike with the id
// null, since such requests are refused before their body is read.
func TestEvery4xxIsJSONRPC(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, url := e.MintURL(e.ConnectAccount("us"), map[string]any{})
	token := url[strings.LastIndex(url, "/")+1:]
	_, unknown := send(t, "POST", e.URL+"/mcp/"+tokens.NewMCPToken(), pingBody, nil)

	tests := []struct {
		name       string
		method     string
		url        string
		body       string
		hdr        map[string]*string
		wantStatus int
		wantID     string
		wantRPC    int
		wantCode   string
		wantText   string
	}{
		{"unsupported protocol version", "POST", url, pingBody, map[string]*string{"Mcp-Protocol-Version": str("1999-01-01")},
			400, "1", -32000, "invalid_argument", "Unsupported protocol version"},
		{"malformed payload", "POST", url, `{"jsonrpc":"2.0",`, nil, 400, "null", -32700, "invalid_argument", "malformed payload"},
		{"SSE post without a session", "POST", url + "/sse", `{"jsonrpc":"2.0","id":"a","method":"ping"}`, nil,
			400, `"a"`, -32000, "invalid_argument", "sessionid must be provided"},
		{"SSE post to an unknown session", "POST", url + "/sse?sessionid=nope", `{"jsonrpc":"2.0","id":7,"method":"ping"}`, nil,
			404, "7", -32001, "not_found", "session not found"},
		{"double slash", "POST", e.URL + "/mcp//" + token, pingBody, nil, 404, "null", -32001, "not_found", "no MCP server at this URL"},
		{"dot segment", "POST", e.URL + "/mcp/x/../" + token, pingBody, nil, 404, "null", -32001, "not_found", "no MCP server at this URL"},
		{"trailing slash", "POST", url + "/", pingBody, nil, 404, "null", -32001, "not_found", "no MCP server at this URL"},
		{"unknown sub-path", "POST", url + "/messages", pingBody, nil, 404, "null", -32001, "not_found", "no MCP server at this URL"},
		{"bare prefix", "POST", e.URL + "/mcp/", pingBody, nil, 404, "null", -32001, "not_found", "no MCP server at this URL"},
		{"unknown token without a readable id", "POST", e.URL + "/mcp/" + tokens.NewMCPToken(), `[{"jsonrpc":"2.0","id":1,"method":"ping"}]`, nil,
			404, "null", -32001, "not_found", "no MCP server at this URL"},
		{"no prefix slash", "GET", e.URL + "/mcp", "", nil, 404, "null", -32001, "not_found", "no MCP server at this URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := send(t, tt.method, tt.url, tt.body, tt.hdr)
			require.Equal(t, tt.wantStatus, resp.StatusCode, body)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			a := decodeAnswer(t, body)
			require.NotNil(t, a.Error, body)
			assert.JSONEq(t, tt.wantID, string(a.ID))
			assert.Equal(t, tt.wantRPC, a.Error.Code)
			assert.Equal(t, tt.wantStatus, a.Error.Data.Status)
			assert.Equal(t, tt.wantCode, a.Error.Data.Code)
			assert.Contains(t, a.Error.Message, tt.wantText)
			assert.NotContains(t, body, token)
			if strings.Contains(tt.wantText, "no MCP server") {
				assert.Equal(t, unknown, body, "one 404 for every URL that is not a live MCP URL")
			}
		})
	}
}

func TestCORSPreflight(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, url := e.MintURL(e.ConnectAccount("us"), map[string]any{})
	for _, tt := range []struct{ url, methods string }{
		{url, "POST, OPTIONS"},
		{url + "/sse", "GET, POST, OPTIONS"},
	} {
		t.Run(tt.url[strings.LastIndex(tt.url, "/"):], func(t *testing.T) {
			req, _ := http.NewRequest("OPTIONS", tt.url, nil)
			req.Header.Set("Origin", "https://claude.ai")
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "content-type, mcp-method, mcp-name, mcp-param-id, Mcp-Param-Limit, x-evil")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, 204, resp.StatusCode)
			assert.Equal(t, tt.methods, resp.Header.Get("Access-Control-Allow-Methods"), "only the methods the endpoint serves")
			allowed := strings.Split(resp.Header.Get("Access-Control-Allow-Headers"), ", ")
			for _, h := range []string{"Authorization", "Content-Type", "Accept", "Mcp-Session-Id", "Mcp-Protocol-Version", "Mcp-Method", "Mcp-Name", "mcp-param-id", "Mcp-Param-Limit"} {
				assert.Contains(t, allowed, h)
			}
			assert.NotContains(t, allowed, "x-evil")
			assert.Equal(t, "https://claude.ai", resp.Header.Get("Access-Control-Allow-Origin"))
		})
	}
}

// tools/list depends on the URL's policy, so no shared cache may keep it;
// its order is stable.
func TestToolsListIsPrivateAndOrdered(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, url := e.MintURL(e.ConnectAccount("us"), map[string]any{})
	var orders [][]string
	for range 2 {
		resp, body := rawPost(t, url, pingBody, nil)
		require.Equal(t, 200, resp.StatusCode, body)
		var out struct {
			Result struct {
				CacheScope string `json:"cacheScope"`
				Tools      []struct {
					Name string `json:"name"`
				} `json:"tools"`
			} `json:"result"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &out))
		assert.Equal(t, "private", out.Result.CacheScope)
		var names []string
		for _, tool := range out.Result.Tools {
			names = append(names, tool.Name)
		}
		orders = append(orders, names)
	}
	assert.Equal(t, orders[0], orders[1])
	assert.True(t, slices.IsSorted(orders[0]), "%v", orders[0])
	assert.Len(t, orders[0], len(apptest.AllTools()))
}

// The legacy SSE stream gets a comment every keep-alive interval of the
// injected clock, between events, and stays usable.
func TestSSEKeepAlive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, url := e.MintURL(e.ConnectAccount("us"), map[string]any{})
	baseline := e.Clock.Pending()
	req, _ := http.NewRequest("GET", url+"/sse", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "no", resp.Header.Get("X-Accel-Buffering"))

	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		r := bufio.NewReader(resp.Body)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			lines <- strings.TrimRight(line, "\n")
		}
	}()
	next := func() string {
		t.Helper()
		select {
		case l, ok := <-lines:
			require.True(t, ok, "the stream ended")
			return l
		case <-time.After(10 * time.Second):
			t.Fatalf("no line within 10 s (pending timers: %d)", e.Clock.Pending())
			return ""
		}
	}
	var endpoint string
	for endpoint == "" {
		if d, ok := strings.CutPrefix(next(), "data: "); ok {
			endpoint = d
		}
	}
	require.Equal(t, "", next(), "the endpoint event ends")
	for range 2 {
		require.Eventually(t, func() bool { return e.Clock.Pending() > baseline }, 5*time.Second, 5*time.Millisecond, "the stream schedules its keep-alive")
		e.Clock.Advance(mcp.DefaultKeepAlive)
		assert.Equal(t, ": keep-alive", next())
		assert.Equal(t, "", next())
	}

	// The session still answers after the comments.
	presp, body := rawPost(t, e.URL+endpoint, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`, nil)
	require.Equal(t, http.StatusAccepted, presp.StatusCode, body)
	assert.Equal(t, "event: message", next())
	assert.Contains(t, next(), `"serverInfo"`)
}
