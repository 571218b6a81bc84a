package bigin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// DirectoryScopes returns the OAuth scopes of the directory calls (users,
// organization, roles, profiles): users.ALL covers reading and deleting
// users. Accounts connected before the record calls existed hold only
// these; their record calls fail with ErrScopeMismatch.
func DirectoryScopes() []string {
	return []string{
		"ZohoBigin.users.ALL",
		"ZohoBigin.org.READ",
		"ZohoBigin.settings.roles.READ",
		"ZohoBigin.settings.profiles.READ",
	}
}

// RecordScopes returns the OAuth scopes of the record calls: every
// module's records (modules.ALL), their notes (Zoho lists the notes scope
// apart even next to modules.ALL), COQL queries, search (Zoho's search
// service has its own scope), and the fields and layouts metadata.
func RecordScopes() []string {
	return []string{
		"ZohoBigin.modules.ALL",
		"ZohoBigin.modules.notes.ALL",
		"ZohoBigin.coql.READ",
		"ZohoSearch.securesearch.READ",
		"ZohoBigin.settings.ALL",
	}
}

// Scopes returns every OAuth scope the client's calls need:
// DirectoryScopes then RecordScopes. Connect and reconnect links ask Zoho
// for these.
func Scopes() []string {
	return append(DirectoryScopes(), RecordScopes()...)
}

// Token is an access token with the API domain Zoho returned with it.
type Token struct {
	AccessToken string
	Expiry      time.Time // on the client's clock
	APIDomain   string    // the configured API base Zoho's api_domain named
}

// Credentials are one account's OAuth client and refresh token.
type Credentials struct {
	ClientID     string
	ClientSecret string
	RefreshToken string
}

// tokenPath is Zoho Accounts' token endpoint, under an accounts server.
const tokenPath = "/oauth/v2/token"

// authPath is Zoho Accounts' consent endpoint, under an accounts server.
const authPath = "/oauth/v2/auth"

// defaultTokenLifetime is Zoho's documented access-token lifetime, used only
// when a token response has no expires_in.
const defaultTokenLifetime = time.Hour

