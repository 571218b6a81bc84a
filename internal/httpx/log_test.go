package httpx_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bigin-mcp/bigin-mcp/internal/admin"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
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
	assert.Equal(t, "/mcp/bmcp_…/unknown", lines[1]["path"])
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
		{"no token", "/admin/integrated-accounts", "/admin/integrated-accounts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, httpx.RedactPath(tt.path))
		})
	}
}

// FuzzRedactPath puts a real token anywhere in an arbitrary path: the
// redacted path never holds the token's random part, and a path without
// the prefix is left alone.
func FuzzRedactPath(f *testing.F) {
	for _, seed := range [][2]string{
		{"/mcp/", ""}, {"/mcp/ ", "/sse"}, {"/mcp/%", "?x"}, {"", ""}, {"/a/b", "c/d"},
		{"/mcp/bmcp", "_"}, {"/\x00", "\xff/"}, {"/mcp/é", "ü/"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, before, after string) {
		tok := tokens.NewMCPToken()
		secret := tok[len(tokens.MCPTokenPrefix):]
		got := httpx.RedactPath(before + tok + after)
		if strings.Contains(got, secret) {
			t.Fatalf("RedactPath(%q + token + %q) = %q holds the token", before, after, got)
		}
		if plain := before + after; !strings.Contains(strings.ToLower(plain), tokens.MCPTokenPrefix) {
			if got := httpx.RedactPath(plain); got != plain {
				t.Fatalf("RedactPath(%q) = %q; a path without a token must not change", plain, got)
			}
		}
	})
}
