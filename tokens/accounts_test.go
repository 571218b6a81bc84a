package tokens_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// zohoEnv is a testEnv whose "us" datacenter is the sandbox fake Zoho, with
// two more datacenters: "down" (nothing listens) and "broken" (every
// answer is a 503).
type zohoEnv struct {
	*apptest.Env
	zoho *sandbox.Sandbox
}

func newZohoEnv(t *testing.T, opts ...envOption) *zohoEnv {
	t.Helper()
	clock := newTestClock()
	zoho := sandbox.New(sandbox.Options{Now: clock.Now, Users: 5})
	zs := httptest.NewServer(zoho)
	t.Cleanup(zs.Close)
	zoho.SetBaseURL(zs.URL)

	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
	}))
	t.Cleanup(broken.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	down := "http://" + ln.Addr().String()
	ln.Close()

	dcs := mustDatacenters(t, fmt.Sprintf(`{"us":{"accounts_url":%q,"api_url":%q},"down":{"accounts_url":%q,"api_url":%q},"broken":{"accounts_url":%q,"api_url":%q}}`,
		zs.URL, zs.URL, down, down, broken.URL, broken.URL))
	opts = append([]envOption{func(o *app.Config) {
		o.Datacenters = dcs
		o.HTTPClient = zs.Client()
	}}, opts...)
	e := newTestEnvWithClock(t, clock, opts...)
	return &zohoEnv{Env: e, zoho: zoho}
}

func (z *zohoEnv) createAccount(name string) map[string]any {
	z.T.Helper()
	r := z.Request("POST", "/admin/integrated-accounts", map[string]any{
		"name": name, "datacenter": "us", "refresh_token": z.zoho.IssueRefreshToken(),
		"client_id": z.zoho.ClientID(), "client_secret": z.zoho.ClientSecret(),
	})
	require.Equal(z.T, http.StatusCreated, r.Status, "body: %s", r.Body)
	return r.JSON(z.T)
}

func TestAccountCreate(t *testing.T) {
	t.Parallel()
	z := newZohoEnv(t)
	ctx := context.Background()
	rt := z.zoho.IssueRefreshToken()
	before := z.zoho.RefreshCount()

	r := z.Request("POST", "/admin/integrated-accounts", map[string]any{
		"name": "Zylker", "datacenter": "US", "refresh_token": rt,
		"client_id": z.zoho.ClientID(), "client_secret": z.zoho.ClientSecret(),
	})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	m := r.JSON(t)
	assert.Equal(t, "Zylker", m["name"])
	assert.Equal(t, "us", m["datacenter"])
	assert.Equal(t, "active", m["status"])
	assert.Equal(t, z.zoho.BaseURL(), m["api_domain"])
	org := m["org"].(map[string]any)
	assert.NotEmpty(t, org["id"])
	assert.Equal(t, sandbox.DefaultOrgName, org["name"])
	assert.NotEmpty(t, m["created_at"])
	assert.NotContains(t, string(r.Body), rt)
	assert.NotContains(t, string(r.Body), z.zoho.ClientSecret())
	assert.Equal(t, 1, z.zoho.RefreshCount()-before, "one refresh proves the credentials")

	a, err := z.DB.Account(ctx, m["id"].(string))
	require.NoError(t, err)
	assert.Equal(t, rt, a.RefreshToken)
	assert.Equal(t, z.zoho.ClientID(), a.ClientID)
	assert.NotEmpty(t, a.AccessToken, "the fresh access token is kept for the first MCP call")
	assert.True(t, a.AccessExpiry.After(z.Clock.Now()))

	// Its MCP URLs resolve to the org.
	_, tok := z.Mint(a.ID, nil)
	res, err := z.Svc.Resolve(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, org["id"], res.Account.OrgID)
	assert.Equal(t, sandbox.DefaultOrgName, res.Account.OrgName)
	assert.Equal(t, "active", res.Account.Status)

	// GET shows the same, never a secret.
	g := z.Request("GET", "/admin/integrated-accounts/"+a.ID, nil)
	require.Equal(t, http.StatusOK, g.Status)
	delete(m, "updated_at")
	gm := g.JSON(t)
	delete(gm, "updated_at")
	assert.Equal(t, m, gm)
	l := z.Request("GET", "/admin/integrated-accounts", nil)
	for _, secret := range []string{rt, a.AccessToken, z.zoho.ClientSecret()} {
		assert.NotContains(t, string(g.Body), secret)
		assert.NotContains(t, string(l.Body), secret)
	}
}

