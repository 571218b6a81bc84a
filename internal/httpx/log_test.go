package httpx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/admin"
	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/internal/route"
	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogRequests(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{})
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	mux := http.NewServeMux()
	admin.New(e.Svc, nil).Register(mux)
	mux.HandleFunc("POST /mcp/{token}", func(w http.ResponseWriter, r *http.Request) {
		httpx.Annotate(r.Context(), "mcp_server_id", "srv-1")
		w.WriteHeader(http.StatusAccepted)
	})
	srv := httptest.NewServer(httpx.LogRequests(logger, mux))
	defer srv.Close()
	tok := tokens.NewMCPToken()

	do := func(method, path, auth string) *http.Response {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res
	}
	res := do("POST", "/mcp/"+tok, "")
	assert.Regexp(t, `^[0-9a-f]{16}$`, res.Header.Get("X-Request-Id"))
	do("POST", "/mcp/"+tok+"/unknown", "")
	do("GET", "/admin/api-tokens", e.Admin)
	do("GET", "/admin/api-tokens", tokens.NewAPIToken())

	out := buf.String()
	assert.NotContains(t, out, tok)
	assert.NotContains(t, out, e.Admin)
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m))
		lines = append(lines, m)
	}
	require.Len(t, lines, 4)
	assert.Equal(t, "POST /mcp/{token}", lines[0]["route"])
	assert.Equal(t, "/mcp/bmcp_…", lines[0]["path"])
	assert.Equal(t, "srv-1", lines[0]["mcp_server_id"])
	assert.EqualValues(t, 202, lines[0]["status"])
	assert.Equal(t, "/mcp/bmcp_…/…", lines[1]["path"], "nothing after the token but its route's own segments")
	assert.Equal(t, "GET /admin/api-tokens", lines[2]["route"], "the admin route, not the /admin/ mount")
	assert.NotEmpty(t, lines[2]["api_token_id"])
	assert.EqualValues(t, 401, lines[3]["status"])
	for _, l := range lines {
		assert.Contains(t, l, "latency_ms")
		assert.Contains(t, l, "request_id")
	}
}

func TestRedactPath(t *testing.T) {
	t.Parallel()
	tok := tokens.NewMCPToken()
	assert.Equal(t, "/mcp/bmcp_…", httpx.RedactPath("/mcp/"+tok))
	assert.Equal(t, "/mcp/bmcp_…/sse", httpx.RedactPath("/mcp/"+tok+"/sse"))
	assert.Equal(t, "/admin/integrated-accounts", httpx.RedactPath("/admin/integrated-accounts"))
}

func TestRedactPathAnywhereInASegment(t *testing.T) {
	t.Parallel()
	tok := tokens.NewMCPToken()
	tests := []struct{ name, path, want string }{
		{"whole segment", "/mcp/" + tok, "/mcp/bmcp_…"},
		{"with a suffix segment", "/mcp/" + tok + "/sse", "/mcp/bmcp_…/sse"},
		{"after a stray space", "/mcp/ " + tok, "/mcp/bmcp_…"},
		{"inside a segment", "/mcp/x" + tok + "y/sse", "/mcp/bmcp_…/sse"},
		{"upper case prefix", "/mcp/BMCP_" + tok[len(tokens.MCPTokenPrefix):], "/mcp/bmcp_…"},
		{"after an empty segment", "/mcp//" + tok, "/mcp//bmcp_…"},
		{"no prefix", "/mcp/" + tok[len(tokens.MCPTokenPrefix):], "/mcp/bmcp_…"},
		{"a mangled prefix", "/mcp/bmcp-" + tok[len(tokens.MCPTokenPrefix):] + "/sse", "/mcp/bmcp_…/sse"},
		{"after the token", "/mcp/" + tok + "/sse/x", "/mcp/bmcp_…/sse/…"},
		{"taken back by ..", "/mcp/x/../y", "/mcp/bmcp_…/../bmcp_…"},
		{"a cleaned lead", "/a/..//./mcp/x", "/a/..//./mcp/bmcp_…"},
		{"metadata of a URL", "/.well-known/oauth-protected-resource/mcp/x", "/.well-known/oauth-protected-resource/mcp/bmcp_…"},
		{"a connect link", "/connect/x", "/connect/bmcp_…"},
		{"no token", "/admin/integrated-accounts", "/admin/integrated-accounts"},
		{"ids are not secrets", "/admin/integrated-accounts/x/mcp/y", "/admin/integrated-accounts/x/mcp/y"},
		{"the metadata document", "/.well-known/oauth-authorization-server", "/.well-known/oauth-authorization-server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, httpx.RedactPath(tt.path))
		})
	}
}

