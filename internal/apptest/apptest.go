// Package apptest is the one stack harness of the tests: the real wiring
// (internal/app) on a real bbolt file, served over loopback HTTP, against
// sandbox Bigins on loopback, with the shared fake clock. Every package's
// tests that need more than their own package build their world with it.
package apptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/clock/clocktest"
	"github.com/bigin-mcp/bigin-mcp/store"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Options configures New. The zero value is a stack on one sandbox
// datacenter "us", with a public URL of its own loopback address.
type Options struct {
	// Datacenters are sandbox datacenters to start (default "us"); each
	// is a sandbox.Sandbox on its own loopback server.
	Datacenters []string
	// SandboxUsers is how many users each sandbox seeds (0: its default).
	SandboxUsers int
	// PublicURL, when set, is the public URL instead of the server's own
	// loopback address.
	PublicURL string
	// Clock is the shared fake clock of the stack and its sandboxes
	// (default: a new one at the current time, truncated to the second).
	Clock *clocktest.Fake
	// Config, when set, adjusts the stack's configuration before it is
	// built (to add datacenters, an HTTP client, …).
	Config func(*app.Config)
	// Durable keeps fsync on (for tests of crashes and restarts).
	Durable bool
	// Path and Key open an existing database (default: a new one in a
	// temporary directory, with a random key).
	Path string
	Key  []byte
	// AdminToken is an API token the database already holds; without it,
	// New generates the first one.
	AdminToken string
	// OpenStore, when set, opens the store instead of a bbolt file (a
	// shared etcd store: each call is one replica's store).
	OpenStore func(t testing.TB, key []byte, now func() time.Time) tokens.Store
	// ReplicaOf makes this stack another replica beside an existing one:
	// it shares its sandboxes, configuration, key, clock and admin token
	// (and, with OpenStore, its records).
	ReplicaOf *Env
}

// Env is a running stack.
type Env struct {
	T         testing.TB
	Clock     *clocktest.Fake
	Sandboxes map[string]*sandbox.Sandbox
	Config    app.Config
	Key       []byte
	Path      string       // the bbolt file
	DB        *store.DB    // the bbolt file (nil with Options.OpenStore)
	Store     tokens.Store // the store the stack runs on (DB or OpenStore's)
	App       *app.App
	Svc       *tokens.Service
	Srv       *httptest.Server
	URL       string // the server's base URL
	Public    string // the public URL minted URLs start with
	Admin     string // an API token

	opts Options
	ln   string // the listener address, kept across Reopen
}

// New starts a stack and registers its shutdown with t.Cleanup.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	if r := opts.ReplicaOf; r != nil {
		e := &Env{T: t, Clock: r.Clock, Sandboxes: r.Sandboxes, Config: r.Config, Key: r.Key, opts: opts}
		e.opts.PublicURL = r.opts.PublicURL
		e.open()
		t.Cleanup(e.Close)
		e.Admin = r.Admin
		return e
	}
	if len(opts.Datacenters) == 0 {
		opts.Datacenters = []string{"us"}
	}
	e := &Env{T: t, Clock: opts.Clock, Sandboxes: map[string]*sandbox.Sandbox{}, opts: opts, Path: opts.Path, Key: opts.Key}
	if e.Path == "" {
		e.Path = filepath.Join(t.TempDir(), "bigin-mcp.db")
	}
	if e.Clock == nil {
		e.Clock = clocktest.New(time.Now().UTC().Truncate(time.Second))
	}
	if e.Key == nil {
		e.Key = make([]byte, 32)
		_, _ = rand.Read(e.Key)
	}
	spec := map[string]map[string]string{}
	for _, k := range opts.Datacenters {
		sb := sandbox.New(sandbox.Options{Location: k, Users: opts.SandboxUsers, OrgName: "Org " + k, Now: e.Clock.Now})
		ts := httptest.NewServer(sb)
		t.Cleanup(ts.Close)
		sb.SetBaseURL(ts.URL)
		e.Sandboxes[k] = sb
		spec[k] = map[string]string{"accounts_url": ts.URL, "api_url": ts.URL, "web_url": ts.URL}
	}
	raw, _ := json.Marshal(spec)
	dcs, err := bigin.ParseDatacenters(string(raw))
	require.NoError(t, err)
	first := e.Sandboxes[opts.Datacenters[0]]
	e.Config = app.Config{
		Datacenters:      dcs,
		ZohoClientID:     first.ClientID(),
		ZohoClientSecret: first.ClientSecret(),
		AllowedOrigins:   []string{"https://claude.ai"},
		SecretKey:        e.Key,
		Version:          "test",
		Clock:            e.Clock,
	}
	if opts.Config != nil {
		opts.Config(&e.Config)
	}
	e.open()
	t.Cleanup(e.Close)
	e.Admin = opts.AdminToken
	if e.Admin == "" {
		tok, err := e.Svc.Bootstrap(context.Background(), "")
		require.NoError(t, err)
		require.NotEmpty(t, tok)
		e.Admin = tok
	}
	return e
}

