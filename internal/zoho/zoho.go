// Package zoho wires the Bigin client to the policy: it proves account
// credentials for tokens.Service (tokens.Zoho), completes the connect
// flow's code exchange, and keeps one Bigin client per integrated account
// so every surface shares its token cache and single-flight refresh.
package zoho

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/clock"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Zoho implements tokens.Zoho over the Bigin client.
type Zoho struct {
	dcs        bigin.Datacenters
	httpClient *http.Client
	now        func() time.Time
}

var _ tokens.Zoho = (*Zoho)(nil)

// New returns a Zoho for the datacenters dcs; httpClient nil means the
// Bigin client's default.
func New(dcs bigin.Datacenters, httpClient *http.Client, c clock.Clock) *Zoho {
	return &Zoho{dcs: dcs, httpClient: httpClient, now: clock.OrSystem(c).Now}
}

// Datacenters returns the configured datacenter keys, sorted.
func (z *Zoho) Datacenters() []string { return z.dcs.Keys() }

// Verify proves credentials with Zoho: one refresh, then the org.
func (z *Zoho) Verify(ctx context.Context, dc string, creds tokens.Credentials) (*tokens.Grant, error) {
	c, err := bigin.NewClient(bigin.Options{
		Datacenters: z.dcs,
		Datacenter:  dc,
		Credentials: bigin.Credentials(creds),
		HTTPClient:  z.httpClient,
		Now:         z.now,
	})
	if err != nil {
		if errors.Is(err, bigin.ErrUnknownDatacenter) {
			return nil, &tokens.Error{Code: tokens.CodeInvalidArgument, Message: fmt.Sprintf("unknown datacenter %q; valid datacenters: %s", dc, strings.Join(z.dcs.Keys(), ", ")), Err: err}
		}
		return nil, &tokens.Error{Code: tokens.CodeInvalidArgument, Message: "the credentials cannot be used: " + err.Error(), Err: err}
	}
	tok, err := c.Refresh(ctx)
	if err != nil {
		return nil, verifyError(err, "refresh")
	}
	if tok.APIDomain == "" {
		tok.APIDomain = c.APIDomain()
	}
	g, err := readOrg(ctx, c, tok)
	if err != nil {
		return nil, verifyError(err, "org")
	}
	return g, nil
}

// readOrg reads the org that c reaches and returns it with tok as a Grant.
func readOrg(ctx context.Context, c *bigin.Client, tok bigin.Token) (*tokens.Grant, error) {
	raw, err := c.Org(ctx)
	if err != nil {
		return nil, err
	}
	id, name, err := parseOrg(raw)
	if err != nil {
		return nil, &tokens.Error{Code: tokens.CodeUpstreamError, Message: "Zoho answered the org read with an unexpected body", Err: err}
	}
	return &tokens.Grant{AccessToken: tok.AccessToken, Expiry: tok.Expiry, APIDomain: tok.APIDomain, OrgID: id, OrgName: name}, nil
}

// Exchange completes a connect link's consent: it trades the code for
// tokens at the datacenter's accounts server with the server's OAuth
// client, reads the org, and returns the grant and the refresh token.
func (z *Zoho) Exchange(ctx context.Context, dc bigin.Datacenter, creds tokens.Credentials, code, redirectURI string) (*tokens.Grant, string, error) {
	tok, refresh, err := bigin.Exchange(ctx, z.dcs, dc.AccountsURL, bigin.Credentials(creds), code, redirectURI, z.httpClient, z.now)
	if err != nil {
		return nil, "", fmt.Errorf("exchange code: %w", err)
	}
	creds.RefreshToken = refresh
	c, err := bigin.NewClient(bigin.Options{
		Datacenters: z.dcs, Datacenter: dc.Key, Credentials: bigin.Credentials(creds),
		APIDomain: tok.APIDomain, Token: &tok, HTTPClient: z.httpClient, Now: z.now,
	})
	if err != nil {
		return nil, "", fmt.Errorf("client: %w", err)
	}
	g, err := readOrg(ctx, c, tok)
	if err != nil {
		return nil, "", fmt.Errorf("read org: %w", err)
	}
	return g, refresh, nil
}

