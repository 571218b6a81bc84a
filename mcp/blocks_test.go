package mcp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
)

// connectAt opens a session on url that negotiates protocol version v.
func connectAt(t *testing.T, url, transport, v string) *sdk.ClientSession {
	t.Helper()
	client := sdk.NewClient(&sdk.Implementation{Name: "blocks-test", Version: "1"}, nil)
	var tr sdk.Transport = &sdk.StreamableClientTransport{Endpoint: url, MaxRetries: -1}
	if transport == "sse" {
		tr = &sdk.SSEClientTransport{Endpoint: url + "/sse", HTTPClient: http.DefaultClient}
	}
	cs, err := client.Connect(context.Background(), tr, &sdk.ClientSessionOptions{ProtocolVersion: v})
	require.NoError(t, err)
	t.Cleanup(func() { cs.Close() })
	return cs
}

func callRaw(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any) *sdk.CallToolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err)
	return res
}

// TestResultBlocksByProtocol: a successful result is structuredContent
// plus the same JSON as one text block for every client before
// 2026-07-28; with StructuredOnly, a 2026-07-28 client gets
// structuredContent alone and an empty content array. Failures keep
// their text (what happened and what to do) for every client.
func TestResultBlocksByProtocol(t *testing.T) {
	t.Parallel()
	for _, structuredOnly := range []bool{false, true} {
		e := apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.StructuredOnly = structuredOnly }})
		acct := e.ConnectAccount("us")
		_, url := e.MintURL(acct, nil)
		cases := []struct {
			transport, version string
			wantText           bool
		}{
			{"streamable", "2025-03-26", true},
			{"streamable", "2025-06-18", true},
			{"streamable", "2025-11-25", true},
			{"streamable", "2026-07-28", !structuredOnly},
			{"sse", "2024-11-05", true},
		}
		for _, tc := range cases {
			t.Run(tc.transport+"/"+tc.version+"/structuredOnly="+map[bool]string{false: "off", true: "on"}[structuredOnly], func(t *testing.T) {
				cs := connectAt(t, url, tc.transport, tc.version)
				if tc.transport == "streamable" && tc.version != "2026-07-28" {
					require.Equal(t, tc.version, cs.InitializeResult().ProtocolVersion)
				}
				res := callRaw(t, cs, "list_all_zohobigin_users", map[string]any{"limit": 3})
				require.False(t, res.IsError)
				structured, err := json.Marshal(res.StructuredContent)
				require.NoError(t, err)
				var page struct {
					Result []map[string]any `json:"result"`
				}
				require.NoError(t, json.Unmarshal(structured, &page))
				assert.Len(t, page.Result, 3)
				if tc.wantText {
					require.Len(t, res.Content, 1)
					assert.JSONEq(t, string(structured), res.Content[0].(*sdk.TextContent).Text)
				} else {
					assert.Empty(t, res.Content)
				}

				fail := callRaw(t, cs, "get_single_zohobigin_user_by_id", map[string]any{"id": "999999999999"})
				require.True(t, fail.IsError)
				require.Len(t, fail.Content, 1, "a failure always says what to do in text")
				assert.Contains(t, fail.Content[0].(*sdk.TextContent).Text, `"error"`)
				assert.NotNil(t, fail.StructuredContent)
			})
		}
	}
}
