package mcp_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/mcp"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestToolsListFollowsConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.ConnectAccount("us")
	tests := []struct {
		name   string
		config map[string]any
		want   []string
	}{
		{"all", map[string]any{}, apptest.AllTools()},
		{"read only", map[string]any{"methods": []string{"read"}}, apptest.ReadTools()},
		{"delete only", map[string]any{"methods": []string{"delete"}}, []string{"delete_a_zohobigin_user_by_id", "delete_zohobigin_records_by_ids"}},
		{"write", map[string]any{"methods": []string{"write"}}, []string{"delete_a_zohobigin_user_by_id",
			"create_zohobigin_records", "update_zohobigin_records", "delete_zohobigin_records_by_ids", "add_zohobigin_note"}},
		{"directory write", map[string]any{"methods": []string{"write"}, "tags": []string{"directory"}}, []string{"delete_a_zohobigin_user_by_id"}},
		{"tag roles", map[string]any{"tags": []string{"roles"}}, []string{"list_all_zohobigin_roles"}},
		{"organization read", map[string]any{"tags": []string{"organization"}, "methods": []string{"read"}}, []string{"list_all_zohobigin_current_organization"}},
		{"exact methods", map[string]any{"methods": []string{"get", "delete"}, "tags": []string{"users"}},
			[]string{"get_single_zohobigin_user_by_id", "delete_a_zohobigin_user_by_id"}},
		{"records read", map[string]any{"methods": []string{"read"}, "tags": []string{"records"}}, apptest.RecordReadTools()},
		{"permissions list", map[string]any{"tags": []string{"permissions"}, "methods": []string{"list"}}, []string{"list_all_zohobigin_roles", "list_all_zohobigin_profiles"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, url := e.MintURL(acct, tt.config)
			for _, transport := range []string{"streamable", "sse"} {
				cs := e.MustConnect(url, transport)
				assert.ElementsMatch(t, tt.want, apptest.ToolNames(t, cs), transport)
			}
		})
	}
}

func TestFilteredToolIsUncallable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.ConnectAccount("us")
	_, url := e.MintURL(acct, map[string]any{"methods": []string{"read"}})
	cs := e.MustConnect(url, "streamable")
	before := e.Sandboxes["us"].RequestCount()
	_, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: "delete_a_zohobigin_user_by_id", Arguments: map[string]any{"id": "1"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown tool")
	assert.Equal(t, before, e.Sandboxes["us"].RequestCount(), "nothing reached Bigin")
}

func TestInitializeNamesOrgAndPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.ConnectAccount("us")
	_, url := e.MintURL(acct, map[string]any{"methods": []string{"read"}})
	cs := e.MustConnect(url, "streamable")
	init := cs.InitializeResult()
	require.NotNil(t, init)
	assert.Equal(t, "bigin-mcp", init.ServerInfo.Name)
	assert.Equal(t, "test", init.ServerInfo.Version)
	require.NotNil(t, init.Capabilities.Tools)
	assert.False(t, init.Capabilities.Tools.ListChanged)
	assert.Contains(t, init.Instructions, e.Sandboxes["us"].OrgName())
	assert.Contains(t, init.Instructions, "read-only")
}