// parseOrg reads the org record's id and company_name; it accepts the
// record itself or Zoho's {"org":[record]} envelope.
func parseOrg(raw json.RawMessage) (id, name string, err error) {
	var env struct {
		Org []json.RawMessage `json:"org"`
	}
	if json.Unmarshal(raw, &env) == nil && len(env.Org) > 0 {
		raw = env.Org[0]
	}
	var rec struct {
		ID          json.RawMessage `json:"id"`
		CompanyName *string         `json:"company_name"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return "", "", fmt.Errorf("decode org: %w", err)
	}
	var sid string
	if err := json.Unmarshal(rec.ID, &sid); err != nil {
		var n json.Number
		if err := json.Unmarshal(rec.ID, &n); err != nil || n == "" {
			return "", "", errors.New("org record has no id")
		}
		sid = n.String()
	}
	if sid == "" {
		return "", "", errors.New("org record has no id")
	}
	if rec.CompanyName != nil {
		name = *rec.CompanyName
	}
	return sid, name, nil
}

// verifyError turns an error from proving an account's credentials with
// Zoho (stage "refresh" or "org") into one the client can act on: Zoho's
// refusal is the client's to fix (400 with Zoho's reason), a throttle is
// 429, an unreachable or failing Zoho is 502. Messages are built from
// Zoho's error code and description, never from a body or a credential.
func verifyError(err error, stage string) error {
	var ae *bigin.APIError
	switch {
	case errors.Is(err, bigin.ErrRefreshRefused):
		return &tokens.Error{Code: tokens.CodeInvalidArgument, Message: refusalMessage(err), Err: err}
	case errors.Is(err, bigin.ErrUnknownDatacenter):
		return &tokens.Error{Code: tokens.CodeInvalidArgument, Message: err.Error(), Err: err}
	case errors.Is(err, bigin.ErrUnknownAPIDomain):
		return &tokens.Error{Code: tokens.CodeInvalidArgument, Message: "Zoho answered with an api_domain that is not a configured datacenter's API base; add it with BIGIN_MCP_DATACENTERS", Err: err}
	case errors.As(err, &ae) && ae.RateLimited():
		msg := "Zoho is throttling requests for these credentials; try again later"
		if ae.RetryAfter > 0 {
			msg = fmt.Sprintf("Zoho is throttling requests for these credentials; try again in %s", ae.RetryAfter.Round(time.Second))
		}
		return &tokens.Error{Code: tokens.CodeRateLimited, Message: msg, Err: err}
	case errors.As(err, &ae) && (ae.Status >= 500 || ae.Code == bigin.CodeInvalidResponse):
		return &tokens.Error{Code: tokens.CodeUpstreamError, Message: fmt.Sprintf("Zoho failed while verifying the credentials (HTTP %d); try again later", ae.Status), Err: err}
	case errors.As(err, &ae):
		reason := ae.Code
		if ae.Message != "" {
			reason += ": " + ae.Message
		}
		if stage == "org" {
			return &tokens.Error{Code: tokens.CodeInvalidArgument, Message: fmt.Sprintf("Zoho refused to read the organization with these credentials (HTTP %d %s); check the refresh token's scopes", ae.Status, reason), Err: err}
		}
		return &tokens.Error{Code: tokens.CodeInvalidArgument, Message: fmt.Sprintf("Zoho refused the refresh (HTTP %d %s)", ae.Status, reason), Err: err}
	case errors.Is(err, context.Canceled):
		return err
	}
	return &tokens.Error{Code: tokens.CodeUpstreamError, Message: "could not reach Zoho to verify the credentials; try again later", Err: err}
}

// refusalMessage words a refused refresh as "Zoho refused the refresh token
// (invalid_code)": the bigin error's text from its sentinel on, which holds
// Zoho's OAuth error code and description only.
func refusalMessage(err error) string {
	msg := err.Error()
	sentinel := bigin.ErrRefreshRefused.Error()
	if i := strings.Index(msg, sentinel); i >= 0 {
		msg = msg[i:]
	}
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	if !strings.HasPrefix(msg, "Zoho") {
		msg = "Zoho refused the credentials: " + msg
	}
	return msg + "; check the refresh token, client_id and client_secret"
}
