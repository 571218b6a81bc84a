package main

import (
	"context"
	"net/http"
	"runtime"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGracefulShutdownFinishesInFlightCalls: SIGINT/SIGTERM (the context
// here) lets a tool call that is already waiting on Zoho finish and answer,
// then serve returns cleanly and the store is closed.
func TestGracefulShutdownFinishesInFlightCalls(t *testing.T) {
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