// oauthConfig is the x/oauth2 configuration for one accounts server. Zoho
// takes the client credentials as parameters, not HTTP basic auth.
func oauthConfig(accountsURL, clientID, clientSecret, redirectURI string, scopes []string) *oauth2.Config {
	cfg := &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		RedirectURL:  redirectURI,
		Endpoint: oauth2.Endpoint{
			AuthURL:   accountsURL + authPath,
			TokenURL:  accountsURL + tokenPath,
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
	if len(scopes) > 0 {
		// Zoho separates scopes with commas; x/oauth2 would join with spaces.
		cfg.Scopes = []string{strings.Join(scopes, ",")}
	}
	return cfg
}

// AuthCodeURL returns the Zoho consent URL on the accounts server that asks
// for an offline refresh token (access_type=offline, prompt=consent) with
// the scopes (Scopes() when none are given) and echoes state.
func AuthCodeURL(accountsURL, clientID, redirectURI, state string, scopes ...string) string {
	if len(scopes) == 0 {
		scopes = Scopes()
	}
	cfg := oauthConfig(strings.TrimRight(accountsURL, "/"), clientID, "", redirectURI, scopes)
	return cfg.AuthCodeURL(state, oauth2.AccessTypeOffline, oauth2.ApprovalForce)
}

// SignInScopes returns the least scope that reads the current user
// (users?type=CurrentUser): the sign-in of the OAuth front door asks for
// nothing more.
func SignInScopes() []string { return []string{"ZohoBigin.users.READ"} }

// SignInURL returns the Zoho sign-in URL on the accounts server for a
// short-lived, online-only token (access_type=online: no refresh token)
// with SignInScopes, echoing state.
func SignInURL(accountsURL, clientID, redirectURI, state string) string {
	cfg := oauthConfig(strings.TrimRight(accountsURL, "/"), clientID, "", redirectURI, SignInScopes())
	return cfg.AuthCodeURL(state, oauth2.SetAuthURLParam("access_type", "online"))
}

// SignInExchange trades a sign-in code for a short-lived access token at
// accountsServer (which must be a configured datacenter's), as Exchange
// does, without asking for a refresh token. The datacenter it answers is
// the one the token works in.
func SignInExchange(ctx context.Context, dcs Datacenters, accountsServer string, creds Credentials, code, redirectURI string, httpClient *http.Client) (Token, Datacenter, error) {
	dc, ok := dcs.ByAccountsServer(accountsServer)
	if !ok {
		return Token{}, Datacenter{}, fmt.Errorf("%w: accounts-server %q is not a configured datacenter's accounts server", ErrUnknownDatacenter, clip(accountsServer))
	}
	if strings.TrimSpace(creds.ClientID) == "" || strings.TrimSpace(creds.ClientSecret) == "" {
		return Token{}, dc, errors.New("bigin: the OAuth client id and secret must not be empty")
	}
	if strings.TrimSpace(code) == "" {
		return Token{}, dc, errors.New("bigin: the authorization code is empty")
	}
	rec := newRecorder(httpClient)
	cfg := oauthConfig(dc.AccountsURL, creds.ClientID, creds.ClientSecret, redirectURI, nil)
	ot, err := cfg.Exchange(context.WithValue(ctx, oauth2.HTTPClient, rec.client), code)
	now := time.Now()
	if err != nil {
		return Token{}, dc, tokenError(ctx, err, rec, ErrCodeRefused, now)
	}
	tok, err := tokenOf(ot, dcs, dc, now)
	return tok, dc, err
}

// Exchange trades an authorization code for a token and a refresh token at
// accountsServer, the accounts-server Zoho named in the callback. It
// refuses an accounts server that is not a configured datacenter's
// (ErrUnknownDatacenter) and a token whose api_domain is not configured
// (ErrUnknownAPIDomain); a refused code wraps ErrCodeRefused. Only the
// ClientID and ClientSecret of creds are used. httpClient nil means a
// default client; now (nil: time.Now) dates the token's expiry.
func Exchange(ctx context.Context, dcs Datacenters, accountsServer string, creds Credentials, code, redirectURI string, httpClient *http.Client, now func() time.Time) (Token, string, error) {
	if now == nil {
		now = time.Now
	}
	dc, ok := dcs.ByAccountsServer(accountsServer)
	if !ok {
		return Token{}, "", fmt.Errorf("%w: accounts-server %q is not a configured datacenter's accounts server", ErrUnknownDatacenter, clip(accountsServer))
	}
	if strings.TrimSpace(creds.ClientID) == "" || strings.TrimSpace(creds.ClientSecret) == "" {
		return Token{}, "", errors.New("bigin: the OAuth client id and secret must not be empty")
	}
	if strings.TrimSpace(code) == "" {
		return Token{}, "", errors.New("bigin: the authorization code is empty")
	}
	rec := newRecorder(httpClient)
	cfg := oauthConfig(dc.AccountsURL, creds.ClientID, creds.ClientSecret, redirectURI, nil)
	ot, err := cfg.Exchange(context.WithValue(ctx, oauth2.HTTPClient, rec.client), code)
	at := now()
	if err != nil {
		return Token{}, "", tokenError(ctx, err, rec, ErrCodeRefused, at)
	}
	tok, err := tokenOf(ot, dcs, dc, at)
	if err != nil {
		return Token{}, "", err
	}
	if ot.RefreshToken == "" {
		return Token{}, "", errors.New("bigin: Zoho returned no refresh token; ask for consent again with access_type=offline and prompt=consent")
	}
	return tok, ot.RefreshToken, nil
}

// refreshToken asks the datacenter's accounts server for a new access
// token with the refresh token.
func refreshToken(ctx context.Context, hc *http.Client, dcs Datacenters, dc Datacenter, creds Credentials, now func() time.Time) (Token, error) {
	rec := newRecorder(hc)
	cfg := oauthConfig(dc.AccountsURL, creds.ClientID, creds.ClientSecret, "", nil)
	ts := cfg.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, rec.client), &oauth2.Token{RefreshToken: creds.RefreshToken})
	ot, err := ts.Token()
	if err != nil {
		return Token{}, tokenError(ctx, err, rec, ErrRefreshRefused, now())
	}
	return tokenOf(ot, dcs, dc, now())
}

