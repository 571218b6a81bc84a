package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Each step of the admission chain, alone: what it refuses, with which
// JSON-RPC error, and what it hands the next step. The chain as a whole
// runs in the end-to-end tests (TestHTTPErrors, TestRefusedBeforeTheBodyIsRead, …).

// fakePolicy resolves URL tokens and API tokens and checks OAuth access
// tokens from maps.
type fakePolicy struct {
	urls      map[string]*tokens.Resolved
	urlErr    error // answered for every URL token not in urls
	apiTokens map[string]*tokens.APIToken
	grants    map[string]*tokens.OAuthGrant
}

func (p *fakePolicy) Resolve(_ context.Context, token string) (*tokens.Resolved, error) {
	if res, ok := p.urls[token]; ok {
		return res, nil
	}
	if p.urlErr != nil {
		return nil, p.urlErr
	}
	return nil, tokens.ErrNotFound
}

func (p *fakePolicy) AuthenticateAPIToken(_ context.Context, token string) (*tokens.APIToken, error) {
	if t, ok := p.apiTokens[token]; ok {
		return t, nil
	}
	return nil, tokens.ErrUnauthenticated
}

func (p *fakePolicy) Authenticate(_ context.Context, res *tokens.Resolved, access string) (*tokens.OAuthGrant, error) {
	if g, ok := p.grants[access]; ok && g.MCPServerID == res.Server.ID {
		return g, nil
	}
	return nil, tokens.ErrUnauthenticated
}

// testHandler is a Handler with only what admission uses: the policy, the
// public URL https://mcp.example.com and the Origin https://claude.ai.
func testHandler(p *fakePolicy, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{
		opts:       Options{Resolver: p, OAuth: p, PublicURL: "https://mcp.example.com"},
		logger:     logger,
		publicHost: "mcp.example.com",
		origins:    map[string]bool{"https://mcp.example.com": true, "https://claude.ai": true},
	}
}

// passed is the request a step handed on, if it did.
type passed struct{ r *http.Request }

func (p *passed) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.r = r
		w.WriteHeader(http.StatusTeapot)
	})
}

// rpcError is the JSON-RPC error of a refused request.
type rpcError struct {
	ID    json.RawMessage `json:"id"`
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    struct {
			Status int    `json:"status"`
			Code   string `json:"code"`
		} `json:"data"`
	} `json:"error"`
}

// refusedWith checks that the step answered with the JSON-RPC error of
// code (with the id null and data.status the HTTP status) and returns it.
func refusedWith(t *testing.T, rec *httptest.ResponseRecorder, p *passed, status int, code string) rpcError {
	t.Helper()
	assert.Nil(t, p.r, "the request goes no further")
	require.Equal(t, status, rec.Code, rec.Body.String())
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var e rpcError
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e), rec.Body.String())
	assert.Equal(t, "null", string(e.ID))
	assert.Equal(t, status, e.Error.Data.Status)
	assert.Equal(t, code, e.Error.Data.Code)
	assert.Equal(t, httpx.RPCCodeOf(code), e.Error.Code)
	return e
}

func TestChainRunsStepsInOrderUntilOneAnswers(t *testing.T) {
	t.Parallel()
	var ran []string
	mark := func(name string, answer bool) step {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ran = append(ran, name)
				if answer {
					w.WriteHeader(http.StatusForbidden)
					return
				}
				next.ServeHTTP(w, r)
			})
		}
	}
	endpoint := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = append(ran, "endpoint") })

	chain(endpoint, mark("a", false), mark("b", false), mark("c", false)).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil))
	assert.Equal(t, []string{"a", "b", "c", "endpoint"}, ran)

	ran = nil
	rec := httptest.NewRecorder()
	chain(endpoint, mark("a", false), mark("b", true), mark("c", false)).ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	assert.Equal(t, []string{"a", "b"}, ran, "a step that answers ends the chain")
	assert.Equal(t, http.StatusForbidden, rec.Code)
}