// FuzzRedactPath checks the log's path redaction on arbitrary paths:
//   - a real token anywhere is never logged;
//   - the random part of a token, without its prefix or with a mangled
//     one, is never logged where a route carries a secret, after any lead
//     that a router cleans away (//, /./, /x/..);
//   - a path that names no such route and holds no "bmcp_" is logged as
//     it is.
func FuzzRedactPath(f *testing.F) {
	for _, seed := range [][3]string{
		{"", "", ""}, {"", " ", "/sse"}, {"/", "%", "?x"}, {"//", "", ""}, {"/a/b", "bmcp-", "c/d"},
		{"/.", "bmcp", "_"}, {"/x/..", "\x00", "\xff/"}, {"/mcp/..", "é", "ü/"}, {"", "", "/../../admin"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	routes := []string{"/mcp/", "/MCP/", "/mcp//", "/.well-known/oauth-protected-resource/mcp/", "/.well-known/x/mcp/", "/connect/"}
	f.Fuzz(func(t *testing.T, lead, before, after string) {
		tok := tokens.NewMCPToken()
		secret := tok[len(tokens.MCPTokenPrefix):]
		if got := httpx.RedactPath(lead + before + tok + after); strings.Contains(got, secret) {
			t.Fatalf("RedactPath(%q + token + %q) = %q holds the token", lead+before, after, got)
		}
		if path.Clean("/"+lead+"/z") == "/z" && !strings.Contains(before, "/") {
			for _, r := range routes {
				p := lead + r + before + secret + after
				if got := httpx.RedactPath(p); strings.Contains(got, secret) {
					t.Fatalf("RedactPath(%q) = %q holds the secret", p, got)
				}
			}
		}
		plain := lead + before + after
		if containsFold(plain, tokens.MCPTokenPrefix) {
			return
		}
		for _, seg := range strings.Split(plain, "/") {
			for _, first := range []string{"mcp", ".well-known", "connect"} {
				if strings.EqualFold(seg, first) {
					return
				}
			}
		}
		if got := httpx.RedactPath(plain); got != plain {
			t.Fatalf("RedactPath(%q) = %q; a path that names no secret route and holds no token must not change", plain, got)
		}
	})
}

// containsFold reports whether substr (lower case) is in s, ignoring case.
func containsFold(s, substr string) bool {
	for i := 0; i+len(substr) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(substr)], substr) {
			return true
		}
	}
	return false
}

// Every route of the server whose path carries a secret (a wildcard named
// {token} or {link}, the names such routes use) is redacted, with or
// without the secret's prefix: a route added later is held to this too.
func TestEveryRouteWithASecretIsRedacted(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	secret := tokens.NewMCPToken()[len(tokens.MCPTokenPrefix):]
	checked := 0
	for _, pattern := range e.App.Routes() {
		if _, p, ok := strings.Cut(pattern, " "); ok {
			pattern = p // without its method
		}
		if !strings.Contains(pattern, "{token}") && !strings.Contains(pattern, "{link}") {
			continue
		}
		for _, prefix := range []string{"", tokens.MCPTokenPrefix, "bmcp-"} {
			segs := strings.Split(pattern, "/")
			for i, seg := range segs {
				switch {
				case seg == "{token}" || seg == "{link}":
					segs[i] = prefix + secret
				case strings.HasPrefix(seg, "{"):
					segs[i] = "x"
				}
			}
			path := strings.Join(segs, "/")
			assert.NotContains(t, httpx.RedactPath(path), secret, "route %s: %s", pattern, path)
		}
		checked++
	}
	assert.GreaterOrEqual(t, checked, 4, "the MCP endpoints, the protected resource metadata and connect links carry secrets")
}