func TestAccountCreateDefaultClient(t *testing.T) {
	t.Parallel()
	var zoho *sandbox.Sandbox
	z := newZohoEnv(t, func(o *app.Config) {
		o.ZohoClientID, o.ZohoClientSecret = sandbox.DefaultClientID, sandbox.DefaultClientSecret
	})
	zoho = z.zoho
	r := z.Request("POST", "/admin/integrated-accounts", map[string]any{"name": "x", "datacenter": "us", "refresh_token": zoho.IssueRefreshToken()})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	a, err := z.DB.Account(context.Background(), r.JSON(t)["id"].(string))
	require.NoError(t, err)
	assert.Empty(t, a.ClientID, "the server's client is not copied into the account")
	assert.Empty(t, a.ClientSecret)
}

func TestAccountCreateErrors(t *testing.T) {
	t.Parallel()
	z := newZohoEnv(t)
	revoked := z.zoho.IssueRefreshToken()
	require.True(t, z.zoho.RevokeRefreshToken(revoked))
	good := func(over map[string]any) map[string]any {
		m := map[string]any{"name": "x", "datacenter": "us", "refresh_token": z.zoho.IssueRefreshToken(),
			"client_id": z.zoho.ClientID(), "client_secret": z.zoho.ClientSecret()}
		for k, v := range over {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
		msg    string
	}{
		{"name missing", good(map[string]any{"name": nil}), 400, tokens.CodeInvalidArgument, "name is required"},
		{"datacenter missing", good(map[string]any{"datacenter": nil}), 400, tokens.CodeInvalidArgument, "datacenter is required; valid datacenters: "},
		{"unknown datacenter", good(map[string]any{"datacenter": "mars"}), 400, tokens.CodeInvalidArgument, `unknown datacenter "mars"; valid datacenters: au, broken, ca, cn, down, eu, in, jp, sa, uk, us`},
		{"refresh token missing", good(map[string]any{"refresh_token": nil}), 400, tokens.CodeInvalidArgument, "refresh_token is required"},
		{"client id without secret", good(map[string]any{"client_secret": nil}), 400, tokens.CodeInvalidArgument, "client_id and client_secret go together"},
		{"no client anywhere", good(map[string]any{"client_id": nil, "client_secret": nil}), 400, tokens.CodeInvalidArgument, "BIGIN_MCP_ZOHO_CLIENT_ID"},
		{"revoked refresh token", good(map[string]any{"refresh_token": revoked}), 400, tokens.CodeInvalidArgument, "Zoho refused the refresh token (invalid_code"},
		{"unknown refresh token", good(map[string]any{"refresh_token": "1000.nope.nope"}), 400, tokens.CodeInvalidArgument, "Zoho refused the refresh token ("},
		{"wrong client secret", good(map[string]any{"client_secret": "wrong"}), 400, tokens.CodeInvalidArgument, "Zoho refused the refresh token ("},
		{"Zoho unreachable", good(map[string]any{"datacenter": "down"}), 502, tokens.CodeUpstreamError, "try again later"},
		{"Zoho 5xx", good(map[string]any{"datacenter": "broken"}), 502, tokens.CodeUpstreamError, "try again later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := z.Request("POST", "/admin/integrated-accounts", tt.body)
			assert.Equal(t, tt.status, r.Status, "body: %s", r.Body)
			code, msg := r.ErrCode(t)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, msg, tt.msg)
			for _, k := range []string{"refresh_token", "client_secret"} {
				if s, ok := tt.body[k].(string); ok && len(s) > 6 {
					assert.NotContains(t, string(r.Body), s, "the answer echoes %s", k)
				}
			}
		})
	}
	list, _, err := z.DB.Accounts(context.Background(), "", 100)
	require.NoError(t, err)
	assert.Empty(t, list, "no failed create stored anything")
}

