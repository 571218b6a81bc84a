package oauth_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/auth"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/internal/oauth"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// browser follows an authorization headlessly, as a person would: it
// signs in at the Zoho the server sends it to, approves (or denies) on the
// consent page, and stops at the client's redirect URI.
type browser struct {
	t        testing.TB
	base     string // the server's URL, for relative links
	redirect string // the client's redirect URI prefix
	// home, when set, is the Zoho (a sandbox's base URL) where the
	// person's account lives. A sign-in that reaches another Zoho goes on
	// there with the same query, as Zoho's accounts server sends a person
	// to their own datacenter, which then answers the callback with its
	// own accounts-server.
	home string
	deny bool
	// hold stops the flow at the consent page, without deciding.
	hold bool
	// signIn is the first Zoho sign-in the flow reached, before any hop
	// to the person's home region.
	signIn *url.URL
	// ourPages counts the pages of this server shown before the Zoho
	// sign-in (a region picker would be one).
	ourPages int
	// The last page when the flow ended on one (a refusal).
	status int
	page   string
	header http.Header
	// The consent form value submitted, if the flow got that far.
	consent string
}

var consentRe = regexp.MustCompile(`name="consent" value="([^"]+)"`)

// zohoSignInPath is the path of Zoho's sign-in and consent screen.
const zohoSignInPath = "/oauth/v2/auth"

// run follows u and returns the query the client's redirect URI got, or
// an error when the flow ended on a page.
func (b *browser) run(ctx context.Context, u string) (url.Values, error) {
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	for range 20 {
		if strings.HasPrefix(req.URL.String(), b.redirect) {
			return req.URL.Query(), nil
		}
		if req.URL.Path == zohoSignInPath {
			if b.signIn == nil {
				b.signIn = req.URL
			}
			if b.home != "" && !strings.HasPrefix(req.URL.String(), b.home+"/") {
				next, err := url.Parse(b.home + zohoSignInPath + "?" + req.URL.RawQuery)
				if err != nil {
					return nil, err
				}
				req, _ = http.NewRequestWithContext(ctx, http.MethodGet, next.String(), nil)
			}
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode == http.StatusFound && loc != "" {
			next, err := req.URL.Parse(loc)
			if err != nil {
				return nil, err
			}
			req, _ = http.NewRequestWithContext(ctx, http.MethodGet, next.String(), nil)
			continue
		}
		b.status, b.page, b.header = resp.StatusCode, string(body), resp.Header
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("the flow ended on a page with status %d", resp.StatusCode)
		}
		m := consentRe.FindStringSubmatch(b.page)
		if m == nil {
			return nil, errors.New("a page with no consent form")
		}
		if b.signIn == nil {
			b.ourPages++
		}
		decision := "approve"
		if b.deny {
			decision = "deny"
		}
		b.consent = htmlUnescape(m[1])
		if b.hold {
			return nil, nil
		}
		form := url.Values{"consent": {b.consent}, "decision": {decision}}
		req, _ = http.NewRequestWithContext(ctx, http.MethodPost, b.base+oauth.ConsentPath, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		// A browser names the page's origin on a form post.
		req.Header.Set("Origin", b.base)
	}
	return nil, errors.New("too many steps")
}

func htmlUnescape(s string) string { return strings.ReplaceAll(s, "&amp;", "&") }

// fetcher is the go-sdk's AuthorizationCodeFetcher over the browser.
func (b *browser) fetcher(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
	q, err := b.run(ctx, args.URL)
	if err != nil {
		return nil, err
	}
	if e := q.Get("error"); e != "" {
		return nil, fmt.Errorf("authorization refused: %s", e)
	}
	return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
}

// cimdServer serves a Client ID Metadata Document over TLS on loopback
// and returns its URL and the TLS config that trusts it.
func cimdServer(t *testing.T, redirect string) (string, *tls.Config) {
	var docURL string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"client_id": docURL, "client_name": "Test CIMD client", "redirect_uris": []string{redirect},
			"token_endpoint_auth_method": "none",
		})
	}))
	t.Cleanup(srv.Close)
	docURL = srv.URL + "/client.json"
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return docURL, &tls.Config{RootCAs: pool}
}

// newEnv starts a stack on sandboxes us and eu, with CIMD fetches allowed
// on loopback against cfg.
func newEnv(t *testing.T, cimd *tls.Config) *apptest.Env {
	return apptest.New(t, apptest.Options{Datacenters: []string{"us", "eu"}, SandboxUsers: 40, Config: func(c *app.Config) {
		c.CIMD = oauth.CIMDOptions{AllowPrivateAddresses: true, TLSConfig: cimd}
	}})
}

// connectOAuth connects the go-sdk client with its OAuth handler.
func connectOAuth(t *testing.T, mcpURL string, cfg *auth.AuthorizationCodeHandlerConfig) (*sdk.ClientSession, error) {
	h, err := auth.NewAuthorizationCodeHandler(cfg)
	require.NoError(t, err)
	client := sdk.NewClient(&sdk.Implementation{Name: "oauth-test", Version: "1"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: mcpURL, OAuthHandler: h, MaxRetries: -1}, nil)
	if err == nil {
		t.Cleanup(func() { cs.Close() })
	}
	return cs, err
}