func TestCheckHostStep(t *testing.T) {
	t.Parallel()
	loopback := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	public := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 8080}
	tests := []struct {
		name  string
		local net.Addr
		host  string
		pass  bool
	}{
		{"loopback Host on loopback", loopback, "127.0.0.1:8080", true},
		{"localhost on loopback", loopback, "localhost:8080", true},
		{"public host on loopback", loopback, "mcp.example.com", true},
		{"other host on loopback", loopback, "abc.trycloudflare.com", false},
		{"any host on a public listener", public, "abc.trycloudflare.com", true},
	}
	h := testHandler(&fakePolicy{}, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p passed
			req := httptest.NewRequest("POST", "/mcp/x", nil)
			req.Host = tt.host
			req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, tt.local))
			rec := httptest.NewRecorder()
			h.checkHost(p.handler()).ServeHTTP(rec, req)
			if tt.pass {
				assert.NotNil(t, p.r)
				return
			}
			e := refusedWith(t, rec, &p, http.StatusForbidden, tokens.CodePermissionDenied)
			assert.Contains(t, e.Error.Message, "the Host "+tt.host+" is not")
			assert.Contains(t, e.Error.Message, "BIGIN_MCP_PUBLIC_URL")
		})
	}
}

func TestCORSStep(t *testing.T) {
	t.Parallel()
	h := testHandler(&fakePolicy{}, nil)
	const methods = "GET, POST, OPTIONS"

	t.Run("no Origin passes untouched", func(t *testing.T) {
		var p passed
		rec := httptest.NewRecorder()
		h.cors(methods)(p.handler()).ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
		require.NotNil(t, p.r)
		assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
	})
	t.Run("an allowed Origin may read the answer", func(t *testing.T) {
		var p passed
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/", nil)
		req.Header.Set("Origin", "https://claude.ai/")
		h.cors(methods)(p.handler()).ServeHTTP(rec, req)
		require.NotNil(t, p.r)
		assert.Equal(t, "https://claude.ai/", rec.Header().Get("Access-Control-Allow-Origin"))
		assert.Contains(t, rec.Header().Get("Access-Control-Expose-Headers"), "WWW-Authenticate")
		assert.Equal(t, "Origin", rec.Header().Get("Vary"))
	})
	t.Run("a foreign Origin is 403", func(t *testing.T) {
		var p passed
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/", nil)
		req.Header.Set("Origin", "https://evil.example")
		h.cors(methods)(p.handler()).ServeHTTP(rec, req)
		e := refusedWith(t, rec, &p, http.StatusForbidden, tokens.CodePermissionDenied)
		assert.Contains(t, e.Error.Message, "BIGIN_MCP_ALLOWED_ORIGINS")
	})
	t.Run("a preflight is answered with the endpoint's methods", func(t *testing.T) {
		var p passed
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("OPTIONS", "/", nil)
		req.Header.Set("Origin", "https://claude.ai")
		req.Header.Set("Access-Control-Request-Headers", "content-type, mcp-param-id, x-evil")
		h.cors(methods)(p.handler()).ServeHTTP(rec, req)
		assert.Nil(t, p.r, "a preflight goes no further")
		assert.Equal(t, http.StatusNoContent, rec.Code)
		assert.Equal(t, methods, rec.Header().Get("Access-Control-Allow-Methods"))
		assert.Equal(t, methods, rec.Header().Get("Allow"))
		allowed := rec.Header().Get("Access-Control-Allow-Headers")
		assert.Contains(t, allowed, "Authorization")
		assert.Contains(t, allowed, "mcp-param-id")
		assert.NotContains(t, allowed, "x-evil")
	})
}

func TestResolveURLStep(t *testing.T) {
	t.Parallel()
	live := &tokens.Resolved{Server: tokens.ServerInfo{ID: "s1"}}
	var logged bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logged, nil))
	tests := []struct {
		name   string
		token  string
		err    error
		status int // 0: passes
		code   string
		logs   bool
	}{
		{"live URL", "live", nil, 0, "", false},
		{"unknown URL", "gone", nil, http.StatusNotFound, tokens.CodeNotFound, false},
		{"stale replica", "any", tokens.ErrUnavailable, http.StatusServiceUnavailable, tokens.CodeUnavailable, false},
		{"store failure", "any", errors.New("disk on fire"), http.StatusNotFound, tokens.CodeNotFound, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logged.Reset()
			h := testHandler(&fakePolicy{urls: map[string]*tokens.Resolved{"live": live}, urlErr: tt.err}, logger)
			var p passed
			req := httptest.NewRequest("POST", "/mcp/"+tt.token, nil)
			req.SetPathValue("token", tt.token)
			rec := httptest.NewRecorder()
			h.resolveURL(p.handler()).ServeHTTP(rec, req)
			if tt.status == 0 {
				require.NotNil(t, p.r)
				assert.Same(t, live, resolvedFrom(p.r.Context()))
				return
			}
			e := refusedWith(t, rec, &p, tt.status, tt.code)
			if tt.status == http.StatusNotFound {
				assert.Equal(t, "no MCP server at this URL (unknown, deleted or expired)", e.Error.Message, "one answer for every URL that is not live")
			} else {
				assert.Equal(t, "1", rec.Header().Get("Retry-After"))
			}
			assert.Equal(t, tt.logs, strings.Contains(logged.String(), "disk on fire"), "only an unexpected failure is logged: %s", logged.String())
		})
	}
}