func TestAccountPatchCredentials(t *testing.T) {
	t.Parallel()
	z := newZohoEnv(t)
	ctx := context.Background()
	m := z.createAccount("acme")
	id := m["id"].(string)
	_, tok := z.Mint(id, nil)
	require.NoError(t, z.Svc.MarkNeedsReauth(ctx, id))
	before, err := z.Svc.Resolve(ctx, tok)
	require.NoError(t, err)
	require.Equal(t, "needs_reauth", before.Account.Status)
	old, err := z.DB.Account(ctx, id)
	require.NoError(t, err)

	// Bad new credentials: 400, nothing changes.
	revoked := z.zoho.IssueRefreshToken()
	z.zoho.RevokeRefreshToken(revoked)
	r := z.Request("PATCH", "/admin/integrated-accounts/"+id, map[string]any{"refresh_token": revoked})
	require.Equal(t, http.StatusBadRequest, r.Status, "body: %s", r.Body)
	_, msg := r.ErrCode(t)
	assert.Contains(t, msg, "Zoho refused the refresh token")
	same, err := z.DB.Account(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, old.RefreshToken, same.RefreshToken)
	r = z.Request("PATCH", "/admin/integrated-accounts/"+id, map[string]any{"client_id": "1000.OTHER"})
	assert.Equal(t, http.StatusBadRequest, r.Status, "a new client_id needs its secret: %s", r.Body)

	// Good ones: verified, stored, status reset, new credentials version.
	rt := z.zoho.IssueRefreshToken()
	r = z.Request("PATCH", "/admin/integrated-accounts/"+id, map[string]any{"refresh_token": rt, "name": "acme 2"})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	pm := r.JSON(t)
	assert.Equal(t, "active", pm["status"])
	assert.Equal(t, "acme 2", pm["name"])
	assert.NotContains(t, string(r.Body), rt)
	a, err := z.DB.Account(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, rt, a.RefreshToken)
	assert.NotEqual(t, old.AccessToken, a.AccessToken)
	after, err := z.Svc.Resolve(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, "active", after.Account.Status)
	assert.NotEqual(t, before.Account.CredentialsVersion, after.Account.CredentialsVersion)
	assert.NotEqual(t, before.Version, after.Version)
	tokens.AssertClosed(t, before.Done(), "credentials changed")

	// Credentials of another org are refused.
	other := z.SeedAccount("other org") // org 111, not the sandbox's
	r = z.Request("PATCH", "/admin/integrated-accounts/"+other.ID, map[string]any{"refresh_token": z.zoho.IssueRefreshToken(), "client_id": z.zoho.ClientID(), "client_secret": z.zoho.ClientSecret()})
	assert.Equal(t, http.StatusBadRequest, r.Status, "body: %s", r.Body)
	_, msg = r.ErrCode(t)
	assert.Contains(t, msg, "not this account's org 111")

	// Audit: no secret anywhere.
	entries, _, err := z.DB.Audit(ctx, "", 100)
	require.NoError(t, err)
	for _, e := range entries {
		for _, s := range []string{rt, revoked, old.RefreshToken, z.zoho.ClientSecret()} {
			assert.NotContains(t, e.Detail, s)
		}
	}
}