// lockedBuffer is a bytes.Buffer the server's goroutines may write to
// while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestLogRedactsEveryTokenRoute sends, to the real stack, requests whose
// path holds a secret in every route that carries one, with and without
// the bmcp_ prefix (a client that dropped or mangled it, a guessed
// token), on matched and unmatched paths: the log holds none of them.
func TestLogRedactsEveryTokenRoute(t *testing.T) {
	var logs lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	e := apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.Logger = logger }})
	random := func() string { return tokens.NewMCPToken()[len(tokens.MCPTokenPrefix):] }
	type want struct{ secret, logged string }
	paths := map[string]want{} // path → its secret and the path as the log must show it
	add := func(format, logged string) {
		s := random()
		paths[fmt.Sprintf(format, s)] = want{s, logged}
	}
	add("/mcp/%s", "/mcp/bmcp_…")
	add("/mcp/bmcp-%s", "/mcp/bmcp_…")
	add("/mcp/%s/sse", "/mcp/bmcp_…/sse")
	add("/mcp/%s/unknown", "/mcp/bmcp_…/…")
	add("/mcp/sse/%s", "/mcp/bmcp_…/…")
	add("/mcp//%s", "/mcp//bmcp_…")
	add("//mcp/%s", "//mcp/bmcp_…")
	add("/MCP/%s", "/MCP/bmcp_…")
	add("/.well-known/oauth-protected-resource/mcp/%s", "/.well-known/oauth-protected-resource/mcp/bmcp_…")
	add("/.well-known/oauth-authorization-server/mcp/%s", "/.well-known/oauth-authorization-server/mcp/bmcp_…")
	add("/connect/%s", "/connect/bmcp_…")
	add("/connect/bmcp_link_%s", "/connect/bmcp_…")
	add("/admin/x/bmcp_%s", "/admin/x/bmcp_…")
	for p := range paths {
		req, err := http.NewRequest("GET", e.URL+p, nil)
		require.NoError(t, err)
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		require.NoError(t, err)
		res.Body.Close()
	}
	out := logs.String()
	logged := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m))
		if m["msg"] == "http request" {
			logged[m["path"].(string)] = true
		}
	}
	for p, w := range paths {
		assert.NotContains(t, out, w.secret, "the log holds the secret of %s", p)
		assert.True(t, logged[w.logged], "%s is logged as %s", p, w.logged)
	}
}

// TestRequestCancelledByItsClient: a client that goes away before its
// answer is no server failure. The request is logged at info with
// outcome canceled and status 499 (the status nginx gives it), never as
// an error, and metrics see 499, not a 5xx.
func TestRequestCancelledByItsClient(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	g := route.Group{Public: true, Routes: []route.Route{{Method: "GET", Path: "/slow", Handle: func(w http.ResponseWriter, r *http.Request) error {
		close(started)
		<-r.Context().Done() // a slow store or Zoho call, which the client does not wait for
		return fmt.Errorf("read the records: %w", r.Context().Err())
	}}}}
	mux := http.NewServeMux()
	g.Register(mux, nil, nil)
	lines := lineWriter(make(chan string, 4))
	logger := slog.New(slog.NewJSONHandler(lines, &slog.HandlerOptions{Level: slog.LevelDebug}))
	done := make(chan httpx.Done, 1)
	srv := httptest.NewServer(httpx.LogRequests(logger, mux, func(d httpx.Done) { done <- d }))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/slow", nil)
	require.NoError(t, err)
	answered := make(chan error, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		answered <- err
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not start within 10 s")
	}
	cancel()
	require.ErrorIs(t, <-answered, context.Canceled)

	var d httpx.Done
	select {
	case d = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the cancelled request was not logged within 10 s")
	}
	assert.Equal(t, httpx.StatusClientClosedRequest, d.Status, "metrics count it as 499, not a 5xx")
	var raw string
	select {
	case raw = <-lines:
	case <-time.After(10 * time.Second):
		t.Fatal("no request log line within 10 s")
	}
	var line map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &line), raw)
	assert.Equal(t, "INFO", line["level"])
	assert.Equal(t, "canceled", line["outcome"])
	assert.EqualValues(t, 499, line["status"])
}

// lineWriter hands each line a logger writes to the test.
type lineWriter chan string

func (l lineWriter) Write(p []byte) (int, error) {
	l <- string(p)
	return len(p), nil
}