func TestGoSDKConnects(t *testing.T) {
	t.Parallel()
	const redirect = "http://127.0.0.1/callback" // any port on loopback matches
	docURL, tlsCfg := cimdServer(t, redirect)
	e := newEnv(t, tlsCfg)
	acct := e.ConnectAccount("us")
	sb := e.Sandboxes["us"]
	tests := []struct {
		name       string
		cfg        func(b *browser) *auth.AuthorizationCodeHandlerConfig
		wantClient string
		redirect   string
	}{
		{"client ID metadata document", func(b *browser) *auth.AuthorizationCodeHandlerConfig {
			return &auth.AuthorizationCodeHandlerConfig{
				ClientIDMetadataDocumentConfig: &auth.ClientIDMetadataDocumentConfig{URL: docURL},
				RedirectURL:                    "http://127.0.0.1:43123/callback",
				AuthorizationCodeFetcher:       b.fetcher,
			}
		}, docURL, "http://127.0.0.1:43123/callback"},
		{"dynamic client registration", func(b *browser) *auth.AuthorizationCodeHandlerConfig {
			return &auth.AuthorizationCodeHandlerConfig{
				DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
					ClientName: "Test DCR client", RedirectURIs: []string{"http://127.0.0.1:43124/callback"},
				}},
				AuthorizationCodeFetcher: b.fetcher,
			}
		}, tokens.OAuthClientPrefix, "http://127.0.0.1:43124/callback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, mcpURL := e.MintURL(acct, map[string]any{"auth": "oauth", "oauth_profiles": []string{"Administrator"}})
			b := &browser{t: t, base: e.URL, redirect: tt.redirect}
			cs, err := connectOAuth(t, mcpURL, tt.cfg(b))
			require.NoError(t, err, "page: %s", b.page)
			require.NotNil(t, b.signIn, "the person signed in at Zoho")
			assert.Equal(t, sb.BaseURL(), b.signIn.Scheme+"://"+b.signIn.Host, "straight to the Zoho of the org's region")
			assert.Zero(t, b.ourPages, "no page of ours before Zoho's sign-in")
			_, out := apptest.CallTool(t, cs, "list_all_zohobigin_me", nil)
			me := out["result"].([]any)[0].(map[string]any)
			assert.Equal(t, sb.PrimaryUserID(), me["id"])

			grants := e.AdminCall("GET", "/admin/integrated-accounts/"+acct+"/mcp/"+id+"/grants", nil, http.StatusOK)["result"].([]any)
			require.Len(t, grants, 1)
			g := grants[0].(map[string]any)
			primary, _ := sb.User(sb.PrimaryUserID())
			assert.Equal(t, primary.Email, g["user_email"])
			assert.Equal(t, "active", g["status"])
			assert.True(t, strings.HasPrefix(g["client_id"].(string), tt.wantClient))

			e.App.Flush()
			entries, _, err := e.DB.Audit(context.Background(), "", 10)
			require.NoError(t, err)
			var call *tokens.AuditEntry
			for _, a := range entries {
				if a.Action == "tool_call" && a.MCPServerID == id {
					call = a
					break
				}
			}
			require.NotNil(t, call, "the call is audited")
			assert.Equal(t, primary.ZUID, call.UserZUID)
			assert.Equal(t, primary.Email, call.UserEmail)
			assert.Equal(t, g["client_id"], call.OAuthClient)
		})
	}
}

// TestAuthorizeGoesStraightToTheOrgsRegion: the first answer of
// /oauth/authorize is a redirect to the Zoho sign-in of the datacenter of
// the URL's account, whichever it is, with no page of ours in between;
// a member of an org in the second region signs in there and gets in.
func TestAuthorizeGoesStraightToTheOrgsRegion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const redirect = "http://127.0.0.1:5002/cb"
	client := register(t, e, redirect)
	verifier, challenge := pkce()
	for _, dc := range []string{"us", "eu"} {
		t.Run(dc, func(t *testing.T) {
			sb := e.Sandboxes[dc]
			acct := e.ConnectAccount(dc)
			_, mcpURL := e.MintURL(acct, map[string]any{"auth": "oauth"})
			u := authorizeURL(e, url.Values{
				"client_id": {client}, "redirect_uri": {redirect}, "response_type": {"code"}, "state": {"s"},
				"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "resource": {mcpURL},
			})
			hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := hc.Get(u)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusFound, resp.StatusCode, "no page: a redirect")
			loc, err := url.Parse(resp.Header.Get("Location"))
			require.NoError(t, err)
			assert.Equal(t, sb.BaseURL()+"/oauth/v2/auth", loc.Scheme+"://"+loc.Host+loc.Path, "the Zoho sign-in of the org's region")
			assert.Equal(t, e.Config.ZohoClientID, loc.Query().Get("client_id"))
			assert.Equal(t, e.Public+"/oauth/zoho/callback", loc.Query().Get("redirect_uri"))
			assert.True(t, strings.HasPrefix(loc.Query().Get("state"), oauth.SignInStatePrefix))

			b := &browser{t: t, base: e.URL, redirect: redirect}
			got, err := b.run(context.Background(), u)
			require.NoError(t, err, "page: %s", b.page)
			assert.Zero(t, b.ourPages)
			f := &flow{t: t, e: e, client: client, redirect: redirect, resource: mcpURL, verifier: verifier}
			status, tok := f.exchange(got.Get("code"))
			require.Equal(t, http.StatusOK, status, "%v", tok)
			assert.Equal(t, http.StatusOK, f.call(mcpURL, tok["access_token"].(string)).Status, "the member of the %s org is in", dc)
		})
	}
}

// TestAuthorizeWithTheOrgsRegionUnconfigured: an account whose datacenter
// the server no longer has configured cannot be signed in to; the person
// gets a page that says so, and nobody is sent to a Zoho at a guess.
func TestAuthorizeWithTheOrgsRegionUnconfigured(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a := e.SeedAccount("gone")
	_, err := e.Store.UpdateAccount(context.Background(), a.ID, func(a *tokens.Account) error { a.Datacenter = "xx"; return nil })
	require.NoError(t, err)
	_, mcpURL := e.MintURL(a.ID, map[string]any{"auth": "oauth"})
	f := newFlow(t, e, mcpURL)
	_, b, err := f.authorize(f.params())
	require.Error(t, err)
	assert.Nil(t, b.signIn, "no Zoho sign-in")
	assert.Equal(t, http.StatusInternalServerError, b.status)
	assert.Contains(t, b.page, "region this server is no longer configured for")
}

// pkce returns a verifier and its S256 challenge.
func pkce() (string, string) {
	v := strings.Repeat("v", 20) + base64.RawURLEncoding.EncodeToString([]byte(time.Now().String()))
	sum := sha256.Sum256([]byte(v))
	return v, base64.RawURLEncoding.EncodeToString(sum[:])
}

// register registers a DCR client and returns its id.
func register(t *testing.T, e *apptest.Env, redirect string) string {
	r := e.RequestAs("", "application/json", "POST", oauth.RegisterPath, map[string]any{"client_name": "t", "redirect_uris": []string{redirect}})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	return r.JSON(t)["client_id"].(string)
}

func authorizeURL(e *apptest.Env, q url.Values) string {
	return e.URL + oauth.AuthorizePath + "?" + q.Encode()
}

func TestSignInRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	acct := e.ConnectAccount("us")
	us := e.Sandboxes["us"]
	const redirect = "http://127.0.0.1:5000/cb"
	client := register(t, e, redirect)
	_, verifierChallenge := pkce()
	disabled := us.UserIDs("DeactiveUsers")
	require.NotEmpty(t, disabled)
	var standard string
	for _, id := range us.UserIDs("ActiveUsers") {
		if u, _ := us.User(id); u.Profile.Name != "Administrator" {
			standard = id
			break
		}
	}
	require.NotEmpty(t, standard)
	tests := []struct {
		name   string
		home   string // the person's own Zoho region, when not the org's
		user   func() // chooses who signs in
		want   string
		status int
	}{
		{"a user of another region and org", "eu", func() {}, "not a user of the Bigin organization", http.StatusForbidden},
		{"a deactivated user", "", func() { require.NoError(t, us.SetConsentUser(disabled[0])) }, "not active", http.StatusForbidden},
		{"a profile not in oauth_profiles", "", func() { require.NoError(t, us.SetConsentUser(standard)) }, "Administrator", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, mcpURL := e.MintURL(acct, map[string]any{"auth": "oauth", "oauth_profiles": []string{"Administrator"}})
			tt.user()
			t.Cleanup(func() { require.NoError(t, us.SetConsentUser(us.PrimaryUserID())) })
			b := &browser{t: t, base: e.URL, redirect: "http://127.0.0.1:5000/"}
			if tt.home != "" {
				b.home = e.Sandboxes[tt.home].BaseURL()
			}
			_, err := b.run(context.Background(), authorizeURL(e, url.Values{
				"client_id": {client}, "redirect_uri": {redirect}, "response_type": {"code"}, "state": {"s"},
				"code_challenge": {verifierChallenge}, "code_challenge_method": {"S256"}, "resource": {strings.Replace(mcpURL, e.URL, e.Public, 1)},
			}))
			require.Error(t, err)
			require.NotNil(t, b.signIn)
			assert.Equal(t, us.BaseURL(), b.signIn.Scheme+"://"+b.signIn.Host, "sent first to the Zoho of the org's region")
			assert.Equal(t, tt.status, b.status)
			assert.Contains(t, b.page, tt.want)
			assert.Contains(t, b.page, "This MCP URL belongs to the Bigin organization &#34;Org us&#34;, whose users sign in with Zoho in United States (",
				"the refusal says which org the URL belongs to, and where its users sign in")
			grants := e.AdminCall("GET", "/admin/integrated-accounts/"+acct+"/mcp/"+id+"/grants", nil, http.StatusOK)["result"].([]any)
			assert.Empty(t, grants, "nothing was granted")
		})
	}
}

// flow is one public client's manual run through authorize and token.
type flow struct {
	t        *testing.T
	e        *apptest.Env
	client   string
	redirect string
	resource string
	verifier string
}

func newFlow(t *testing.T, e *apptest.Env, mcpURL string) *flow {
	const redirect = "http://127.0.0.1:5001/cb"
	v, _ := pkce()
	return &flow{t: t, e: e, client: register(t, e, redirect), redirect: redirect, resource: mcpURL, verifier: v}
}

func (f *flow) params() url.Values {
	sum := sha256.Sum256([]byte(f.verifier))
	return url.Values{"client_id": {f.client}, "redirect_uri": {f.redirect}, "response_type": {"code"}, "state": {"st"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "resource": {f.resource}}
}

// authorize runs the browser on the request and returns what the
// redirect URI got.
func (f *flow) authorize(q url.Values) (url.Values, *browser, error) {
	b := &browser{t: f.t, base: f.e.URL, redirect: f.redirect}
	got, err := b.run(context.Background(), authorizeURL(f.e, q))
	return got, b, err
}

func (f *flow) token(form url.Values) (int, map[string]any) {
	form.Set("client_id", f.client)
	r := f.e.RequestAs("", "application/x-www-form-urlencoded", "POST", oauth.TokenPath, form.Encode())
	var m map[string]any
	require.NoError(f.t, json.Unmarshal(r.Body, &m), "%s", r.Body)
	return r.Status, m
}

func (f *flow) code() string {
	got, _, err := f.authorize(f.params())
	require.NoError(f.t, err)
	require.NotEmpty(f.t, got.Get("code"), "%v", got)
	assert.Equal(f.t, f.e.Public, got.Get("iss"), "RFC 9207 iss")
	assert.Equal(f.t, "st", got.Get("state"))
	return got.Get("code")
}

func (f *flow) exchange(code string) (int, map[string]any) {
	return f.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {f.redirect}, "code_verifier": {f.verifier}, "resource": {f.resource}})
}