// Adding an auth mode is its constant in tokens, its entry in
// authenticators and its tests: this fails until the entry exists.
func TestEveryAuthModeHasAnAuthenticator(t *testing.T) {
	t.Parallel()
	for _, mode := range tokens.AuthModes() {
		assert.NotNil(t, authenticators[mode], mode)
	}
	assert.Len(t, authenticators, len(tokens.AuthModes()), "no entry for a mode that does not exist")
}

func TestAuthenticateStep(t *testing.T) {
	t.Parallel()
	const account, other = "acct-1", "acct-2"
	urlOf := func(mode string) *tokens.Resolved {
		return &tokens.Resolved{
			Server:  tokens.ServerInfo{ID: "s-" + mode, AccountID: account, Config: tokens.Config{Auth: mode}},
			Account: &tokens.AccountInfo{ID: account},
		}
	}
	apiTokens := map[string]*tokens.APIToken{
		"secret-unlimited": {ID: "t-unlimited"},
		"secret-mcp":       {ID: "t-mcp", Scopes: []string{tokens.ScopeMCP}},
		"secret-tools":     {ID: "t-tools", Scopes: []string{tokens.ScopeTools}},
		"secret-proxy":     {ID: "t-proxy", Scopes: []string{tokens.ScopeProxy}},
		"secret-account":   {ID: "t-account", AccountIDs: []string{account}, Scopes: []string{tokens.ScopeMCP}},
		"secret-elsewhere": {ID: "t-elsewhere", AccountIDs: []string{other}, Scopes: []string{tokens.ScopeMCP}},
	}
	grant := &tokens.OAuthGrant{ID: "g1", MCPServerID: "s-oauth", ZUID: "z1", AccessExpiresAt: time.Now().Add(time.Hour)}
	policy := &fakePolicy{apiTokens: apiTokens, grants: map[string]*tokens.OAuthGrant{"secret-access": grant}}

	tests := []struct {
		name      string
		mode      string
		bearer    string
		status    int    // 0: passes
		code      string // of the refusal
		says      string // in the refusal's message
		challenge string // WWW-Authenticate of the refusal
		actor     string // of the caller that passes
	}{
		{"url: no credential needed", tokens.AuthURL, "", 0, "", "", "", "mcp:s-url"},
		{"url: a bearer is ignored", tokens.AuthURL, "secret-whatever", 0, "", "", "", "mcp:s-url"},

		{"api_token: none", tokens.AuthAPIToken, "", 401, tokens.CodeUnauthenticated, "requires Authorization: Bearer <api token>", `Bearer realm="bigin-mcp"`, ""},
		{"api_token: unknown", tokens.AuthAPIToken, "secret-nope", 401, tokens.CodeUnauthenticated, "requires Authorization: Bearer <api token>", `Bearer realm="bigin-mcp"`, ""},
		{"api_token: proxy scope", tokens.AuthAPIToken, "secret-proxy", 403, tokens.CodePermissionDenied, "does not have the mcp scope (it has: proxy)", "", ""},
		{"api_token: another account", tokens.AuthAPIToken, "secret-elsewhere", 403, tokens.CodePermissionDenied, "limited to other integrated accounts, not " + account, "", ""},
		{"api_token: unlimited", tokens.AuthAPIToken, "secret-unlimited", 0, "", "", "", "mcp:s-api_token"},
		{"api_token: mcp scope", tokens.AuthAPIToken, "secret-mcp", 0, "", "", "", "mcp:s-api_token"},
		{"api_token: tools scope", tokens.AuthAPIToken, "secret-tools", 0, "", "", "", "mcp:s-api_token"},
		{"api_token: the URL's account", tokens.AuthAPIToken, "secret-account", 0, "", "", "", "mcp:s-api_token"},

		{"oauth: none", tokens.AuthOAuth, "", 401, tokens.CodeUnauthenticated, "requires OAuth",
			`Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp/urltoken"`, ""},
		{"oauth: invalid", tokens.AuthOAuth, "secret-nope", 401, tokens.CodeUnauthenticated, "requires OAuth",
			`Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp/urltoken", error="invalid_token", error_description="the access token is invalid, expired or revoked"`, ""},
		{"oauth: an API token is no access token", tokens.AuthOAuth, "secret-unlimited", 401, tokens.CodeUnauthenticated, "requires OAuth", "", ""},
		{"oauth: valid", tokens.AuthOAuth, "secret-access", 0, "", "", "", "oauth:z1"},
	}
	h := testHandler(policy, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := urlOf(tt.mode)
			req := httptest.NewRequest("POST", "/mcp/urltoken", nil)
			req.SetPathValue("token", "urltoken")
			if tt.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tt.bearer)
			}
			req = req.WithContext(context.WithValue(req.Context(), resolvedKey{}, res))
			var p passed
			rec := httptest.NewRecorder()
			h.authenticate(p.handler()).ServeHTTP(rec, req)
			if tt.status == 0 {
				require.NotNil(t, p.r, rec.Body.String())
				who := tokens.CallerFrom(p.r.Context())
				require.NotNil(t, who, "the next step knows who calls")
				assert.Equal(t, tt.actor, who.Actor())
				assert.Equal(t, res.Server.ID, who.MCPServerID)
				if tt.mode == tokens.AuthAPIToken {
					assert.Same(t, apiTokens[tt.bearer], who.APIToken)
				}
				if tt.mode == tokens.AuthOAuth {
					assert.Same(t, grant, who.Grant)
				}
				return
			}
			e := refusedWith(t, rec, &p, tt.status, tt.code)
			assert.Contains(t, e.Error.Message, tt.says)
			if tt.challenge != "" {
				assert.Equal(t, tt.challenge, rec.Header().Get("WWW-Authenticate"))
			}
			if tt.bearer != "" {
				assert.NotContains(t, rec.Body.String(), tt.bearer, "the credential is never echoed")
			}
		})
	}
}