func TestNoSecretsInDatabaseFile(t *testing.T) {
	t.Parallel()
	z := newZohoEnv(t)
	ctx := context.Background()
	m := z.createAccount("acme")
	id := m["id"].(string)
	a, err := z.DB.Account(ctx, id)
	require.NoError(t, err)
	secrets := []string{a.RefreshToken, a.AccessToken, a.ClientSecret, z.Admin}
	for range 3 {
		_, tok := z.Mint(id, nil)
		secrets = append(secrets, tok)
	}
	r := z.Request("POST", "/admin/api-tokens", map[string]any{"name": "ci"})
	require.Equal(t, http.StatusCreated, r.Status)
	secrets = append(secrets, r.JSON(t)["token"].(string))
	seeded := z.SeedAccount("seeded")
	secrets = append(secrets, seeded.RefreshToken, seeded.AccessToken, seeded.ClientSecret)
	path := z.Path
	z.Close()
	assertNotInFile(t, path, id, secrets...)
}

func TestAccountCreateZohoFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		setup  func(z *zohoEnv) (refreshToken string)
		status int
		code   string
		msg    string
	}{
		{"org read 5xx", func(z *zohoEnv) string { z.zoho.FailNext(3, sandbox.InternalError); return z.zoho.IssueRefreshToken() },
			502, tokens.CodeUpstreamError, "HTTP 500"},
		{"org read behind a bad gateway", func(z *zohoEnv) string { z.zoho.FailNext(3, sandbox.BadGateway); return z.zoho.IssueRefreshToken() },
			502, tokens.CodeUpstreamError, "try again later"},
		{"org read garbage", func(z *zohoEnv) string { z.zoho.FailNext(3, sandbox.Garbage); return z.zoho.IssueRefreshToken() },
			502, tokens.CodeUpstreamError, "try again later"},
		{"org read rate limited", func(z *zohoEnv) string { z.zoho.FailNext(1, sandbox.RateLimited); return z.zoho.IssueRefreshToken() },
			429, tokens.CodeRateLimited, "try again in 30s"},
		{"org read error in a 200", func(z *zohoEnv) string { z.zoho.FailNext(1, sandbox.ErrorIn200); return z.zoho.IssueRefreshToken() },
			400, tokens.CodeInvalidArgument, "Zoho refused to read the organization with these credentials (HTTP 200 INVALID_DATA"},
		{"refresh token without the org scope", func(z *zohoEnv) string { return z.zoho.IssueRefreshToken("ZohoBigin.users.ALL") },
			400, tokens.CodeInvalidArgument, "check the refresh token's scopes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := newZohoEnv(t)
			rt := tt.setup(z)
			r := z.Request("POST", "/admin/integrated-accounts", map[string]any{"name": "x", "datacenter": "us", "refresh_token": rt,
				"client_id": z.zoho.ClientID(), "client_secret": z.zoho.ClientSecret()})
			assert.Equal(t, tt.status, r.Status, "body: %s", r.Body)
			code, msg := r.ErrCode(t)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, msg, tt.msg)
			assert.NotContains(t, string(r.Body), rt)
			list, _, err := z.DB.Accounts(context.Background(), "", 100)
			require.NoError(t, err)
			assert.Empty(t, list)
		})
	}
	t.Run("refresh throttled", func(t *testing.T) {
		clock := newTestClock()
		zoho := sandbox.New(sandbox.Options{Now: clock.Now, Users: 5, RefreshLimit: 1})
		zs := httptest.NewServer(zoho)
		defer zs.Close()
		zoho.SetBaseURL(zs.URL)
		dcs := mustDatacenters(t, fmt.Sprintf(`{"us":{"accounts_url":%q,"api_url":%q}}`, zs.URL, zs.URL))
		e := newTestEnvWithClock(t, clock, func(o *app.Config) { o.Datacenters = dcs })
		rt := zoho.IssueRefreshToken()
		body := map[string]any{"name": "x", "datacenter": "us", "refresh_token": rt, "client_id": zoho.ClientID(), "client_secret": zoho.ClientSecret()}
		require.Equal(t, http.StatusCreated, e.Request("POST", "/admin/integrated-accounts", body).Status)
		r := e.Request("POST", "/admin/integrated-accounts", body)
		assert.Equal(t, http.StatusTooManyRequests, r.Status, "body: %s", r.Body)
		code, _ := r.ErrCode(t)
		assert.Equal(t, tokens.CodeRateLimited, code)
	})
}