func (f *flow) refresh(rt string) (int, map[string]any) {
	return f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// call sends tools/list to the URL with the access token and returns the
// status.
func (f *flow) call(mcpURL, access string) apptest.Response {
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
	req, _ := http.NewRequest("POST", mcpURL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	if access != "" {
		req.Header.Set("Authorization", "Bearer "+access)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return apptest.Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

func TestAuthorizeRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	acct := e.ConnectAccount("us")
	_, mcpURL := e.MintURL(acct, map[string]any{"auth": "oauth"})
	f := newFlow(t, e, mcpURL)
	tests := []struct {
		name   string
		change func(url.Values)
		error  string // the OAuth error sent back; "" when the flow ends on a page
		status int
	}{
		{"no PKCE", func(q url.Values) { q.Del("code_challenge") }, "invalid_request", 0},
		{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request", 0},
		{"wrong resource", func(q url.Values) { q.Set("resource", e.Public+"/mcp/bmcp_unknown") }, "invalid_target", 0},
		{"no resource", func(q url.Values) { q.Del("resource") }, "invalid_target", 0},
		{"redirect URI not registered", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:5001/other") }, "", http.StatusBadRequest},
		{"unknown client", func(q url.Values) { q.Set("client_id", "bmcp_client_nope") }, "", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := f.params()
			tt.change(q)
			got, b, err := f.authorize(q)
			if tt.error == "" {
				require.Error(t, err)
				assert.Equal(t, tt.status, b.status)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.error, got.Get("error"))
			assert.Empty(t, got.Get("code"))
		})
	}
}

func TestTokensAndGrantLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	acct := e.ConnectAccount("us")
	sb := e.Sandboxes["us"]
	mint := func() (string, string, *flow) {
		id, mcpURL := e.MintURL(acct, map[string]any{"auth": "oauth"})
		return id, mcpURL, newFlow(t, e, strings.Replace(mcpURL, e.URL, e.Public, 1))
	}
	grants := func(id string) []any {
		return e.AdminCall("GET", "/admin/integrated-accounts/"+acct+"/mcp/"+id+"/grants", nil, http.StatusOK)["result"].([]any)
	}

	t.Run("no token gets 401 with resource_metadata", func(t *testing.T) {
		_, mcpURL, f := mint()
		r := f.call(mcpURL, "")
		assert.Equal(t, http.StatusUnauthorized, r.Status)
		tok := strings.TrimPrefix(mcpURL, e.URL+"/mcp/")
		assert.Equal(t, `Bearer resource_metadata="`+oauth.ResourceMetadataURL(e.Public, tok)+`"`, r.Header.Get("WWW-Authenticate"))
		prm := e.RequestAs("", "", "GET", "/.well-known/oauth-protected-resource/mcp/"+tok, nil)
		require.Equal(t, http.StatusOK, prm.Status)
		assert.Equal(t, e.Public+"/mcp/"+tok, prm.JSON(t)["resource"])
		asm := e.RequestAs("", "", "GET", "/.well-known/oauth-authorization-server", nil).JSON(t)
		assert.Equal(t, e.Public, asm["issuer"])
		assert.Equal(t, []any{"S256"}, asm["code_challenge_methods_supported"])
		assert.Equal(t, true, asm["client_id_metadata_document_supported"])
		assert.Equal(t, true, asm["authorization_response_iss_parameter_supported"])
		unknown := e.RequestAs("", "", "GET", "/.well-known/openid-configuration", nil)
		assert.Equal(t, http.StatusNotFound, unknown.Status)
		code, _ := unknown.ErrCode(t)
		assert.Equal(t, tokens.CodeNotFound, code)
	})

	t.Run("code reuse revokes what the code issued", func(t *testing.T) {
		id, mcpURL, f := mint()
		code := f.code()
		st, tok := f.exchange(code)
		require.Equal(t, http.StatusOK, st, "%v", tok)
		access := tok["access_token"].(string)
		assert.Equal(t, http.StatusOK, f.call(mcpURL, access).Status)
		st, again := f.exchange(code)
		assert.Equal(t, http.StatusBadRequest, st)
		assert.Equal(t, "invalid_grant", again["error"])
		assert.Equal(t, http.StatusUnauthorized, f.call(mcpURL, access).Status, "the first exchange's token is revoked")
		assert.Empty(t, grants(id))
	})

	t.Run("concurrent exchanges of one code: at most one wins and the grant ends", func(t *testing.T) {
		id, mcpURL, f := mint()
		code := f.code()
		const n = 8
		type result struct {
			status int
			body   map[string]any
		}
		results := make(chan result, n)
		var start sync.WaitGroup
		start.Add(1)
		for range n {
			go func() {
				start.Wait()
				st, m := f.exchange(code)
				results <- result{st, m}
			}()
		}
		start.Done()
		var won []string
		for range n {
			r := <-results
			if r.status == http.StatusOK {
				won = append(won, r.body["access_token"].(string))
				continue
			}
			assert.Equal(t, http.StatusBadRequest, r.status)
			assert.Equal(t, "invalid_grant", r.body["error"])
		}
		require.LessOrEqual(t, len(won), 1, "one code, one token pair")
		for _, access := range won {
			assert.Equal(t, http.StatusUnauthorized, f.call(mcpURL, access).Status, "a replayed code revokes what it issued")
		}
		assert.Empty(t, grants(id))
	})

	t.Run("wrong verifier and wrong resource", func(t *testing.T) {
		_, _, f := mint()
		code := f.code()
		st, m := f.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {f.redirect}, "code_verifier": {strings.Repeat("x", 50)}, "resource": {f.resource}})
		assert.Equal(t, http.StatusBadRequest, st)
		assert.Equal(t, "invalid_grant", m["error"])
		st, m = f.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {f.redirect}, "code_verifier": {f.verifier}, "resource": {e.Public + "/mcp/bmcp_other"}})
		assert.Equal(t, http.StatusBadRequest, st)
		assert.Equal(t, "invalid_target", m["error"])
	})

	t.Run("refresh rotates and a reused refresh token revokes the grant", func(t *testing.T) {
		id, mcpURL, f := mint()
		_, tok := f.exchange(f.code())
		rt1 := tok["refresh_token"].(string)
		st, tok2 := f.refresh(rt1)
		require.Equal(t, http.StatusOK, st, "%v", tok2)
		assert.NotEqual(t, rt1, tok2["refresh_token"])
		assert.Equal(t, http.StatusOK, f.call(mcpURL, tok2["access_token"].(string)).Status)
		e.Clock.Advance(tokens.OAuthRefreshGrace + time.Second) // past the grace of a lost answer
		st, _ = f.refresh(rt1)
		assert.Equal(t, http.StatusBadRequest, st)
		assert.Equal(t, http.StatusUnauthorized, f.call(mcpURL, tok2["access_token"].(string)).Status)
		st, _ = f.refresh(tok2["refresh_token"].(string))
		assert.Equal(t, http.StatusBadRequest, st, "the whole grant ended")
		assert.Empty(t, grants(id))
	})

	t.Run("a refresh retried within the grace gets the pair already issued", func(t *testing.T) {
		id, mcpURL, f := mint()
		_, tok := f.exchange(f.code())
		rt1 := tok["refresh_token"].(string)
		st, tok2 := f.refresh(rt1)
		require.Equal(t, http.StatusOK, st, "%v", tok2)
		// The answer was lost (a crash, a reset connection): the client
		// retries with the token it still holds.
		e.Clock.Advance(tokens.OAuthRefreshGrace - time.Second)
		st, again := f.refresh(rt1)
		require.Equal(t, http.StatusOK, st, "%v", again)
		assert.Equal(t, tok2["access_token"], again["access_token"], "the same pair, not a new one")
		assert.Equal(t, tok2["refresh_token"], again["refresh_token"])
		assert.InDelta(t, (tokens.OAuthAccessLifetime - tokens.OAuthRefreshGrace + time.Second).Seconds(), again["expires_in"], 1,
			"the access token's remaining life")
		assert.Equal(t, http.StatusOK, f.call(mcpURL, again["access_token"].(string)).Status)
		require.Len(t, grants(id), 1, "the grant lives on")

		st, tok3 := f.refresh(again["refresh_token"].(string))
		require.Equal(t, http.StatusOK, st, "the pair rotates on as usual: %v", tok3)
		st, m := f.refresh(rt1)
		assert.Equal(t, http.StatusBadRequest, st, "rt1 is no longer the token just rotated away: reuse")
		assert.Equal(t, "invalid_grant", m["error"])
		assert.Equal(t, http.StatusUnauthorized, f.call(mcpURL, tok3["access_token"].(string)).Status, "and the grant ended")
		assert.Empty(t, grants(id))
	})

	t.Run("within the grace, another client's retry is reuse", func(t *testing.T) {
		id, mcpURL, f := mint()
		_, tok := f.exchange(f.code())
		rt1 := tok["refresh_token"].(string)
		st, tok2 := f.refresh(rt1)
		require.Equal(t, http.StatusOK, st)
		other := newFlow(t, e, f.resource)
		st, _ = other.refresh(rt1)
		assert.Equal(t, http.StatusBadRequest, st)
		assert.Equal(t, http.StatusUnauthorized, f.call(mcpURL, tok2["access_token"].(string)).Status, "the grant ended")
		assert.Empty(t, grants(id))
	})

	t.Run("concurrent refreshes with one token all get the one new pair", func(t *testing.T) {
		id, mcpURL, f := mint()
		_, tok := f.exchange(f.code())
		rt1 := tok["refresh_token"].(string)
		const n = 8
		type result struct {
			status int
			body   map[string]any
		}
		results := make(chan result, n)
		var start sync.WaitGroup
		start.Add(1)
		for range n {
			go func() {
				start.Wait()
				st, m := f.refresh(rt1)
				results <- result{st, m}
			}()
		}
		start.Done()
		pairs := map[string]bool{}
		for range n {
			r := <-results
			require.Equal(t, http.StatusOK, r.status, "%v", r.body)
			pairs[r.body["access_token"].(string)+" "+r.body["refresh_token"].(string)] = true
		}
		require.Len(t, pairs, 1, "one rotation, one pair")
		for p := range pairs {
			assert.Equal(t, http.StatusOK, f.call(mcpURL, strings.Fields(p)[0]).Status)
		}
		assert.Len(t, grants(id), 1)
	})

	t.Run("an expired access token", func(t *testing.T) {
		_, mcpURL, f := mint()
		_, tok := f.exchange(f.code())
		e.Clock.Advance(tokens.OAuthAccessLifetime)
		r := f.call(mcpURL, tok["access_token"].(string))
		assert.Equal(t, http.StatusUnauthorized, r.Status)
		assert.Contains(t, r.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
	})

	t.Run("a revoked grant", func(t *testing.T) {
		id, mcpURL, f := mint()
		_, tok := f.exchange(f.code())
		g := grants(id)
		require.Len(t, g, 1)
		e.AdminCall("DELETE", "/admin/integrated-accounts/"+acct+"/mcp/"+id+"/grants/"+g[0].(map[string]any)["id"].(string), nil, http.StatusNoContent)
		assert.Equal(t, http.StatusUnauthorized, f.call(mcpURL, tok["access_token"].(string)).Status)
		st, _ := f.refresh(tok["refresh_token"].(string))
		assert.Equal(t, http.StatusBadRequest, st)
	})

	t.Run("a deleted URL", func(t *testing.T) {
		id, mcpURL, f := mint()
		_, tok := f.exchange(f.code())
		e.AdminCall("DELETE", "/admin/integrated-accounts/"+acct+"/mcp/"+id, nil, http.StatusNoContent)
		assert.Equal(t, http.StatusNotFound, f.call(mcpURL, tok["access_token"].(string)).Status)
		st, _ := f.refresh(tok["refresh_token"].(string))
		assert.Equal(t, http.StatusBadRequest, st)
	})

	t.Run("changing auth ends the grant, even when changed back", func(t *testing.T) {
		id, mcpURL, f := mint()
		_, tok := f.exchange(f.code())
		path := "/admin/integrated-accounts/" + acct + "/mcp/" + id
		e.AdminCall("PATCH", path, map[string]any{"config": map[string]any{"auth": "url"}}, http.StatusOK)
		assert.Equal(t, http.StatusOK, f.call(mcpURL, "").Status, "a url URL needs no token")
		e.AdminCall("PATCH", path, map[string]any{"config": map[string]any{"auth": "oauth"}}, http.StatusOK)
		assert.Equal(t, http.StatusUnauthorized, f.call(mcpURL, tok["access_token"].(string)).Status)
	})

	t.Run("a user who left the org is refused at refresh", func(t *testing.T) {
		_, mcpURL, f := mint()
		var who string
		for _, id := range sb.UserIDs("ActiveUsers") {
			if id != sb.PrimaryUserID() {
				who = id
				break
			}
		}
		require.NoError(t, sb.SetConsentUser(who))
		t.Cleanup(func() { require.NoError(t, sb.SetConsentUser(sb.PrimaryUserID())) })
		_, tok := f.exchange(f.code())
		require.NoError(t, sb.SetUserStatus(who, "deleted"))
		st, m := f.refresh(tok["refresh_token"].(string))
		assert.Equal(t, http.StatusBadRequest, st)
		assert.Equal(t, "invalid_grant", m["error"])
		assert.Contains(t, m["error_description"], "not active")
		_ = mcpURL
	})

	t.Run("an unknown client gets invalid_client", func(t *testing.T) {
		_, _, f := mint()
		f.client = "bmcp_client_deleted"
		r := e.RequestAs("", "application/x-www-form-urlencoded", "POST", oauth.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {f.client}}.Encode())
		assert.Equal(t, http.StatusUnauthorized, r.Status)
		assert.Equal(t, "invalid_client", r.JSON(t)["error"])
	})
}

func TestRegisterRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	uris := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("http://127.0.0.1:%d/cb", 5000+i))
		}
		return out
	}
	j := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	tests := []struct {
		name   string
		method string
		body   string
		status int
		code   string
	}{
		{"not JSON", "POST", "{", http.StatusBadRequest, "invalid_client_metadata"},
		{"a JSON array", "POST", "[]", http.StatusBadRequest, "invalid_client_metadata"},
		{"redirect_uris not a list", "POST", `{"redirect_uris":"http://127.0.0.1/cb"}`, http.StatusBadRequest, "invalid_client_metadata"},
		{"no redirect_uris", "POST", `{"client_name":"x"}`, http.StatusBadRequest, "invalid_redirect_uri"},
		{"21 redirect_uris", "POST", j(map[string]any{"redirect_uris": uris(21)}), http.StatusBadRequest, "invalid_redirect_uri"},
		{"a redirect URI over 512 bytes", "POST", j(map[string]any{"redirect_uris": []string{"https://app.example/" + strings.Repeat("a", 493)}}), http.StatusBadRequest, "invalid_redirect_uri"},
		{"redirect URIs over 4 KiB together", "POST", j(map[string]any{"redirect_uris": longURIs(9, 500)}), http.StatusBadRequest, "invalid_redirect_uri"},
		{"http off loopback", "POST", j(map[string]any{"redirect_uris": []string{"http://app.example/cb"}}), http.StatusBadRequest, "invalid_redirect_uri"},
		{"a fragment", "POST", j(map[string]any{"redirect_uris": []string{"https://app.example/cb#f"}}), http.StatusBadRequest, "invalid_redirect_uri"},
		{"a script URI", "POST", j(map[string]any{"redirect_uris": []string{"javascript:alert(1)"}}), http.StatusBadRequest, "invalid_redirect_uri"},
		{"a relative URI", "POST", j(map[string]any{"redirect_uris": []string{"/cb"}}), http.StatusBadRequest, "invalid_redirect_uri"},
		{"credentials in the URI", "POST", j(map[string]any{"redirect_uris": []string{"https://u:p@app.example/cb"}}), http.StatusBadRequest, "invalid_redirect_uri"},
		{"a grant type other than code and refresh", "POST", j(map[string]any{"redirect_uris": uris(1), "grant_types": []string{"client_credentials"}}), http.StatusBadRequest, "invalid_client_metadata"},
		{"over 64 KiB", "POST", j(map[string]any{"redirect_uris": uris(1), "client_name": strings.Repeat("n", 65<<10)}), http.StatusRequestEntityTooLarge, "invalid_client_metadata"},
		{"GET", "GET", "", http.StatusMethodNotAllowed, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.body != "" {
				body = tt.body
			}
			r := e.RequestAs("", "application/json", tt.method, oauth.RegisterPath, body)
			assert.Equal(t, tt.status, r.Status, "%s", r.Body)
			m := r.JSON(t)
			assert.Equal(t, tt.code, m["error"])
			assert.NotEmpty(t, m["error_description"])
		})
	}

	t.Run("the largest registration", func(t *testing.T) {
		r := e.RequestAs("", "application/json", "POST", oauth.RegisterPath, map[string]any{
			"client_name": strings.Repeat("n", 500), "redirect_uris": longURIs(8, 512),
		})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		m := r.JSON(t)
		assert.Len(t, m["redirect_uris"], 8)
		assert.Len(t, m["client_name"], 200+len("…"), "the name is clipped")
	})

	t.Run("a valid registration is a public client", func(t *testing.T) {
		r := e.RequestAs("", "application/json", "POST", oauth.RegisterPath, map[string]any{
			"client_name": "  App  ", "redirect_uris": []string{"http://localhost:9/cb", "https://app.example/cb"}, "grant_types": []string{"authorization_code"},
		})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		m := r.JSON(t)
		assert.True(t, strings.HasPrefix(m["client_id"].(string), tokens.OAuthClientPrefix))
		assert.Equal(t, "App", m["client_name"])
		assert.Equal(t, "none", m["token_endpoint_auth_method"])
		assert.Nil(t, m["client_secret"])
		assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	})
}