// open opens the store and the stack on it, served on the same address
// as before (a restarted process).
func (e *Env) open() {
	e.T.Helper()
	var db tokens.Store
	if e.opts.OpenStore != nil {
		db = e.opts.OpenStore(e.T, e.Key, e.Clock.Now)
	} else {
		// Audit entries wait a millisecond, not bbolt's 10 ms, for others
		// to share their commit: the admin calls of a test follow one
		// another, and would each wait it out.
		bdb, err := store.Open(e.Path, store.Options{Key: e.Key, Now: e.Clock.Now, NoSync: !e.opts.Durable, BatchDelay: time.Millisecond})
		require.NoError(e.T, err)
		e.DB, db = bdb, bdb
	}
	e.Store = db
	srv := httptest.NewUnstartedServer(nil)
	if e.ln != "" {
		srv.Listener.Close()
		srv.Listener = listen(e.T, e.ln)
	}
	e.ln = srv.Listener.Addr().String()
	e.URL = "http://" + e.ln
	e.Public = e.opts.PublicURL
	if e.Public == "" {
		e.Public = e.URL
	}
	cfg := e.Config
	cfg.PublicURL = e.Public
	a, err := app.New(context.Background(), db, cfg)
	require.NoError(e.T, err)
	e.App, e.Svc = a, a.Service
	srv.Config = a.NewServer()
	e.Srv = srv
	srv.Start()
}

// Wait bounds every wait of the harness: an answer, a shutdown step. One
// that takes longer fails the test, saying what it waited for, well
// inside the package's timeout, rather than hang the package.
const Wait = 30 * time.Second

// Close shuts the stack down as serve does: streams end, in-flight calls
// finish, audit entries are flushed, the store closes. A step that does
// not end within Wait fails the test.
func (e *Env) Close() {
	if e.Srv != nil {
		a, srv := e.App, e.Srv
		e.Srv = nil
		e.within("end its streams and in-flight requests", func() {
			a.MCP.CloseStreams()
			srv.Close()
		})
		e.within("flush its audit entries", a.Flush)
		e.within("stop following the store", a.Close)
	}
	if e.Store != nil {
		st := e.Store
		e.Store, e.DB = nil, nil
		e.within("close the store", func() { _ = st.Close() })
	}
}

// within runs step and fails the test if it has not ended within Wait.
func (e *Env) within(what string, step func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		step()
	}()
	t := time.NewTimer(Wait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		e.T.Errorf("apptest: the stack did not %s within %s", what, Wait)
	}
}

// Reopen closes everything and starts the stack again on the same file
// and address.
func (e *Env) Reopen() {
	e.Close()
	e.open()
}

// httpClient sends the harness's requests: an answer that does not come
// within Wait fails the request.
var httpClient = &http.Client{Timeout: Wait}

// Response is an HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as an object.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// ErrCode returns the code and message of the error shape.
func (r Response) ErrCode(t testing.TB) (string, string) {
	t.Helper()
	var m struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	require.NotEmpty(t, m.Error.Code, "not the error shape: %s", r.Body)
	return m.Error.Code, m.Error.Message
}

// Request sends a request with the admin token; body may be a string or
// []byte (sent as is), an io.Reader (sent chunked) or a value (JSON).
func (e *Env) Request(method, path string, body any) Response {
	return e.RequestAs(e.Admin, "application/json", method, path, body)
}

