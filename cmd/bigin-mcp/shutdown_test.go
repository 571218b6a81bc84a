package main

import (
	"context"
	"net/http"
	"runtime"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGracefulShutdownFinishesInFlightCalls: SIGINT/SIGTERM (the context
// here) lets a tool call that is already waiting on Zoho finish and answer,
// then serve returns cleanly and the store is closed.
func TestGracefulShutdownFinishesInFlightCalls(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sb, base, _, url, _, stop := sandboxServe(t, map[string]string{"BIGIN_MCP_DATA_DIR": dir})

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
	select {
	case <-held: // the call is now waiting on Zoho
	case <-time.After(20 * time.Second):
		t.Fatal("the tool call did not reach the sandbox within 20 s")
	}
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// Shutdown closes the listener first: once a new connection is
	// refused, the server is shutting down with the call still in flight.
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			break
		}
		resp.Body.Close()
		require.True(t, time.Now().Before(deadline), "the server still accepted connections 20 s after shutdown began")
		runtime.Gosched()
	}
	release()

	select {
	case a := <-got:
		require.NoError(t, a.err, "the in-flight call is answered, not cut off")
		assert.False(t, a.res.IsError)
	case <-time.After(20 * time.Second):
		t.Fatal("the in-flight call got no answer within 20 s of its release")
	}
	select {
	case err := <-stopped:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not return within 30 s of the call's answer")
	}

	// New connections are refused once shut down.
	_, err = http.Get(base + "/healthz")
	assert.Error(t, err)
}