func TestDenials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	acct := e.ConnectAccount("us")
	us := e.Sandboxes["us"]
	tests := []struct {
		name string
		set  func(t *testing.T, b *browser)
	}{
		{"the person denies at the consent page", func(t *testing.T, b *browser) { b.deny = true }},
		{"the person declines at Zoho", func(t *testing.T, b *browser) {
			us.SetDenyConsent(true)
			t.Cleanup(func() { us.SetDenyConsent(false) })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, mcpURL := e.MintURL(acct, map[string]any{"auth": "oauth"})
			f := newFlow(t, e, strings.Replace(mcpURL, e.URL, e.Public, 1))
			b := &browser{t: t, base: e.URL, redirect: f.redirect}
			tt.set(t, b)
			got, err := b.run(context.Background(), authorizeURL(e, f.params()))
			require.NoError(t, err, "the client is told, not left on a page: %s", b.page)
			assert.Equal(t, "access_denied", got.Get("error"))
			assert.NotEmpty(t, got.Get("error_description"))
			assert.Empty(t, got.Get("code"))
			assert.Equal(t, "st", got.Get("state"))
			assert.Equal(t, e.Public, got.Get("iss"))
			grants := e.AdminCall("GET", "/admin/integrated-accounts/"+acct+"/mcp/"+id+"/grants", nil, http.StatusOK)["result"].([]any)
			assert.Empty(t, grants, "nothing was granted")
		})
	}

	t.Run("an http client_id is not a metadata document and is refused without a fetch", func(t *testing.T) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
		t.Cleanup(srv.Close)
		_, mcpURL := e.MintURL(acct, map[string]any{"auth": "oauth"})
		f := newFlow(t, e, strings.Replace(mcpURL, e.URL, e.Public, 1))
		q := f.params()
		q.Set("client_id", srv.URL+"/client.json")
		_, b, err := f.authorize(q)
		require.Error(t, err)
		assert.Equal(t, http.StatusBadRequest, b.status)
		assert.Contains(t, b.page, "Unknown application")
		assert.Zero(t, hits.Load())
	})
}

// bearer adds an access token to every request.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func TestLegacySSECallIsAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	acct := e.ConnectAccount("us")
	sb := e.Sandboxes["us"]
	id, mcpURL := e.MintURL(acct, map[string]any{"auth": "oauth"})
	f := newFlow(t, e, strings.Replace(mcpURL, e.URL, e.Public, 1))
	st, tok := f.exchange(f.code())
	require.Equal(t, http.StatusOK, st, "%v", tok)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	connect := func(hc *http.Client) (*sdk.ClientSession, error) {
		client := sdk.NewClient(&sdk.Implementation{Name: "sse-oauth-test", Version: "1"}, nil)
		return client.Connect(ctx, &sdk.SSEClientTransport{Endpoint: mcpURL + "/sse", HTTPClient: hc}, nil)
	}
	_, err := connect(http.DefaultClient)
	require.Error(t, err, "the SSE endpoint of an oauth URL needs the access token too")

	cs, err := connect(&http.Client{Transport: bearer{tok["access_token"].(string)}})
	require.NoError(t, err)
	t.Cleanup(func() { cs.Close() })
	_, out := apptest.CallTool(t, cs, "list_all_zohobigin_me", nil)
	assert.Equal(t, sb.PrimaryUserID(), out["result"].([]any)[0].(map[string]any)["id"])

	e.App.Flush()
	entries, _, err := e.DB.Audit(context.Background(), "", 20)
	require.NoError(t, err)
	var call *tokens.AuditEntry
	for _, a := range entries {
		if a.Action == "tool_call" && a.MCPServerID == id {
			call = a
			break
		}
	}
	require.NotNil(t, call, "the call over SSE is audited")
	primary, _ := sb.User(sb.PrimaryUserID())
	assert.Equal(t, primary.ZUID, call.UserZUID)
	assert.Equal(t, primary.Email, call.UserEmail)
	assert.Equal(t, f.client, call.OAuthClient)
	assert.Equal(t, "oauth:"+primary.ZUID, call.Actor)
}

