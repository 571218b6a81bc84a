package connect_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/internal/connect"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// connectEnv is a tokens.Service with two sandbox datacenters (us, eu) and the
// server's default OAuth client, as connect links need.
type connectEnv struct {
	*apptest.Env
	zoho     map[string]*sandbox.Sandbox
	attacker *httptest.Server
	hits     *atomic.Int64 // requests the attacker's "accounts server" got
	browser  *http.Client  // follows no redirect, like a test of each hop
}

func newConnectEnv(t *testing.T) *connectEnv {
	t.Helper()
	clock := newTestClock()
	z := &connectEnv{zoho: map[string]*sandbox.Sandbox{}, hits: &atomic.Int64{}}
	spec := map[string]string{}
	for _, k := range []string{"us", "eu"} {
		sb := sandbox.New(sandbox.Options{Location: k, Now: clock.Now, Users: 5, OrgName: "Org " + k})
		ts := httptest.NewServer(sb)
		t.Cleanup(ts.Close)
		sb.SetBaseURL(ts.URL)
		z.zoho[k] = sb
		spec[k] = ts.URL
	}
	z.attacker = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		z.hits.Add(1)
		w.Write([]byte(`{"access_token":"x","refresh_token":"y","api_domain":"https://evil.example","expires_in":3600}`))
	}))
	t.Cleanup(z.attacker.Close)
	dcs := mustDatacenters(t, fmt.Sprintf(`{"us":{"accounts_url":%q,"api_url":%q},"eu":{"accounts_url":%q,"api_url":%q}}`,
		spec["us"], spec["us"], spec["eu"], spec["eu"]))
	z.Env = newTestEnvWithClock(t, clock, func(o *app.Config) {
		o.Datacenters = dcs
		o.ZohoClientID = sandbox.DefaultClientID
		o.ZohoClientSecret = sandbox.DefaultClientSecret
	})
	z.browser = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return z
}

func (z *connectEnv) mintLink(body map[string]any) string {
	z.T.Helper()
	r := z.Request("POST", "/admin/connect-links", body)
	require.Equal(z.T, http.StatusCreated, r.Status, "body: %s", r.Body)
	u := r.JSON(z.T)["url"].(string)
	require.True(z.T, strings.HasPrefix(u, "https://mcp.example.com/connect/"+tokens.ConnectLinkPrefix), u)
	return strings.TrimPrefix(u, "https://mcp.example.com")
}

