package tokens

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/store"
)

// testClock is a settable clock shared by the store and the Service.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testEnv is a Service on a real bbolt file, served over real HTTP.
type testEnv struct {
	t     testing.TB
	clock *testClock
	key   []byte
	path  string
	db    *store.DB
	svc   *Service
	srv   *httptest.Server
	admin string // an API token
	opts  ServiceOptions
}

type envOption func(*ServiceOptions)

func newTestEnv(t testing.TB, opts ...envOption) *testEnv {
	t.Helper()
	return newTestEnvWithClock(t, newTestClock(), opts...)
}

func newTestEnvWithClock(t testing.TB, clock *testClock, opts ...envOption) *testEnv {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	e := &testEnv{t: t, clock: clock, key: key, path: filepath.Join(t.TempDir(), "bigin-mcp.db")}
	e.opts = ServiceOptions{PublicURL: "https://mcp.example.com/", Now: e.clock.Now}
	for _, o := range opts {
		o(&e.opts)
	}
	e.open()
	tok, err := e.svc.Bootstrap(context.Background(), "")
	require.NoError(t, err)
	require.NotEmpty(t, tok)
	e.admin = tok
	t.Cleanup(e.close)
	return e
}

func mustDatacenters(t testing.TB, spec string) bigin.Datacenters {
	t.Helper()
	d, err := bigin.ParseDatacenters(spec)
	require.NoError(t, err)
	return d
}

// open opens the store and a Service on it, served by a fresh httptest
// server (as a restarted process would be).
func (e *testEnv) open() {
	e.t.Helper()
	db, err := store.Open(e.path, store.Options{Key: e.key, Now: e.clock.Now})
	require.NoError(e.t, err)
	e.db = db
	svc, err := NewService(context.Background(), db, e.opts)
	require.NoError(e.t, err)
	e.svc = svc
	mux := http.NewServeMux()
	svc.Register(mux)
	e.srv = httptest.NewServer(mux)
}

func (e *testEnv) close() {
	if e.srv != nil {
		e.srv.Close()
		e.srv = nil
	}
	if e.db != nil {
		_ = e.db.Close()
		e.db = nil
	}
}

// reopen closes everything and opens a new Service on the same file.
func (e *testEnv) reopen() {
	e.close()
	e.open()
}

// resp is an answer of the admin API.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

func (r resp) errCode(t testing.TB) (string, string) {
	t.Helper()
	var m struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	require.NotEmpty(t, m.Error.Code, "not the error shape: %s", r.body)
	return m.Error.Code, m.Error.Message
}

// request sends a request with the admin token; body may be a string (sent
// as is) or a value (marshalled); contentType "" means application/json.
func (e *testEnv) request(method, path string, body any) resp {
	return e.requestAs(e.admin, "application/json", method, path, body)
}

func (e *testEnv) requestAs(token, contentType, method, path string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b // sent chunked: no Content-Length
	default:
		buf, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	require.NoError(e.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := e.srv.Client().Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// seedAccount stores an account directly (as the connect flow would), with
// distinctive secrets, and returns it.
func (e *testEnv) seedAccount(name string) *store.Account {
	e.t.Helper()
	a := &store.Account{
		ID: newID(), Name: name, Datacenter: "us", APIDomain: "https://www.zohoapis.com",
		OrgID: "111", OrgName: "Org " + name, Status: store.StatusActive,
		ClientID: "1000.SEEDCLIENT", ClientSecret: "cs-" + NewMCPToken(), RefreshToken: "rt-" + NewMCPToken(), AccessToken: "at-" + NewMCPToken(),
	}
	require.NoError(e.t, e.db.CreateAccount(context.Background(), a))
	return a
}

// mint creates an MCP server over the API and returns its JSON and token.
func (e *testEnv) mint(accountID string, body map[string]any) (map[string]any, string) {
	e.t.Helper()
	if body == nil {
		body = map[string]any{"name": "srv"}
	}
	r := e.request("POST", "/admin/integrated-accounts/"+accountID+"/mcp", body)
	require.Equal(e.t, http.StatusCreated, r.status, "body: %s", r.body)
	m := r.json(e.t)
	url, _ := m["url"].(string)
	require.True(e.t, strings.HasPrefix(url, "https://mcp.example.com/mcp/bmcp_"), "url %q", url)
	return m, strings.TrimPrefix(url, "https://mcp.example.com/mcp/")
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
