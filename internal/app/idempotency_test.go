package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/store/etcdstore/etcdtest"
)

// creates counts the contacts created at the sandbox.
func creates(sb *sandbox.Sandbox) int {
	n := 0
	for _, q := range sb.APIRequests() {
		if q.Method == http.MethodPost && strings.HasSuffix(q.Path, "/Contacts") {
			n++
		}
	}
	return n
}

func keyedCreate(key string) map[string]any {
	return map[string]any{"module": "Contacts", "idempotency_key": key,
		"records": []any{map[string]any{"Last_Name": "Retried", "Email": "retried-" + key + "@new.example"}}}
}

// A create whose answer was lost is retried with the same key: Zoho sees
// it once, also after a restart of the process (the key is in the bbolt
// file).
func TestRetriedCreateReachesZohoOnceOnBbolt(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{})
	sb := e.Sandboxes["us"]
	acct := e.ConnectAccount("us")
	_, url := e.MintURL(acct, nil)
	first := callOK(t, e.MustConnect(url, "streamable"), keyedCreate("bbolt-1"))
	again := callOK(t, e.MustConnect(url, "streamable"), keyedCreate("bbolt-1"))
	assert.Equal(t, first, again)
	require.Equal(t, 1, creates(sb))

	e.Reopen()
	afterRestart := callOK(t, e.MustConnect(url, "streamable"), keyedCreate("bbolt-1"))
	assert.Equal(t, first, afterRestart, "the outcome outlives the process")
	assert.Equal(t, 1, creates(sb))
}

// Two replicas on etcd share the keys: a retry that lands on the other
// replica gets the first call's outcome, and while the first call still
// runs the other replica refuses to write again.
func TestRetriedCreateReachesZohoOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	cluster := etcdtest.Start(t, 3)
	envs := replicas(t, cluster, 2, nil)
	a, b := envs[0], envs[1]
	sb := a.Sandboxes["us"]
	acct := a.ConnectAccount("us")
	_, url := a.MintURL(acct, nil)
	require.Eventually(t, func() bool { return post(t, on(b, url)) == http.StatusOK }, within, 10*time.Millisecond, "replica b serves the URL")
	onA, onB := a.MustConnect(url, "streamable"), b.MustConnect(on(b, url), "streamable")

	first := callOK(t, onA, keyedCreate("replicas-1"))
	again := callOK(t, onB, keyedCreate("replicas-1"))
	assert.Equal(t, first, again, "the other replica answers the first call's outcome")
	require.Equal(t, 1, creates(sb))

	// The first call of another key is held at Zoho; its retry on the
	// other replica meanwhile writes nothing.
	held, release := sb.HoldAPI()
	done := make(chan map[string]any, 1)
	go func() {
		res, out := apptest.CallTool(t, onA, "create_zohobigin_records", keyedCreate("replicas-2"))
		if res.IsError {
			out = nil
		}
		done <- out
	}()
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		release()
		t.Fatal("the first create did not reach the sandbox within 10 s")
	}
	res, out := apptest.CallTool(t, onB, "create_zohobigin_records", keyedCreate("replicas-2"))
	require.True(t, res.IsError, "%v", out)
	assert.Equal(t, "conflict", out["error"].(map[string]any)["code"])
	assert.Contains(t, res.Content[0].(*sdk.TextContent).Text, "still running")
	release()
	var firstOut map[string]any
	select {
	case firstOut = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the held create did not finish within 10 s of its release")
	}
	require.NotNil(t, firstOut, "the held create succeeded")
	assert.Equal(t, firstOut, callOK(t, onB, keyedCreate("replicas-2")), "once it finished, the retry gets its outcome")
	assert.Equal(t, 2, creates(sb), "one create per key")
}

func callOK(t *testing.T, cs *sdk.ClientSession, args map[string]any) map[string]any {
	t.Helper()
	res, out := apptest.CallTool(t, cs, "create_zohobigin_records", args)
	require.False(t, res.IsError, "%v", out)
	return out
}
