package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

// TestGracefulShutdownFinishesInFlightCalls: SIGINT/SIGTERM (the context
// here) lets a tool call that is already waiting on Zoho finish and answer,
// then serve returns cleanly and the store is closed.
func TestGracefulShutdownFinishesInFlightCalls(t *testing.T) {
	sb := sandbox.New(sandbox.Options{})
	zs := httptest.NewServer(sb)
	defer zs.Close()
	sb.SetBaseURL(zs.URL)

	dir := t.TempDir()
	base, tok, _, stop := startServe(t, map[string]string{
		"BIGIN_MCP_DATA_DIR":           dir,
		"BIGIN_MCP_DATACENTERS":        fmt.Sprintf(`{"us":{"accounts_url":%q,"api_url":%q}}`, zs.URL, zs.URL),
		"BIGIN_MCP_ZOHO_CLIENT_ID":     sb.ClientID(),
		"BIGIN_MCP_ZOHO_CLIENT_SECRET": sb.ClientSecret(),
	})
	post := func(path string, body any) map[string]any {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusCreated, resp.StatusCode)
		out := map[string]any{}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return out
	}
	acct := post("/admin/integrated-accounts", map[string]any{"name": "a", "datacenter": "us", "refresh_token": sb.IssueRefreshToken()})
	url := post("/admin/integrated-accounts/"+acct["id"].(string)+"/mcp", map[string]any{"name": "u", "config": map[string]any{}})["url"].(string)

	cs, err := sdk.NewClient(&sdk.Implementation{Name: "t", Version: "1"}, nil).
		Connect(context.Background(), &sdk.StreamableClientTransport{Endpoint: url, MaxRetries: -1}, nil)
	require.NoError(t, err)
	defer cs.Close()

	held, release := sb.HoldAPI()
	defer release()
	type answer struct {
		res *sdk.CallToolResult
		err error
	}
	got := make(chan answer, 1)
	go func() {
		res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: "list_all_zohobigin_roles"})
		got <- answer{res, err}
	}()
	<-held // the call is now waiting on Zoho
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// Shutdown closes the listener first: once a new connection is
	// refused, the server is shutting down with the call still in flight.
	for {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			break
		}
		resp.Body.Close()
		runtime.Gosched()
	}
	release()

	a := <-got
	require.NoError(t, a.err, "the in-flight call is answered, not cut off")
	assert.False(t, a.res.IsError)
	require.NoError(t, <-stopped)

	// New connections are refused once shut down.
	_, err = http.Get(base + "/healthz")
	assert.Error(t, err)
}