// RequestAs is Request with another token ("" for none) and Content-Type
// ("" for none).
func (e *Env) RequestAs(token, contentType, method, path string, body any) Response {
	e.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		buf, err := json.Marshal(b)
		require.NoError(e.T, err)
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	require.NoError(e.T, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := httpClient.Do(req)
	require.NoError(e.T, err, "%s %s", method, path)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(e.T, err)
	return Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// AdminCall calls the admin API, requires status want, and decodes the
// answer (empty for none).
func (e *Env) AdminCall(method, path string, body any, want int) map[string]any {
	e.T.Helper()
	r := e.Request(method, path, body)
	require.Equal(e.T, want, r.Status, "%s %s: %s", method, path, r.Body)
	if len(r.Body) == 0 {
		return map[string]any{}
	}
	return r.JSON(e.T)
}

// SeedAccount stores an account directly (as the connect flow would),
// with distinctive secrets that reach no Zoho, and returns it.
func (e *Env) SeedAccount(name string) *tokens.Account {
	e.T.Helper()
	a := &tokens.Account{
		ID: NewID(), Name: name, Datacenter: "us", APIDomain: "https://www.zohoapis.com",
		OrgID: "111", OrgName: "Org " + name, Status: tokens.StatusActive,
		ClientID: "1000.SEEDCLIENT", ClientSecret: "cs-" + tokens.NewMCPToken(), RefreshToken: "rt-" + tokens.NewMCPToken(), AccessToken: "at-" + tokens.NewMCPToken(),
	}
	require.NoError(e.T, e.Store.CreateAccount(context.Background(), a))
	return a
}

// ConnectAccount creates an integrated account on the datacenter's
// sandbox through the admin API and returns its id.
func (e *Env) ConnectAccount(dc string) string {
	e.T.Helper()
	return e.ConnectAccountWithScopes(dc, bigin.Scopes()...)
}

// ConnectAccountWithScopes is ConnectAccount with an authorization that
// holds only the given scopes (sandbox.DirectoryScopes() is an account
// connected before the record tools).
func (e *Env) ConnectAccountWithScopes(dc string, scopes ...string) string {
	e.T.Helper()
	sb := e.Sandboxes[dc]
	out := e.AdminCall("POST", "/admin/integrated-accounts", map[string]any{
		"name": "acct " + dc, "datacenter": dc, "refresh_token": sb.IssueRefreshToken(scopes...),
		"client_id": sb.ClientID(), "client_secret": sb.ClientSecret(),
	}, http.StatusCreated)
	return out["id"].(string)
}

// Mint creates an MCP server with the request body (default a name only)
// and returns its JSON and token.
func (e *Env) Mint(accountID string, body map[string]any) (map[string]any, string) {
	e.T.Helper()
	if body == nil {
		body = map[string]any{"name": "srv"}
	}
	m := e.AdminCall("POST", "/admin/integrated-accounts/"+accountID+"/mcp", body, http.StatusCreated)
	url, _ := m["url"].(string)
	prefix := e.Public + "/mcp/"
	require.True(e.T, strings.HasPrefix(url, prefix+"bmcp_"), "url %q", url)
	return m, strings.TrimPrefix(url, prefix)
}

// MintURL mints an MCP URL with config and returns its id and URL on this
// server.
func (e *Env) MintURL(accountID string, config map[string]any) (string, string) {
	e.T.Helper()
	m, tok := e.Mint(accountID, map[string]any{"name": "test", "config": config})
	return m["id"].(string), e.URL + "/mcp/" + tok
}

// Connect opens a go-sdk client session over the given transport
// ("streamable" or "sse"), sending hdr on every request.
func (e *Env) Connect(url, transport string, hdr http.Header) (*sdk.ClientSession, error) {
	return Connect(url, transport, hdr)
}

// MustConnect is Connect that fails the test on error and closes the
// session at its end.
func (e *Env) MustConnect(url, transport string) *sdk.ClientSession {
	e.T.Helper()
	cs, err := Connect(url, transport, nil)
	require.NoError(e.T, err)
	e.T.Cleanup(func() { cs.Close() })
	return cs
}

// Connect opens a go-sdk client session on url; a server that has not
// answered the handshake within Wait fails it.
func Connect(url, transport string, hdr http.Header) (*sdk.ClientSession, error) {
	client := sdk.NewClient(&sdk.Implementation{Name: "bigin-mcp-test", Version: "1"}, nil)
	hc := &http.Client{Transport: headerTransport{hdr}}
	var tr sdk.Transport
	switch transport {
	case "sse":
		tr = &sdk.SSEClientTransport{Endpoint: url + "/sse", HTTPClient: hc}
	case "streamable", "":
		tr = &sdk.StreamableClientTransport{Endpoint: url, HTTPClient: hc, MaxRetries: -1}
	default:
		return nil, fmt.Errorf("unknown transport %q", transport)
	}
	// The SSE transport ties its event stream to Connect's context, so it
	// must outlive the call: only a handshake still running at the
	// deadline is canceled.
	ctx, cancel := context.WithCancel(context.Background())
	deadline := time.AfterFunc(Wait, cancel)
	cs, err := client.Connect(ctx, tr, nil)
	if !deadline.Stop() {
		if err == nil {
			_ = cs.Close()
		}
		return nil, fmt.Errorf("connect to %s over %s: no session within %s", url, transport, Wait)
	}
	return cs, err
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

// CallTool calls a tool and decodes its structured content, checking that
// a successful result's text block holds the same JSON.
func CallTool(t testing.TB, cs *sdk.ClientSession, name string, args map[string]any) (*sdk.CallToolResult, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: args})
	require.NoError(t, err)
	raw, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	out := map[string]any{}
	require.NoError(t, json.Unmarshal(raw, &out))
	require.Len(t, res.Content, 1)
	text := res.Content[0].(*sdk.TextContent).Text
	if !res.IsError {
		require.JSONEq(t, string(raw), text)
	}
	return res, out
}

// ToolNames lists the session's tools by name, in order.
func ToolNames(t testing.TB, cs *sdk.ClientSession) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	res, err := cs.ListTools(ctx, nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	return names
}
