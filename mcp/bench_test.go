package mcp_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
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

// BenchmarkToolCallUsersRaw is BenchmarkToolCallUsers without the go-sdk
// client, whose decoding of the 100 records into maps is most of that
// benchmark's allocations: a plain HTTP client posts the tools/call as a
// 2025-06-18 client (so the answer carries the text block and
// structuredContent) and discards the answer unread. What it allocates
// is the server's, the sandbox Bigin's and net/http's.
func BenchmarkToolCallUsersRaw(b *testing.B) {
	e := newEnv(b)
	acct := e.ConnectAccount("us")
	_, url := e.MintURL(acct, map[string]any{"max_result_chars": tokens.MaxResultChars})
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_all_zohobigin_users","arguments":{"limit":100}}}`)
	hc := &http.Client{}
	call := func() int64 {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Status, err)
		}
		return n
	}
	if n := call(); n < 150_000 {
		b.Fatalf("the answer is %d bytes: not 100 users written twice", n)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		call()
	}
}