// tokenOf checks a token response's api_domain and computes its expiry on
// the client's clock.
func tokenOf(ot *oauth2.Token, dcs Datacenters, own Datacenter, now time.Time) (Token, error) {
	var domain string
	switch v := ot.Extra("api_domain").(type) {
	case nil:
	case string:
		domain = v
	default:
		return Token{}, fmt.Errorf("bigin: %w: the token response's api_domain is not a string", ErrUnknownAPIDomain)
	}
	base, err := resolveAPIDomain(dcs, own, domain)
	if err != nil {
		return Token{}, err
	}
	t := Token{AccessToken: ot.AccessToken, APIDomain: base}
	switch {
	case ot.ExpiresIn > 0:
		t.Expiry = now.Add(time.Duration(ot.ExpiresIn) * time.Second)
	case !ot.Expiry.IsZero():
		t.Expiry = ot.Expiry
	default:
		t.Expiry = now.Add(defaultTokenLifetime)
	}
	return t, nil
}

// resolveAPIDomain maps an api_domain to the configured API base it names:
// the account's own datacenter first, then any configured one. Empty means
// the account's datacenter. Anything else is refused, so that no token is
// ever sent to a host the operator did not configure.
func resolveAPIDomain(dcs Datacenters, own Datacenter, domain string) (string, error) {
	domain = strings.TrimSpace(domain)
	if domain == "" {
		return own.APIURL, nil
	}
	if o, ok := origin(domain); ok {
		if mine, _ := origin(own.APIURL); o == mine {
			return own.APIURL, nil
		}
	}
	if dc, ok := dcs.ByAPIDomain(domain); ok {
		return dc.APIURL, nil
	}
	return "", fmt.Errorf("bigin: %w: %q", ErrUnknownAPIDomain, clip(domain))
}

// refused reports whether a token endpoint error code means the refresh token
// (or code) or the client credentials will never work again.
func refused(code string) bool {
	switch code {
	case "invalid_code", "invalid_client", "invalid_client_secret", "unauthorized_client", "invalid_grant":
		return true
	}
	return false
}

// tokenError turns an x/oauth2 error into ours. RetrieveError.Error()
// includes the response body, so it is never wrapped or printed: the
// message is built from the OAuth error code and description only.
func tokenError(ctx context.Context, err error, rec *recorder, refusal error, now time.Time) error {
	if ctx.Err() != nil {
		return fmt.Errorf("bigin: token request: %w", ctx.Err())
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status, header := rec.status, rec.header
		if re.Response != nil {
			status, header = re.Response.StatusCode, re.Response.Header
		}
		code, desc := strings.TrimSpace(re.ErrorCode), clip(re.ErrorDescription)
		switch {
		case refused(code):
			if desc != "" {
				return fmt.Errorf("%w (%s: %s)", refusal, code, desc)
			}
			return fmt.Errorf("%w (%s)", refusal, code)
		case strings.EqualFold(code, "Access Denied"):
			// Zoho Accounts' throttle: more than 10 refreshes per refresh
			// token in 10 minutes. Try later.
			rl, wait := rateLimitOf(header, now)
			if desc == "" {
				desc = "Zoho Accounts is throttling token requests; try again after some time"
			}
			return &APIError{Status: status, Code: CodeTokenRateLimited, Message: desc, RateLimit: rl, RetryAfter: wait}
		case code != "":
			return &APIError{Status: status, Code: clip(code), Message: desc}
		}
		return &APIError{Status: status, Code: CodeInvalidResponse, Message: fmt.Sprintf("the token endpoint answered HTTP %d without an OAuth error", status)}
	}
	if rec.status != 0 {
		// A response came but x/oauth2 could not read a token from it.
		return &APIError{Status: rec.status, Code: CodeInvalidResponse, Message: "the token endpoint answered without a readable access token"}
	}
	return fmt.Errorf("bigin: token request: %w", err)
}

// recorder is a per-request HTTP client that remembers the last response's
// status and headers (x/oauth2 drops them from its parse errors) and never
// follows redirects.
type recorder struct {
	client *http.Client
	base   http.RoundTripper
	status int
	header http.Header
}

func newRecorder(hc *http.Client) *recorder {
	if hc == nil {
		hc = http.DefaultClient
	}
	r := &recorder{base: hc.Transport}
	if r.base == nil {
		r.base = http.DefaultTransport
	}
	r.client = &http.Client{Transport: r, Jar: hc.Jar, Timeout: hc.Timeout, CheckRedirect: noRedirect}
	return r
}

// RoundTrip implements http.RoundTripper.
func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if resp != nil {
		r.status, r.header = resp.StatusCode, resp.Header
	}
	return resp, err
}

// noRedirect stops the client at a redirect: a token or a secret must go to
// the configured host only.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