func TestConsentIsSingleUse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	acct := e.ConnectAccount("us")
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(t *testing.T, consent, decision string) (int, http.Header, string) {
		req, err := http.NewRequest(http.MethodPost, e.URL+oauth.ConsentPath, strings.NewReader(url.Values{"consent": {consent}, "decision": {decision}}.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", e.Public)
		res, err := hc.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, string(body)
	}
	tests := []struct {
		name            string
		first, replayed string
	}{
		{"approve, then the same form approved again", "approve", "approve"},
		{"deny, then the same form approved", "deny", "approve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, mcpURL := e.MintURL(acct, map[string]any{"auth": "oauth"})
			f := newFlow(t, e, strings.Replace(mcpURL, e.URL, e.Public, 1))
			b := &browser{t: t, base: e.URL, redirect: f.redirect, deny: tt.first == "deny"}
			_, err := b.run(context.Background(), authorizeURL(e, f.params()))
			require.NoError(t, err)
			require.NotEmpty(t, b.consent)
			before := e.AdminCall("GET", "/admin/integrated-accounts/"+acct+"/mcp/"+id+"/grants", nil, http.StatusOK)["result"].([]any)

			status, hdr, body := post(t, b.consent, tt.replayed)
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Empty(t, hdr.Get("Location"), "no code and no redirect")
			assert.Contains(t, body, "expired")
			after := e.AdminCall("GET", "/admin/integrated-accounts/"+acct+"/mcp/"+id+"/grants", nil, http.StatusOK)["result"].([]any)
			assert.Len(t, after, len(before), "the replay granted nothing")
		})
	}

	t.Run("a fresh consent form still works after a replay was refused", func(t *testing.T) {
		_, mcpURL := e.MintURL(acct, map[string]any{"auth": "oauth"})
		f := newFlow(t, e, strings.Replace(mcpURL, e.URL, e.Public, 1))
		st, tok := f.exchange(f.code())
		assert.Equal(t, http.StatusOK, st, "%v", tok)
	})
}

// registerFrom registers a client from the loopback address ip.
func registerFrom(t *testing.T, e *apptest.Env, ip string) apptest.Response {
	t.Helper()
	body := `{"client_name":"flood","redirect_uris":["http://127.0.0.1/cb"]}`
	req, err := http.NewRequest("POST", e.URL+oauth.RegisterPath, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	res, err := apptest.ClientFrom(ip).Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return apptest.Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// TestRegisterIsBounded: at most 100 registrations per 10 minutes across
// the server, from however many addresses.
func TestRegisterIsBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for i := range 100 {
		ip := fmt.Sprintf("127.0.1.%d", i/10) // 10 from each address, within each one's own limit
		require.Equal(t, http.StatusCreated, registerFrom(t, e, ip).Status, "registration %d", i)
	}
	r := registerFrom(t, e, "127.0.1.100")
	assert.Equal(t, http.StatusTooManyRequests, r.Status)
	assert.Equal(t, "temporarily_unavailable", r.JSON(t)["error"])
	assert.Equal(t, "600", r.Header.Get("Retry-After"))

	e.Clock.Advance(9 * time.Minute)
	assert.Equal(t, http.StatusTooManyRequests, registerFrom(t, e, "127.0.1.101").Status, "still the same window")
	e.Clock.Advance(time.Minute)
	assert.Equal(t, http.StatusCreated, registerFrom(t, e, "127.0.1.101").Status, "a new window")
}

// TestRegisterIsBoundedPerAddress: one address may register 20 clients
// per 10 minutes (one more every 30 s), so it cannot use up the server's
// registrations and lock everyone else out.
func TestRegisterIsBoundedPerAddress(t *testing.T) {
	e := newEnv(t, nil)
	for i := range 20 {
		require.Equal(t, http.StatusCreated, registerFrom(t, e, "127.0.2.1").Status, "registration %d", i)
	}
	r := registerFrom(t, e, "127.0.2.1")
	assert.Equal(t, http.StatusTooManyRequests, r.Status)
	assert.Equal(t, "temporarily_unavailable", r.JSON(t)["error"])
	assert.Equal(t, "30", r.Header.Get("Retry-After"), "until this address may register one more")
	assert.Equal(t, http.StatusCreated, registerFrom(t, e, "127.0.2.2").Status, "another address registers")

	e.Clock.Advance(30 * time.Second)
	assert.Equal(t, http.StatusCreated, registerFrom(t, e, "127.0.2.1").Status, "one more after 30 s")
	assert.Equal(t, http.StatusTooManyRequests, registerFrom(t, e, "127.0.2.1").Status)
}

// TestRegistrationsPerAddressIsASetting: Limits.RegistrationsPerAddress
// sets how many clients one address registers per 10 minutes, one more
// coming back every 10 minutes divided by it.
func TestRegistrationsPerAddressIsASetting(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.Limits.RegistrationsPerAddress = 2 }})
	for i := range 2 {
		require.Equal(t, http.StatusCreated, registerFrom(t, e, "127.0.3.1").Status, "registration %d", i)
	}
	r := registerFrom(t, e, "127.0.3.1")
	assert.Equal(t, http.StatusTooManyRequests, r.Status)
	assert.Equal(t, "300", r.Header.Get("Retry-After"), "one back every 5 minutes")
	assert.Equal(t, http.StatusCreated, registerFrom(t, e, "127.0.3.2").Status, "another address registers")
	e.Clock.Advance(5 * time.Minute)
	assert.Equal(t, http.StatusCreated, registerFrom(t, e, "127.0.3.1").Status)
}

// TestClientNameIsClippedBetweenCharacters: a registered client_name over
// 200 bytes is cut before the character that crosses the limit, so the
// stored name and the consent page stay valid UTF-8 with no replacement
// character.
func TestClientNameIsClippedBetweenCharacters(t *testing.T) {
	e := newEnv(t, nil)
	acct := e.ConnectAccount("us")
	_, mcpURL := e.MintURL(acct, map[string]any{"auth": "oauth"})
	const redirect = "http://127.0.0.1:5003/cb"
	r := e.RequestAs("", "application/json", "POST", oauth.RegisterPath, map[string]any{
		"client_name": strings.Repeat("a", 199) + "éé tail", "redirect_uris": []string{redirect},
	})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	m := r.JSON(t)
	want := strings.Repeat("a", 199) + "…"
	assert.Equal(t, want, m["client_name"])

	v, _ := pkce()
	f := &flow{t: t, e: e, client: m["client_id"].(string), redirect: redirect, resource: strings.Replace(mcpURL, e.URL, e.Public, 1), verifier: v}
	_, b, err := f.authorize(f.params())
	require.NoError(t, err)
	assert.True(t, utf8.ValidString(b.page), "the consent page is valid UTF-8")
	assert.NotContains(t, b.page, "\uFFFD")
	assert.Contains(t, b.page, "<strong>"+want+"</strong>")
}

