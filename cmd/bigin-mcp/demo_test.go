package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
)

// TestDemoPrintsAWorkingURL runs `bigin-mcp demo` as the README's quick
// start does and uses what it prints: the MCP URL answers real tool calls
// and the Claude Desktop block is valid JSON naming mcp-remote and the URL.
func TestDemoPrintsAWorkingURL(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, logs := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	// The address comes from BIGIN_MCP_ADDR, as for serve.
	go func() {
		done <- run(ctx, []string{"demo"}, envOf(map[string]string{"BIGIN_MCP_ADDR": "127.0.0.1:0"}), out, logs)
	}()

	urlRE := regexp.MustCompile(`MCP URL \(every tool\):\s+(http://\S+/mcp/bmcp_\S+)`)
	var url string
	require.Eventually(t, func() bool {
		m := urlRE.FindStringSubmatch(out.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	}, 15*time.Second, 20*time.Millisecond, "demo prints the MCP URL")
	assert.Regexp(t, `Admin API token:\s+bmcp_api_`, out.String())

	// The web UI's address is printed, and nothing is signed in by itself:
	// a fresh browser lands on the sign-in page.
	uiURL := regexp.MustCompile(`Web UI:\s+(http://\S+/ui/)`).FindStringSubmatch(out.String())
	require.NotNil(t, uiURL, "demo prints the web UI's address")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	uiResp, err := noRedirect.Get(uiURL[1] + "accounts")
	require.NoError(t, err)
	uiResp.Body.Close()
	assert.Equal(t, http.StatusSeeOther, uiResp.StatusCode)
	assert.Equal(t, "/ui/signin", uiResp.Header.Get("Location"))

	text := out.String()
	start := regexp.MustCompile(`(?s)\{\s*"mcpServers".*?\n\}`).FindString(text)
	var block struct {
		MCPServers map[string]struct {
			Command string   `json:"command"`
			Args    []string `json:"args"`
		} `json:"mcpServers"`
	}
	require.NoError(t, json.Unmarshal([]byte(start), &block), start)
	assert.Equal(t, "npx", block.MCPServers["bigin"].Command)
	assert.Equal(t, []string{"-y", "mcp-remote", url}, block.MCPServers["bigin"].Args)

	client := sdk.NewClient(&sdk.Implementation{Name: "demo-test", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: url, MaxRetries: -1}, nil)
	require.NoError(t, err)
	tools, err := cs.ListTools(ctx, nil)
	require.NoError(t, err)
	assert.Len(t, tools.Tools, len(apptest.AllTools()))
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "list_all_zohobigin_users", Arguments: map[string]any{"limit": 5}})
	require.NoError(t, err)
	require.False(t, res.IsError)
	assert.Len(t, res.StructuredContent.(map[string]any)["result"], 5)
	cs.Close()

	// The connect link it prints, opened as it is, completes the whole
	// OAuth flow against the sandbox, as a customer's browser would: no
	// region to pick, and no hop leaves loopback for a real Zoho.
	linkRE := regexp.MustCompile(`(http://\S+/connect/bmcp_link_\S+)`)
	require.Eventually(t, func() bool { return linkRE.MatchString(out.String()) }, 5*time.Second, 20*time.Millisecond)
	var hops []string
	browser := &http.Client{CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		hops = append(hops, r.URL.Host)
		return nil
	}}
	resp, err := browser.Get(linkRE.FindStringSubmatch(out.String())[1])
	require.NoError(t, err)
	require.NotEmpty(t, hops, "the link redirects to the sandbox's sign-in")
	for _, h := range hops {
		assert.True(t, strings.HasPrefix(h, "127.0.0.1:"), "hop to %s", h)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, string(page))
	assert.Contains(t, string(page), "now connected")

	// The connect link comes before the last line, and requests are
	// logged as serve logs them.
	text = out.String()
	assert.Less(t, strings.Index(text, "/connect/bmcp_link_"), strings.Index(text, "Press Ctrl-C to stop"))
	assert.True(t, strings.HasSuffix(strings.TrimSpace(text), "Press Ctrl-C to stop."), text)
	assert.Contains(t, logs.String(), `"msg":"http request"`)
	assert.Contains(t, logs.String(), `"route":"/mcp/{token}"`)

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err, "Ctrl-C stops the demo cleanly")
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop")
	}
}
