package mcp_test

import (
	"context"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// BenchmarkToolCallUsers measures one tools/call of list_all_zohobigin_users
// (limit 100) through the whole stack over loopback HTTP: go-sdk client,
// our endpoint, the Bigin client and the sandbox. Run with -benchmem; the
// load tool (cmd/bigin-mcp-load) compares it with a bare go-sdk server.
func BenchmarkToolCallUsers(b *testing.B) {
	e := newEnv(b)
	acct := e.ConnectAccount("us")
	// The budget at its maximum keeps the page at 100 full users, the
	// payload the load tool's bare server returns.
	_, url := e.MintURL(acct, map[string]any{"max_result_chars": tokens.MaxResultChars})
	client := sdk.NewClient(&sdk.Implementation{Name: "bench", Version: "1"}, nil)
	cs, err := client.Connect(context.Background(), &sdk.StreamableClientTransport{Endpoint: url, MaxRetries: -1}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cs.Close()
	params := &sdk.CallToolParams{Name: "list_all_zohobigin_users", Arguments: map[string]any{"limit": 100}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := cs.CallTool(context.Background(), params)
		if err != nil || res.IsError {
			b.Fatal(err, res)
		}
	}
}
