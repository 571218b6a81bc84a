package bigin_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

// TestRefreshRefused: a revoked refresh token or bad client credentials
// wrap ErrRefreshRefused, and no secret is in the message.
func TestRefreshRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mod  func(f *fixture, o *bigin.Options)
		code string
	}{
		{"revoked refresh token", func(f *fixture, o *bigin.Options) { f.sb.RevokeRefreshToken(o.Credentials.RefreshToken) }, "invalid_code"},
		{"unknown refresh token", func(f *fixture, o *bigin.Options) { o.Credentials.RefreshToken = "1000.nothere.atall" }, "invalid_code"},
		{"wrong client secret", func(f *fixture, o *bigin.Options) { o.Credentials.ClientSecret = "not-the-secret" }, "invalid_client"},
		{"wrong client id", func(f *fixture, o *bigin.Options) { o.Credentials.ClientID = "1000.OTHER" }, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, sandbox.Options{Users: 20})
			var log tokenLog
			opts := f.options(t, &log)
			tt.mod(f, &opts)
			c, err := bigin.NewClient(opts)
			require.NoError(t, err)

			_, err = c.Refresh(t.Context())
			require.ErrorIs(t, err, bigin.ErrRefreshRefused)
			assert.Equal(t, fmt.Sprintf("zoho refused the refresh token (%s)", tt.code), err.Error())
			var ae *bigin.APIError
			assert.False(t, errors.As(err, &ae))

			_, err = c.ListUsers(t.Context(), bigin.ListUsersParams{})
			require.ErrorIs(t, err, bigin.ErrRefreshRefused, "calls report it too")
			for _, secret := range []string{opts.Credentials.RefreshToken, opts.Credentials.ClientSecret} {
				assert.NotContains(t, err.Error(), secret)
			}
			assert.Zero(t, f.sb.APIRequestCount(), "no API call without a token")
			assert.Empty(t, log.all())
		})
	}

	t.Run("revoked while in use", func(t *testing.T) {
		f := newFixture(t, sandbox.Options{Users: 20})
		opts := f.options(t, nil)
		c, err := bigin.NewClient(opts)
		require.NoError(t, err)
		_, err = c.Org(t.Context())
		require.NoError(t, err)
		require.True(t, f.sb.RevokeRefreshToken(opts.Credentials.RefreshToken))
		_, err = c.Org(t.Context())
		require.ErrorIs(t, err, bigin.ErrRefreshRefused, "the 401 leads to a refused refresh")
	})
}

// TestTokenThrottle: Zoho Accounts' "Access Denied" is a rate limit, not a
// refusal.
func TestTokenThrottle(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{Users: 20, RefreshLimit: 10})
	c := f.client(t, nil)
	for range 10 {
		_, err := c.Refresh(t.Context())
		require.NoError(t, err)
	}
	_, err := c.Refresh(t.Context())
	require.Error(t, err)
	assert.False(t, errors.Is(err, bigin.ErrRefreshRefused), "the account does not need reauthorising")
	var ae *bigin.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, bigin.CodeTokenRateLimited, ae.Code)
	assert.Equal(t, http.StatusBadRequest, ae.Status)
	assert.True(t, ae.RateLimited())
	assert.Contains(t, ae.Message, "too many requests")
	assert.Equal(t, 11, f.sb.RefreshCount())
}