func TestReadBodyStep(t *testing.T) {
	t.Parallel()
	const body = `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	big := strings.Repeat("x", httpx.MaxBodyBytes+1)
	tests := []struct {
		name          string
		method        string
		contentType   string
		body          io.Reader
		contentLength int64 // -1: unknown (chunked)
		status        int   // 0: passes
		code          string
	}{
		{"POST of JSON", "POST", "application/json", strings.NewReader(body), int64(len(body)), 0, ""},
		{"POST of JSON with parameters", "POST", "application/json; charset=utf-8", strings.NewReader(body), int64(len(body)), 0, ""},
		{"POST without Content-Type", "POST", "", strings.NewReader(body), int64(len(body)), 0, ""},
		{"GET has no body to read", "GET", "", nil, 0, 0, ""},
		{"POST of text", "POST", "text/plain", strings.NewReader(body), int64(len(body)), http.StatusUnsupportedMediaType, tokens.CodeUnsupportedMediaType},
		{"POST announced too large", "POST", "application/json", failingReader{}, httpx.MaxBodyBytes + 1, http.StatusRequestEntityTooLarge, tokens.CodeTooLarge},
		{"POST too large, chunked", "POST", "application/json", strings.NewReader(big), -1, http.StatusRequestEntityTooLarge, tokens.CodeTooLarge},
		{"POST whose body is cut by its deadline", "POST", "application/json", errReader{httpx.ErrBodyTimeout}, -1, http.StatusRequestTimeout, tokens.CodeRequestTimeout},
		{"POST whose body breaks", "POST", "application/json", errReader{io.ErrUnexpectedEOF}, -1, http.StatusBadRequest, tokens.CodeInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "/mcp/x", tt.body)
			req.ContentLength = tt.contentLength
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			var p passed
			rec := httptest.NewRecorder()
			readBody(p.handler()).ServeHTTP(rec, req)
			if tt.status != 0 {
				refusedWith(t, rec, &p, tt.status, tt.code)
				return
			}
			require.NotNil(t, p.r)
			if tt.method != "POST" {
				assert.Nil(t, bodyFrom(p.r.Context()))
				return
			}
			assert.Equal(t, body, string(bodyFrom(p.r.Context())))
			again, err := io.ReadAll(p.r.Body)
			require.NoError(t, err)
			assert.Equal(t, body, string(again), "the endpoint reads the body again")
		})
	}
}

// failingReader fails the test's request if anything reads it: a body
// refused by its Content-Length is never read.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { panic("the body was read") }

// errReader fails every read with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