// TestConsentChecksOrigin: the consent form counts only when the browser
// says it was sent from this server's page (Origin, or Referer when a
// browser sends no Origin); a post from another site, or one that names
// no origin at all, is refused without using up the form.
func TestConsentChecksOrigin(t *testing.T) {
	e := newEnv(t, nil)
	acct := e.ConnectAccount("us")
	id, mcpURL := e.MintURL(acct, map[string]any{"auth": "oauth"})
	f := newFlow(t, e, strings.Replace(mcpURL, e.URL, e.Public, 1))
	b := &browser{t: t, base: e.URL, redirect: f.redirect, hold: true}
	_, err := b.run(context.Background(), authorizeURL(e, f.params()))
	require.NoError(t, err)
	require.NotEmpty(t, b.consent, "the flow stopped at the consent page")
	assert.Equal(t, "same-origin", b.header.Get("Referrer-Policy"),
		"the consent page lets the browser name its origin on the post (no-referrer would make it Origin: null)")

	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(hdr map[string]string) *http.Response {
		req, err := http.NewRequest(http.MethodPost, e.URL+oauth.ConsentPath, strings.NewReader(url.Values{"consent": {b.consent}, "decision": {"approve"}}.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := hc.Do(req)
		require.NoError(t, err)
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	grants := func() []any {
		return e.AdminCall("GET", "/admin/integrated-accounts/"+acct+"/mcp/"+id+"/grants", nil, http.StatusOK)["result"].([]any)
	}
	refused := []struct {
		name string
		hdr  map[string]string
	}{
		{"another site's Origin", map[string]string{"Origin": "https://evil.example"}},
		{"Origin null", map[string]string{"Origin": "null"}},
		{"another site's Origin, this server's Referer", map[string]string{"Origin": "https://evil.example", "Referer": e.Public + "/oauth/zoho/callback"}},
		{"no Origin, another site's Referer", map[string]string{"Referer": "https://evil.example/page"}},
		{"no Origin, a Referer on another port", map[string]string{"Referer": "http://127.0.0.1:1/oauth/zoho/callback"}},
		{"neither Origin nor Referer", nil},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			res := post(tt.hdr)
			assert.Equal(t, http.StatusForbidden, res.StatusCode)
			assert.Empty(t, res.Header.Get("Location"), "no code and no redirect")
			assert.Empty(t, grants(), "nothing was granted")
		})
	}
	t.Run("from this server's page, by Referer alone", func(t *testing.T) {
		res := post(map[string]string{"Referer": e.Public + "/oauth/zoho/callback?state=x"})
		require.Equal(t, http.StatusFound, res.StatusCode, "the refused posts left the form unused")
		loc, err := url.Parse(res.Header.Get("Location"))
		require.NoError(t, err)
		assert.NotEmpty(t, loc.Query().Get("code"))
		assert.Len(t, grants(), 1)
	})
}

// TestInvitedUsersCannotApprove: a user the org invited who has not
// accepted the invitation (Zoho's confirm: false) is listed as an active
// user, but the org has not yet vouched for the Zoho account behind it,
// so they cannot approve a client: the sign-in ends on a page that says
// so, and nothing is granted.
func TestInvitedUsersCannotApprove(t *testing.T) {
	e := newEnv(t, nil)
	acct := e.ConnectAccount("us")
	us := e.Sandboxes["us"]
	var invited string
	for _, id := range us.UserIDs("NotConfirmedUsers") {
		if u, _ := us.User(id); u.Status == "active" {
			invited = id
			break
		}
	}
	require.NotEmpty(t, invited, "the sandbox has an active user who has not accepted the invitation")
	require.NoError(t, us.SetConsentUser(invited))
	t.Cleanup(func() { require.NoError(t, us.SetConsentUser(us.PrimaryUserID())) })

	id, mcpURL := e.MintURL(acct, map[string]any{"auth": "oauth"})
	f := newFlow(t, e, strings.Replace(mcpURL, e.URL, e.Public, 1))
	_, b, err := f.authorize(f.params())
	require.Error(t, err, "the flow ends on a page")
	assert.Equal(t, http.StatusForbidden, b.status)
	assert.Contains(t, b.page, "has not accepted")
	assert.Empty(t, b.consent, "no consent form was shown")
	grants := e.AdminCall("GET", "/admin/integrated-accounts/"+acct+"/mcp/"+id+"/grants", nil, http.StatusOK)["result"].([]any)
	assert.Empty(t, grants)
}

// longURIs returns n distinct https redirect URIs of size bytes each.
func longURIs(n, size int) []string {
	var out []string
	for i := range n {
		u := fmt.Sprintf("https://app.example/%d/", i)
		out = append(out, u+strings.Repeat("a", size-len(u)))
	}
	return out
}

// TestIdleClientsAreSwept: a registered client that holds no grant is
// deleted by the sweeper once it is a day old: one never used, and one
// whose last grant ended. A client with a live grant stays, and one
// deleted gets invalid_client, so it registers again.
func TestIdleClientsAreSwept(t *testing.T) {
	e := newEnv(t, nil)
	acct := e.ConnectAccount("us")
	id, mcpURL := e.MintURL(acct, map[string]any{"auth": "oauth"})
	resource := strings.Replace(mcpURL, e.URL, e.Public, 1)
	unused := newFlow(t, e, resource)
	ended := newFlow(t, e, resource)
	_, tok := ended.exchange(ended.code())
	require.NotEmpty(t, tok["refresh_token"])
	g := e.AdminCall("GET", "/admin/integrated-accounts/"+acct+"/mcp/"+id+"/grants", nil, http.StatusOK)["result"].([]any)
	require.Len(t, g, 1)
	e.AdminCall("DELETE", "/admin/integrated-accounts/"+acct+"/mcp/"+id+"/grants/"+g[0].(map[string]any)["id"].(string), nil, http.StatusNoContent)
	live := newFlow(t, e, resource)
	_, liveTok := live.exchange(live.code())
	require.NotEmpty(t, liveTok["refresh_token"])

	known := func(f *flow) bool {
		st, m := f.refresh("bmcp_rt_not-a-token")
		require.Contains(t, []int{http.StatusBadRequest, http.StatusUnauthorized}, st, "%v", m)
		return m["error"] != "invalid_client"
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.App.RunSweeper(ctx, 10*time.Millisecond) }()
	t.Cleanup(func() { cancel(); <-done })

	e.Clock.Advance(23 * time.Hour)
	n, err := e.Svc.SweepOAuthClients(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.True(t, known(unused) && known(ended), "under a day old, both stay")

	e.Clock.Advance(time.Hour + time.Second)
	require.Eventually(t, func() bool { return !known(unused) && !known(ended) }, 20*time.Second, 10*time.Millisecond,
		"a day old and holding no grant, both are deleted")
	assert.True(t, known(live), "a client with a live grant stays")
	st, m := live.refresh(liveTok["refresh_token"].(string))
	assert.Equal(t, http.StatusOK, st, "and works: %v", m)
}