// TestHostileAPIDomain: a token whose api_domain is not configured is
// refused and the host named never hears from the client.
func TestHostileAPIDomain(t *testing.T) {
	t.Parallel()
	var hostile counter
	evil := httptest.NewServer(&hostile)
	t.Cleanup(evil.Close)

	f := newFixture(t, sandbox.Options{Users: 20})
	f.sb.SetAPIDomain(evil.URL)
	var log tokenLog
	c := f.client(t, &log)

	_, err := c.Refresh(t.Context())
	require.ErrorIs(t, err, bigin.ErrUnknownAPIDomain)
	assert.Contains(t, err.Error(), evil.URL)
	for _, call := range []func() error{
		func() error { _, err := c.Org(t.Context()); return err },
		func() error { _, err := c.ListUsers(t.Context(), bigin.ListUsersParams{}); return err },
		func() error { return c.DeleteUser(t.Context(), "123") },
	} {
		require.ErrorIs(t, call(), bigin.ErrUnknownAPIDomain)
	}
	assert.Zero(t, hostile.n.Load(), "the hostile host got nothing")
	assert.Zero(t, f.sb.APIRequestCount())
	assert.Empty(t, log.all(), "the token was not handed out")
	assert.Equal(t, f.ts.URL, c.APIDomain())

	t.Run("a seeded token for that host is dropped", func(t *testing.T) {
		f.sb.SetAPIDomain("")
		c := f.client(t, nil, func(o *bigin.Options) {
			o.Token = &bigin.Token{AccessToken: "1000.seeded.token", Expiry: timeIn(t, 3600), APIDomain: evil.URL}
		})
		_, err := c.Org(t.Context())
		require.NoError(t, err)
		assert.Zero(t, hostile.n.Load())
		assert.NotEqual(t, "1000.seeded.token", f.lastRequest(t).Token)
	})
	t.Run("a stored api domain that is not configured", func(t *testing.T) {
		_, err := bigin.NewClient(f.options(t, nil, func(o *bigin.Options) { o.APIDomain = evil.URL }))
		require.ErrorIs(t, err, bigin.ErrUnknownAPIDomain)
	})
	t.Run("the same host spelled differently is accepted", func(t *testing.T) {
		f.sb.SetAPIDomain(strings.ToUpper(f.ts.URL) + "/")
		c := f.client(t, nil)
		tok, err := c.Refresh(t.Context())
		require.NoError(t, err)
		assert.Equal(t, f.ts.URL, tok.APIDomain, "the configured spelling is used")
	})
}

// TestTokenEndpointAnswers drives the refresh against a scripted token
// endpoint: every odd answer gives a typed error without the body.
func TestTokenEndpointAnswers(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-client-secret"
	const refresh = "1000.refresh.secret"
	tests := []struct {
		name   string
		status int
		ctype  string
		body   string
		check  func(t *testing.T, err error)
	}{
		{"invalid_code in 200", 200, "application/json;charset=UTF-8", `{"error":"invalid_code"}`, refusedWith("invalid_code")},
		{"invalid_client_secret", 200, "application/json", `{"error":"invalid_client_secret"}`, refusedWith("invalid_client_secret")},
		{"unauthorized_client", 200, "application/json", `{"error":"unauthorized_client"}`, refusedWith("unauthorized_client")},
		{"throttle with 200", 200, "application/json", `{"error_description":"You have made too many requests continuously. Please try again after some time.","error":"Access Denied","status":"failure"}`,
			apiErrWith(200, bigin.CodeTokenRateLimited)},
		{"other oauth error", 200, "application/json", `{"error":"invalid_redirect_uri"}`, apiErrWith(200, "invalid_redirect_uri")},
		{"HTML 503", 503, "text/html", `<html>down ` + refresh + `</html>`, apiErrWith(503, bigin.CodeInvalidResponse)},
		{"garbage 200", 200, "application/json", `{"access_token":"` + refresh, apiErrWith(200, bigin.CodeInvalidResponse)},
		{"no access token", 200, "application/json", `{"api_domain":"x","expires_in":3600}`, apiErrWith(200, bigin.CodeInvalidResponse)},
		{"non-string api_domain", 200, "application/json", `{"access_token":"1000.a.b","api_domain":42,"expires_in":3600}`,
			func(t *testing.T, err error) { require.ErrorIs(t, err, bigin.ErrUnknownAPIDomain) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var got url.Values
			var basic bool
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				require.NoError(t, r.ParseForm())
				mu.Lock()
				got, basic = r.PostForm, r.Header.Get("Authorization") != ""
				mu.Unlock()
				w.Header().Set("Content-Type", tt.ctype)
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			t.Cleanup(ts.Close)
			c, err := bigin.NewClient(bigin.Options{
				Datacenters: tableFor(t, map[string]string{"us": ts.URL}),
				Datacenter:  "us",
				Credentials: bigin.Credentials{ClientID: "1000.ID", ClientSecret: secret, RefreshToken: refresh},
			})
			require.NoError(t, err)
			var rerr error
			require.NotPanics(t, func() { _, rerr = c.Refresh(t.Context()) })
			tt.check(t, rerr)
			assert.NotContains(t, rerr.Error(), secret)
			assert.NotContains(t, rerr.Error(), refresh)
			assert.NotContains(t, rerr.Error(), "<html>")

			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, "refresh_token", got.Get("grant_type"), "parameters in the form body")
			assert.Equal(t, "1000.ID", got.Get("client_id"))
			assert.Equal(t, secret, got.Get("client_secret"))
			assert.Equal(t, refresh, got.Get("refresh_token"))
			assert.False(t, basic, "no basic auth")
		})
	}
}