// rawPost sends one JSON-RPC message to an MCP URL with extra headers.
func rawPost(t *testing.T, url, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

const pingBody = `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`

// assertErrorShape checks that an answer of an MCP endpoint is a JSON-RPC
// error a client can show: the id of pingBody when the body was read, null
// otherwise, a numeric JSON-RPC code, a message, and the admin API's error
// code in data.
func assertErrorShape(t *testing.T, body, code string) {
	t.Helper()
	var got struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   struct {
			Code    *int   `json:"code"`
			Message string `json:"message"`
			Data    struct {
				Status int    `json:"status"`
				Code   string `json:"code"`
			} `json:"data"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &got), body)
	assert.Equal(t, "2.0", got.JSONRPC, body)
	assert.Contains(t, []string{"null", "1"}, string(got.ID), body)
	require.NotNil(t, got.Error.Code, body)
	assert.Equal(t, code, got.Error.Data.Code, body)
	assert.NotZero(t, got.Error.Data.Status, body)
	assert.NotEmpty(t, got.Error.Message)
	assert.NotContains(t, body, "bmcp_", "no token in error bodies")
}

func TestHTTPErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.ConnectAccount("us")
	mcpID, url := e.MintURL(acct, map[string]any{})
	_, authURL := e.MintURL(acct, map[string]any{"require_api_token_auth": true})
	deletedID, deletedURL := e.MintURL(acct, map[string]any{})
	e.AdminCall("DELETE", "/admin/integrated-accounts/"+acct+"/mcp/"+deletedID, nil, http.StatusNoContent)
	_ = mcpID

	t.Run("works", func(t *testing.T) {
		resp, body := rawPost(t, url, pingBody, nil)
		require.Equal(t, 200, resp.StatusCode, body)
		assert.Contains(t, body, "list_all_zohobigin_users")
	})
	t.Run("unknown, deleted and malformed tokens get one 404", func(t *testing.T) {
		var bodies []string
		for _, u := range []string{e.URL + "/mcp/bmcp_" + strings.Repeat("A", 43), deletedURL, e.URL + "/mcp/nonsense"} {
			resp, body := rawPost(t, u, pingBody, nil)
			assert.Equal(t, 404, resp.StatusCode)
			assertErrorShape(t, body, "not_found")
			bodies = append(bodies, body)
		}
		assert.Equal(t, bodies[0], bodies[1])
		assert.Equal(t, bodies[0], bodies[2])
	})
	t.Run("require_api_token_auth", func(t *testing.T) {
		resp, body := rawPost(t, authURL, pingBody, nil)
		assert.Equal(t, 401, resp.StatusCode)
		assert.Equal(t, `Bearer realm="bigin-mcp"`, resp.Header.Get("WWW-Authenticate"))
		assertErrorShape(t, body, "unauthenticated")
		resp, _ = rawPost(t, authURL, pingBody, map[string]string{"Authorization": "Bearer bmcp_api_wrong"})
		assert.Equal(t, 401, resp.StatusCode)
		resp, body = rawPost(t, authURL, pingBody, map[string]string{"Authorization": "Bearer " + e.Admin})
		assert.Equal(t, 200, resp.StatusCode, body)
	})
	t.Run("foreign Origin is 403, allowed ones pass", func(t *testing.T) {
		resp, body := rawPost(t, url, pingBody, map[string]string{"Origin": "https://evil.example"})
		assert.Equal(t, 403, resp.StatusCode)
		assertErrorShape(t, body, "permission_denied")
		for _, o := range []string{"https://claude.ai", e.URL} {
			resp, body = rawPost(t, url, pingBody, map[string]string{"Origin": o})
			assert.Equal(t, 200, resp.StatusCode, body)
			assert.Equal(t, o, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("rebinding Host on loopback is 403", func(t *testing.T) {
		resp, body := rawPost(t, url, pingBody, map[string]string{"Host": "abc.trycloudflare.com"})
		assert.Equal(t, 403, resp.StatusCode)
		assertErrorShape(t, body, "permission_denied")
		assert.Contains(t, body, "the Host abc.trycloudflare.com is not", "the message names the refused Host")
		assert.Contains(t, body, "set BIGIN_MCP_PUBLIC_URL to the URL they use", "and what to set")
	})
	t.Run("CORS preflight", func(t *testing.T) {
		req, _ := http.NewRequest("OPTIONS", url, nil)
		req.Header.Set("Origin", "https://claude.ai")
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 204, resp.StatusCode)
		assert.Equal(t, "https://claude.ai", resp.Header.Get("Access-Control-Allow-Origin"))
		assert.Contains(t, resp.Header.Get("Access-Control-Expose-Headers"), "Mcp-Session-Id")
		assert.Contains(t, resp.Header.Get("Access-Control-Expose-Headers"), "WWW-Authenticate")
		assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "Authorization")
	})
	t.Run("GET and DELETE are 405", func(t *testing.T) {
		for _, m := range []string{"GET", "DELETE"} {
			req, _ := http.NewRequest(m, url, nil)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, 405, resp.StatusCode, m)
			assertErrorShape(t, string(body), "method_not_allowed")
		}
	})
	t.Run("bodies over 1 MiB are 413", func(t *testing.T) {
		big := `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"pad":"` + strings.Repeat("x", 1<<20) + `"}}}`
		resp, body := rawPost(t, url, big, nil)
		assert.Equal(t, 413, resp.StatusCode)
		assertErrorShape(t, body, "too_large")
		resp, _ = rawPost(t, url+"/sse?sessionid=x", big, nil)
		assert.Equal(t, 413, resp.StatusCode)
	})
	t.Run("non-JSON content type is 415", func(t *testing.T) {
		resp, body := rawPost(t, url, pingBody, map[string]string{"Content-Type": "text/plain"})
		assert.Equal(t, 415, resp.StatusCode)
		assertErrorShape(t, body, "unsupported_media_type")
	})
}

func TestChangesTakeEffectOnNextRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.ConnectAccount("us")
	id, url := e.MintURL(acct, map[string]any{})
	path := "/admin/integrated-accounts/" + acct + "/mcp/" + id

	cs := e.MustConnect(url, "streamable")
	assert.ElementsMatch(t, apptest.AllTools(), apptest.ToolNames(t, cs))

	e.AdminCall("PATCH", path, map[string]any{"config": map[string]any{"methods": []string{"read"}}}, http.StatusOK)
	assert.ElementsMatch(t, apptest.ReadTools(), apptest.ToolNames(t, cs), "the same client sees the new policy on its next request")

	e.AdminCall("DELETE", path, nil, http.StatusNoContent)
	_, err := cs.ListTools(context.Background(), nil)
	require.Error(t, err)
	resp, _ := rawPost(t, url, pingBody, nil)
	assert.Equal(t, 404, resp.StatusCode)
}

// openSSE opens a raw SSE stream and returns a function that reports
// whether the stream ended within d.
func openSSE(t *testing.T, url string) func(d time.Duration) bool {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/sse", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		defer resp.Body.Close()
		r := bufio.NewReader(resp.Body)
		for {
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
		}
	}()
	return func(d time.Duration) bool {
		select {
		case <-ended:
			return true
		case <-time.After(d):
			return false
		}
	}
}

func TestSSEStreamClosesOnChangeAndDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.ConnectAccount("us")
	id, url := e.MintURL(acct, map[string]any{})
	path := "/admin/integrated-accounts/" + acct + "/mcp/" + id

	ended := openSSE(t, url)
	require.False(t, ended(200*time.Millisecond), "stream stays open while nothing changes")
	e.AdminCall("PATCH", path, map[string]any{"name": "renamed"}, http.StatusOK)
	assert.True(t, ended(5*time.Second), "a change closes the open stream")

	ended = openSSE(t, url)
	require.False(t, ended(200*time.Millisecond))
	e.AdminCall("DELETE", path, nil, http.StatusNoContent)
	assert.True(t, ended(5*time.Second), "a deletion closes the open stream")

	req, _ := http.NewRequest("GET", url+"/sse", nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 404, resp.StatusCode)
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.ConnectAccount("us")
	exp := e.Clock.Now().Add(61 * time.Second).UTC().Format(time.RFC3339)
	out := e.AdminCall("POST", "/admin/integrated-accounts/"+acct+"/mcp", map[string]any{"name": "short", "config": map[string]any{}, "expires_at": exp}, http.StatusCreated)
	url := out["url"].(string)

	resp, body := rawPost(t, url, pingBody, nil)
	require.Equal(t, 200, resp.StatusCode, body)
	e.Clock.Advance(62 * time.Second)
	resp, body = rawPost(t, url, pingBody, nil)
	assert.Equal(t, 404, resp.StatusCode)
	assertErrorShape(t, body, "not_found")
}

// An open SSE stream ends at its URL's expiry even when nothing else
// happens: the expiry timer runs on the injected clock.
func TestSSEStreamEndsAtExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.ConnectAccount("us")
	exp := e.Clock.Now().Add(61 * time.Second)
	out := e.AdminCall("POST", "/admin/integrated-accounts/"+acct+"/mcp", map[string]any{"name": "short", "config": map[string]any{}, "expires_at": exp.Format(time.RFC3339)}, http.StatusCreated)

	ended := openSSE(t, out["url"].(string))
	require.Eventually(t, func() bool { return e.Clock.Pending() > 0 }, 5*time.Second, 5*time.Millisecond, "the stream schedules its expiry")
	require.False(t, ended(200*time.Millisecond), "the stream stays open before the expiry")
	e.Clock.Advance(60 * time.Second)
	require.False(t, ended(200*time.Millisecond), "the stream stays open a second before the expiry")
	e.Clock.Advance(time.Second)
	assert.True(t, ended(5*time.Second), "the stream ends at the expiry (%s)", exp)
}

func TestSSESessionsAreBoundToTheirURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.ConnectAccount("us")
	_, urlA := e.MintURL(acct, map[string]any{"methods": []string{"read"}})
	_, urlB := e.MintURL(acct, map[string]any{})

	// Open a session on A and learn its endpoint from the first event.
	ctx, cancel := context.WithTimeout(context.Background(), generous) // a stream that sends nothing fails the read
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", urlA+"/sse", nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	var endpoint string
	for endpoint == "" {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
			endpoint = v
		}
	}
	_, sessionQuery, ok := strings.Cut(endpoint, "?")
	require.True(t, ok, endpoint)

	// Posting A's session id through B's URL must not reach A's session.
	resp2, _ := rawPost(t, urlB+"/sse?"+sessionQuery, pingBody, nil)
	assert.Equal(t, 404, resp2.StatusCode)
}

func TestServerCacheDropsDeletedURLs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.ConnectAccount("us")
	h := e.App.MCP
	for i := 0; i < mcp.PruneEvery+10; i++ {
		id, url := e.MintURL(acct, map[string]any{})
		resp, body := rawPost(t, url, pingBody, nil)
		require.Equal(t, 200, resp.StatusCode, body)
		e.AdminCall("DELETE", "/admin/integrated-accounts/"+acct+"/mcp/"+id, nil, http.StatusNoContent)
	}
	n := h.CachedServers()
	assert.Less(t, n, mcp.PruneEvery, "deleted URLs do not pile up in the server cache")
}