// get fetches a path on our server (or an absolute URL) without following
// redirects.
func (z *connectEnv) get(target string) (int, http.Header, string) {
	z.T.Helper()
	if strings.HasPrefix(target, "/") {
		target = z.URL + target
	}
	res, err := z.browser.Get(target)
	require.NoError(z.T, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// consent follows the link to Zoho's consent page (the sandbox approves at
// once) and returns the query Zoho sends back to the callback.
func (z *connectEnv) consent(linkPath, dc string) url.Values {
	z.T.Helper()
	if dc != "" {
		linkPath += "?dc=" + dc
	}
	status, h, body := z.get(linkPath)
	require.Equal(z.T, http.StatusFound, status, body)
	auth, err := url.Parse(h.Get("Location"))
	require.NoError(z.T, err)
	q := auth.Query()
	assert.Equal(z.T, "offline", q.Get("access_type"))
	assert.Equal(z.T, "consent", q.Get("prompt"))
	assert.Equal(z.T, strings.Join(bigin.Scopes(), ","), q.Get("scope"))
	assert.Equal(z.T, "https://mcp.example.com"+connect.CallbackPath, q.Get("redirect_uri"))
	status, h, body = z.get(auth.String())
	require.Equal(z.T, http.StatusFound, status, body)
	back, err := url.Parse(h.Get("Location"))
	require.NoError(z.T, err)
	require.Equal(z.T, connect.CallbackPath, back.Path)
	return back.Query()
}

func (z *connectEnv) callback(q url.Values) (int, string) {
	z.T.Helper()
	status, h, body := z.get(connect.CallbackPath + "?" + q.Encode())
	assert.Contains(z.T, h.Get("Content-Type"), "text/html")
	assert.Equal(z.T, "DENY", h.Get("X-Frame-Options"))
	assert.NotEmpty(z.T, h.Get("Content-Security-Policy"))
	for _, secret := range []string{q.Get("code"), q.Get("state"), sandbox.DefaultClientSecret} {
		if secret != "" {
			assert.NotContains(z.T, body, secret, "no code, state or secret on the page")
		}
	}
	return status, body
}

func (z *connectEnv) accountCount() int {
	z.T.Helper()
	r := z.Request("GET", "/admin/integrated-accounts?limit=100", nil)
	require.Equal(z.T, http.StatusOK, r.Status)
	return len(r.JSON(z.T)["result"].([]any))
}

func TestConnectFlowInTwoDatacenters(t *testing.T) {
	t.Parallel()
	z := newConnectEnv(t)
	for _, tt := range []struct{ dc, how string }{{"us", "picked"}, {"eu", "fixed"}} {
		t.Run(tt.dc, func(t *testing.T) {
			body := map[string]any{"name": "Customer " + tt.dc}
			pick := tt.dc
			if tt.how == "fixed" {
				body["datacenter"] = tt.dc
				pick = ""
			} else {
				status, _, page := z.get(z.mintLink(map[string]any{}))
				require.Equal(t, http.StatusOK, status)
				assert.Contains(t, page, `<select id="dc" name="dc" required>`, "no datacenter fixed: the customer picks")
			}
			link := z.mintLink(body)
			q := z.consent(link, pick)
			assert.Equal(t, tt.dc, q.Get("location"))
			status, page := z.callback(q)
			require.Equal(t, http.StatusOK, status, page)
			assert.Contains(t, page, "Org "+tt.dc)

			// The account exists, named by the link, and its calls go to
			// its own datacenter.
			var acct map[string]any
			for _, a := range z.Request("GET", "/admin/integrated-accounts?limit=100", nil).JSON(t)["result"].([]any) {
				if a.(map[string]any)["name"] == "Customer "+tt.dc {
					acct = a.(map[string]any)
				}
			}
			require.NotNil(t, acct)
			assert.Contains(t, page, acct["id"].(string))
			assert.Equal(t, tt.dc, acct["datacenter"])
			assert.Equal(t, z.zoho[tt.dc].BaseURL(), acct["api_domain"])
			assert.Equal(t, z.zoho[tt.dc].OrgID(), acct["org"].(map[string]any)["id"])

			a, err := z.DB.Account(context.Background(), acct["id"].(string))
			require.NoError(t, err)
			c, err := bigin.NewClient(bigin.Options{Datacenters: z.Config.Datacenters, Datacenter: a.Datacenter, APIDomain: a.APIDomain,
				Credentials: bigin.Credentials{ClientID: sandbox.DefaultClientID, ClientSecret: sandbox.DefaultClientSecret, RefreshToken: a.RefreshToken}})
			require.NoError(t, err)
			other := map[string]string{"us": "eu", "eu": "us"}[tt.dc]
			before := z.zoho[other].RequestCount()
			_, err = c.Refresh(context.Background())
			require.NoError(t, err, "the stored refresh token works at its datacenter")
			raw, err := c.Org(context.Background())
			require.NoError(t, err)
			assert.Contains(t, string(raw), z.zoho[tt.dc].OrgID())
			assert.Equal(t, before, z.zoho[other].RequestCount(), "nothing reached the other datacenter")

			// The link is single use.
			status, _, page = z.get(link)
			assert.Equal(t, http.StatusGone, status)
			assert.Contains(t, page, "already used")
		})
	}
}

func TestConnectFailuresCreateNothing(t *testing.T) {
	t.Parallel()
	z := newConnectEnv(t)
	tests := []struct {
		name   string
		run    func(t *testing.T) (int, string)
		status int
		text   string
	}{
		{"state replay", func(t *testing.T) (int, string) {
			q := z.consent(z.mintLink(map[string]any{}), "us")
			status, page := z.callback(q)
			require.Equal(t, http.StatusOK, status, page)
			return z.callback(q)
		}, http.StatusGone, "already used"},
		{"expired link", func(t *testing.T) (int, string) {
			link := z.mintLink(map[string]any{"expires_in_seconds": 60})
			z.Clock.Advance(61 * time.Second)
			status, _, page := z.get(link + "?dc=us")
			return status, page
		}, http.StatusGone, "expired"},
		{"link expires while at Zoho", func(t *testing.T) (int, string) {
			q := z.consent(z.mintLink(map[string]any{"expires_in_seconds": 60}), "us")
			z.Clock.Advance(61 * time.Second)
			return z.callback(q)
		}, http.StatusBadRequest, "not valid"},
		{"forged state", func(t *testing.T) (int, string) {
			q := z.consent(z.mintLink(map[string]any{}), "us")
			st := []byte(q.Get("state"))
			st[3] ^= 1
			q.Set("state", string(st))
			return z.callback(q)
		}, http.StatusBadRequest, "not valid"},
		{"state from another server key", func(t *testing.T) (int, string) {
			q := z.consent(z.mintLink(map[string]any{}), "us")
			ours := connect.New(connect.Options{StateKey: app.DeriveKey(z.Key, "bigin-mcp oauth state v1"), Clock: z.Clock})
			other := connect.New(connect.Options{StateKey: []byte(strings.Repeat("k", 32)), Clock: z.Clock})
			linkID, err := ours.CheckState(q.Get("state"))
			require.NoError(t, err)
			q.Set("state", other.SignState(linkID, z.Clock.Now().Add(time.Minute)))
			return z.callback(q)
		}, http.StatusBadRequest, "not valid"},
		{"unknown link", func(t *testing.T) (int, string) {
			status, _, page := z.get("/connect/" + tokens.ConnectLinkPrefix + strings.Repeat("A", 43))
			return status, page
		}, http.StatusNotFound, "not valid"},
		{"unknown accounts-server", func(t *testing.T) (int, string) {
			q := z.consent(z.mintLink(map[string]any{}), "us")
			q.Set("accounts-server", z.attacker.URL)
			return z.callback(q)
		}, http.StatusBadRequest, "does not know"},
		{"location disagrees with accounts-server", func(t *testing.T) (int, string) {
			q := z.consent(z.mintLink(map[string]any{}), "us")
			q.Set("location", "eu")
			return z.callback(q)
		}, http.StatusBadRequest, "inconsistent"},
		{"access denied", func(t *testing.T) (int, string) {
			z.zoho["us"].SetDenyConsent(true)
			defer z.zoho["us"].SetDenyConsent(false)
			q := z.consent(z.mintLink(map[string]any{}), "us")
			require.Equal(t, "access_denied", q.Get("error"))
			return z.callback(q)
		}, http.StatusBadRequest, "declined"},
		{"failed code exchange", func(t *testing.T) (int, string) {
			q := z.consent(z.mintLink(map[string]any{}), "us")
			q.Set("code", "1000.notacode.notacode")
			return z.callback(q)
		}, http.StatusBadRequest, "refused"},
		{"no code", func(t *testing.T) (int, string) {
			q := z.consent(z.mintLink(map[string]any{}), "us")
			q.Del("code")
			return z.callback(q)
		}, http.StatusBadRequest, "Not connected"},
		{"unknown datacenter picked", func(t *testing.T) (int, string) {
			status, _, page := z.get(z.mintLink(map[string]any{}) + "?dc=mars")
			return status, page
		}, http.StatusBadRequest, "pick one of the regions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := z.accountCount()
			status, page := tt.run(t)
			assert.Equal(t, tt.status, status, page)
			assert.Contains(t, page, tt.text)
			assert.Contains(t, page, "<html", "a readable page, not a stack trace")
			want := before
			if tt.name == "state replay" {
				want = before + 1 // the first, legitimate use
			}
			assert.Equal(t, want, z.accountCount(), "no account created")
		})
	}
	assert.Zero(t, z.hits.Load(), "the attacker's accounts server never received the code or the secret")
}

func TestDeniedConsentKeepsTheLinkUsable(t *testing.T) {
	t.Parallel()
	z := newConnectEnv(t)
	link := z.mintLink(map[string]any{})
	z.zoho["us"].SetDenyConsent(true)
	status, _ := z.callback(z.consent(link, "us"))
	require.Equal(t, http.StatusBadRequest, status)
	z.zoho["us"].SetDenyConsent(false)
	status, page := z.callback(z.consent(link, "us"))
	assert.Equal(t, http.StatusOK, status, page)
}

func TestCreateConnectLinkValidation(t *testing.T) {
	t.Parallel()
	z := newConnectEnv(t)
	for _, tt := range []struct {
		body any
		want string
	}{
		{map[string]any{"datacenter": "mars"}, "valid datacenters: au, ca, cn, eu"},
		{map[string]any{"expires_in_seconds": 10}, "expires_in_seconds must be between 60 and 604800"},
		{map[string]any{"expires_in_seconds": 700000}, "expires_in_seconds"},
		{map[string]any{"expires_in_seconds": -5}, "expires_in_seconds"},
		{map[string]any{"bogus": 1}, "bogus"},
	} {
		r := z.Request("POST", "/admin/connect-links", tt.body)
		assert.Equal(t, http.StatusBadRequest, r.Status, string(r.Body))
		assert.Contains(t, string(r.Body), tt.want)
	}
	r := z.RequestAs("", "application/json", "POST", "/admin/connect-links", map[string]any{})
	assert.Equal(t, http.StatusUnauthorized, r.Status)

	r = z.Request("POST", "/admin/connect-links", map[string]any{"expires_in_seconds": 120, "datacenter": "eu"})
	require.Equal(t, http.StatusCreated, r.Status)
	out := r.JSON(t)
	exp, err := time.Parse(time.RFC3339, out["expires_at"].(string))
	require.NoError(t, err)
	assert.Equal(t, z.Clock.Now().Add(120*time.Second).Unix(), exp.Unix())
	assert.Equal(t, "eu", out["datacenter"])

	// Without the server's OAuth client, links cannot work: say so.
	plain := newTestEnvWithClock(t, newTestClock(), func(c *app.Config) { c.ZohoClientID, c.ZohoClientSecret = "", "" })
	r = plain.Request("POST", "/admin/connect-links", map[string]any{})
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Contains(t, string(r.Body), "BIGIN_MCP_ZOHO_CLIENT_ID")
}