func refusedWith(code string) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		require.ErrorIs(t, err, bigin.ErrRefreshRefused)
		assert.Contains(t, err.Error(), code)
	}
}

func apiErrWith(status int, code string) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var ae *bigin.APIError
		require.ErrorAs(t, err, &ae, "%v", err)
		assert.Equal(t, status, ae.Status)
		assert.Equal(t, code, ae.Code)
		assert.False(t, errors.Is(err, bigin.ErrRefreshRefused))
	}
}

// TestConnectFlow: AuthCodeURL → the sandbox's consent → Exchange → a
// working client, across two datacenters.
func TestConnectFlow(t *testing.T) {
	t.Parallel()
	us := newFixture(t, sandbox.Options{Location: "us", Users: 20})
	eu := newFixture(t, sandbox.Options{Location: "eu", Users: 20})
	dcs := tableFor(t, map[string]string{"us": us.ts.URL, "eu": eu.ts.URL})
	const redirect = "https://mcp.example.com/oauth/zoho/callback"
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	creds := bigin.Credentials{ClientID: eu.sb.ClientID(), ClientSecret: eu.sb.ClientSecret()}

	consent := func(t *testing.T) url.Values {
		t.Helper()
		u := bigin.AuthCodeURL(eu.ts.URL, creds.ClientID, redirect, "st4te")
		parsed, err := url.Parse(u)
		require.NoError(t, err)
		q := parsed.Query()
		assert.Equal(t, "/oauth/v2/auth", parsed.Path)
		assert.Equal(t, strings.Join(bigin.Scopes(), ","), q.Get("scope"), "comma-separated scopes")
		assert.Equal(t, "offline", q.Get("access_type"))
		assert.Equal(t, "consent", q.Get("prompt"))
		assert.Equal(t, "code", q.Get("response_type"))
		resp, err := noFollow.Get(u)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusFound, resp.StatusCode)
		loc, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(loc.String(), redirect+"?"))
		return loc.Query()
	}

	cb := consent(t)
	assert.Equal(t, "st4te", cb.Get("state"))
	assert.Equal(t, "eu", cb.Get("location"))
	assert.Equal(t, eu.ts.URL, cb.Get("accounts-server"))
	dc, ok := dcs.ByAccountsServer(cb.Get("accounts-server"))
	require.True(t, ok)
	assert.Equal(t, "eu", dc.Key)

	tok, rt, err := bigin.Exchange(t.Context(), dcs, cb.Get("accounts-server"), creds, cb.Get("code"), redirect, nil, nil)
	require.NoError(t, err)
	assert.NotEmpty(t, rt)
	assert.Equal(t, eu.ts.URL, tok.APIDomain)

	c, err := bigin.NewClient(bigin.Options{Datacenters: dcs, Datacenter: dc.Key, Token: &tok,
		Credentials: bigin.Credentials{ClientID: creds.ClientID, ClientSecret: creds.ClientSecret, RefreshToken: rt}})
	require.NoError(t, err)
	me, err := c.CurrentUser(t.Context())
	require.NoError(t, err)
	assert.Equal(t, eu.sb.PrimaryUserID(), idOf(t, me))
	assert.Zero(t, eu.sb.RefreshCount(), "the exchanged token was used")
	assert.Zero(t, us.sb.RequestCount(), "the US datacenter was never called")

	t.Run("a code works once", func(t *testing.T) {
		_, _, err := bigin.Exchange(t.Context(), dcs, cb.Get("accounts-server"), creds, cb.Get("code"), redirect, nil, nil)
		require.ErrorIs(t, err, bigin.ErrCodeRefused)
		assert.Contains(t, err.Error(), "invalid_code")
	})
	t.Run("an unknown accounts server is refused before any call", func(t *testing.T) {
		var elsewhere counter
		other := httptest.NewServer(&elsewhere)
		t.Cleanup(other.Close)
		_, _, err := bigin.Exchange(t.Context(), dcs, other.URL, creds, consent(t).Get("code"), redirect, nil, nil)
		require.ErrorIs(t, err, bigin.ErrUnknownDatacenter)
		assert.Zero(t, elsewhere.n.Load())
	})
	t.Run("a redirect URI mismatch is refused", func(t *testing.T) {
		_, _, err := bigin.Exchange(t.Context(), dcs, eu.ts.URL, creds, consent(t).Get("code"), "https://elsewhere.example/cb", nil, nil)
		var ae *bigin.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "invalid_redirect_uri", ae.Code)
	})
}
