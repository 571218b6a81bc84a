package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
	"github.com/bigin-mcp/bigin-mcp/store"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// env is the real stack on loopback: one or more sandbox Bigins (one per
// datacenter), a bbolt file, the tokens service with its admin API, and
// the MCP endpoints, all on one mux as cmd/bigin-mcp mounts them.
type env struct {
	t       testing.TB
	sbs     map[string]*sandbox.Sandbox // by datacenter key
	db      *store.DB
	svc     *tokens.Service
	srv     *httptest.Server
	admin   string
	clock   *clock
	public  string
	handler *Handler
}

// clock is an injectable clock for expiry tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newEnv(t testing.TB, dcKeys ...string) *env {
	t.Helper()
	if len(dcKeys) == 0 {
		dcKeys = []string{"us"}
	}
	e := &env{t: t, sbs: map[string]*sandbox.Sandbox{}, clock: &clock{now: time.Now()}}
	spec := map[string]map[string]string{}
	for _, k := range dcKeys {
		sb := sandbox.New(sandbox.Options{Location: k})
		ts := httptest.NewServer(sb)
		t.Cleanup(ts.Close)
		sb.SetBaseURL(ts.URL)
		e.sbs[k] = sb
		spec[k] = map[string]string{"accounts_url": ts.URL, "api_url": ts.URL}
	}
	raw, _ := json.Marshal(spec)
	dcs, err := bigin.ParseDatacenters(string(raw))
	require.NoError(t, err)

	key := bytes.Repeat([]byte{42}, 32)
	e.db, err = store.Open(filepath.Join(t.TempDir(), "bigin-mcp.db"), store.Options{Key: key})
	require.NoError(t, err)
	t.Cleanup(func() { e.db.Close() })

	mux := http.NewServeMux()
	e.srv = httptest.NewUnstartedServer(mux)
	e.public = "http://" + e.srv.Listener.Addr().String()
	first := e.sbs[dcKeys[0]]
	e.svc, err = tokens.NewService(context.Background(), e.db, tokens.ServiceOptions{
		PublicURL:        e.public,
		Datacenters:      dcs,
		ZohoClientID:     first.ClientID(),
		ZohoClientSecret: first.ClientSecret(),
		Now:              e.clock.Now,
	})
	require.NoError(t, err)
	e.admin, err = e.svc.Bootstrap(context.Background(), "")
	require.NoError(t, err)
	require.NotEmpty(t, e.admin)
	h, err := NewHandler(Options{
		Resolver:         e.svc,
		Store:            e.db,
		Datacenters:      dcs,
		ZohoClientID:     first.ClientID(),
		ZohoClientSecret: first.ClientSecret(),
		PublicURL:        e.public,
		AllowedOrigins:   []string{"https://claude.ai"},
		CursorKey:        bytes.Repeat([]byte{9}, 32),
		Version:          "test",
	})
	require.NoError(t, err)
	e.handler = h
	e.svc.Register(mux)
	h.Register(mux)
	e.srv.Start()
	t.Cleanup(func() { h.CloseStreams(); e.srv.Close(); h.FlushAudit() })
	return e
}

// adminCall calls the admin API as an admin would and decodes the answer.
func (e *env) adminCall(method, path string, body any, want int) map[string]any {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(e.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	require.NoError(e.t, err)
	req.Header.Set("Authorization", "Bearer "+e.admin)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	require.Equal(e.t, want, resp.StatusCode, "%s %s: %s", method, path, data)
	out := map[string]any{}
	if len(data) > 0 {
		require.NoError(e.t, json.Unmarshal(data, &out), string(data))
	}
	return out
}

// connectAccount creates an integrated account on the datacenter's sandbox
// through the admin API and returns its id.
func (e *env) connectAccount(dc string) string {
	e.t.Helper()
	sb := e.sbs[dc]
	out := e.adminCall("POST", "/admin/integrated-accounts", map[string]any{
		"name": "acct " + dc, "datacenter": dc, "refresh_token": sb.IssueRefreshToken(bigin.Scopes()...),
		"client_id": sb.ClientID(), "client_secret": sb.ClientSecret(),
	}, http.StatusCreated)
	return out["id"].(string)
}

// mint mints an MCP URL and returns its id and URL.
func (e *env) mint(accountID string, config map[string]any) (string, string) {
	e.t.Helper()
	out := e.adminCall("POST", "/admin/integrated-accounts/"+accountID+"/mcp", map[string]any{"name": "test", "config": config}, http.StatusCreated)
	return out["id"].(string), out["url"].(string)
}

// connect opens a go-sdk client session over the given transport
// ("streamable" or "sse").
func (e *env) connect(url, transport string, hdr http.Header) (*sdk.ClientSession, error) {
	client := sdk.NewClient(&sdk.Implementation{Name: "bigin-mcp-test", Version: "1"}, nil)
	httpClient := &http.Client{Transport: headerTransport{hdr}}
	var tr sdk.Transport
	switch transport {
	case "sse":
		tr = &sdk.SSEClientTransport{Endpoint: url + "/sse", HTTPClient: httpClient}
	default:
		tr = &sdk.StreamableClientTransport{Endpoint: url, HTTPClient: httpClient, MaxRetries: -1}
	}
	// The SSE transport ties its event stream to Connect's context, so it
	// must outlive the call.
	return client.Connect(context.Background(), tr, nil)
}

func (e *env) mustConnect(url, transport string) *sdk.ClientSession {
	e.t.Helper()
	cs, err := e.connect(url, transport, nil)
	require.NoError(e.t, err)
	e.t.Cleanup(func() { cs.Close() })
	return cs
}

type headerTransport struct{ h http.Header }

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if len(t.h) > 0 {
		r = r.Clone(r.Context())
		for k, v := range t.h {
			r.Header[k] = v
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// callTool calls a tool and decodes its structured content.
func callTool(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any) (*sdk.CallToolResult, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err)
	raw, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	out := map[string]any{}
	require.NoError(t, json.Unmarshal(raw, &out))
	// The text block holds the same JSON (or, on errors, a sentence then it).
	require.Len(t, res.Content, 1)
	text := res.Content[0].(*sdk.TextContent).Text
	if !res.IsError {
		require.JSONEq(t, string(raw), text)
	}
	return res, out
}

func toolNames(t *testing.T, cs *sdk.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	return names
}
