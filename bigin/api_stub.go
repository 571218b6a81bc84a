package bigin

// THIS FILE IS THE CONTRACT OF THE BIGIN PACKAGE, written first so that the
// mcp and tokens packages can be built against it in parallel. The
// implementation replaces these bodies (moving them to files per concept:
// datacenters.go, oauth.go, client.go, users.go, errors.go ...) but keeps the
// exported names and signatures. Additions are fine.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// APIVersion is the Bigin REST API version every operation calls (SPEC §6).
const APIVersion = "v2"

// Errors the client returns; test with errors.Is.
var (
	// ErrRefreshRefused means Zoho refused the refresh token or the client
	// credentials (invalid_code, invalid_client ...): the account must be
	// authorised again. It is never retried.
	ErrRefreshRefused = errors.New("zoho refused the refresh token")
	// ErrUnknownAPIDomain means a token response named an api_domain that is
	// not one of the configured datacenters' API bases.
	ErrUnknownAPIDomain = errors.New("api_domain is not a configured datacenter")
	// ErrUnknownDatacenter means a datacenter key is not configured.
	ErrUnknownDatacenter = errors.New("unknown datacenter")
)

// Datacenter is one Zoho datacenter: its accounts server and API base.
type Datacenter struct {
	Key         string `json:"-"`
	AccountsURL string `json:"accounts_url"`
	APIURL      string `json:"api_url"`
}

// Datacenters is an immutable table of datacenters by key.
type Datacenters struct{ m map[string]Datacenter }

// DefaultDatacenters returns the built-in table of SPEC §3.
func DefaultDatacenters() Datacenters { panic("unimplemented") }

// ParseDatacenters returns the built-in table with the JSON spec (inline, or
// "@path" to read a file) merged over it. An empty spec gives the built-in
// table. Errors name what is wrong in one line.
func ParseDatacenters(spec string) (Datacenters, error) { panic("unimplemented") }

// Get returns the datacenter with the key, or an error wrapping
// ErrUnknownDatacenter that names the valid keys.
func (d Datacenters) Get(key string) (Datacenter, error) { panic("unimplemented") }

// Keys returns the keys in sorted order.
func (d Datacenters) Keys() []string { panic("unimplemented") }

// ByAccountsServer finds the datacenter whose accounts server is u.
func (d Datacenters) ByAccountsServer(u string) (Datacenter, bool) { panic("unimplemented") }

// ByAPIDomain finds the datacenter whose API base is u.
func (d Datacenters) ByAPIDomain(u string) (Datacenter, bool) { panic("unimplemented") }

// Scopes returns the OAuth scopes the seven operations need.
func Scopes() []string { panic("unimplemented") }

// UserTypes returns Zoho's user type filter values (AllUsers first).
func UserTypes() []string { panic("unimplemented") }

// Token is an access token with the API domain Zoho returned with it.
type Token struct {
	AccessToken string
	Expiry      time.Time
	APIDomain   string
}

// Credentials are one account's OAuth client and refresh token.
type Credentials struct {
	ClientID     string
	ClientSecret string
	RefreshToken string
}

// Options configures NewClient.
type Options struct {
	Datacenters Datacenters
	Datacenter  string // key into Datacenters
	Credentials Credentials
	// APIDomain is the api_domain Zoho returned earlier for this account;
	// empty means the datacenter's API base until a token response says.
	APIDomain string
	// Token is a cached access token to start with (from the store).
	Token *Token
	// OnToken is called after every successful refresh, so the caller can
	// persist the new access token. It must not block for long.
	OnToken func(Token)
	// HTTPClient is used for API and token calls; nil means a default client.
	HTTPClient *http.Client
	// Timeout bounds each call, retries included; 0 means 30 s.
	Timeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Client calls one account's Bigin API. It is safe for concurrent use and is
// meant to be reused for the account's lifetime.
type Client struct{}

// NewClient validates opts and returns a client. It makes no call.
func NewClient(opts Options) (*Client, error) { panic("unimplemented") }

// Refresh forces a token refresh now (used to verify new credentials).
func (c *Client) Refresh(ctx context.Context) (Token, error) { panic("unimplemented") }

// APIDomain returns the API base this client calls.
func (c *Client) APIDomain() string { panic("unimplemented") }

// ListUsersParams selects a page of users.
type ListUsersParams struct {
	Type    string // one of UserTypes(); "" means AllUsers
	Page    int    // 1-based; 0 means 1
	PerPage int    // 1..200; 0 means 200
}

// PageInfo is Zoho's "info" block.
type PageInfo struct {
	Page        int  `json:"page"`
	PerPage     int  `json:"per_page"`
	Count       int  `json:"count"`
	MoreRecords bool `json:"more_records"`
}

// Page is one page of records, each Zoho's JSON object unchanged.
type Page struct {
	Records []json.RawMessage
	Info    PageInfo
}

// ListUsers returns one page of users (a 204 is an empty page).
func (c *Client) ListUsers(ctx context.Context, p ListUsersParams) (Page, error) {
	panic("unimplemented")
}

// GetUser returns one user's record.
func (c *Client) GetUser(ctx context.Context, id string) (json.RawMessage, error) {
	panic("unimplemented")
}

// DeleteUser deletes one user. It is never retried.
func (c *Client) DeleteUser(ctx context.Context, id string) error { panic("unimplemented") }

// CurrentUser returns the record of the user the token belongs to.
func (c *Client) CurrentUser(ctx context.Context) (json.RawMessage, error) { panic("unimplemented") }

// Org returns the organization record.
func (c *Client) Org(ctx context.Context) (json.RawMessage, error) { panic("unimplemented") }

// Roles returns every role (Zoho does not paginate roles).
func (c *Client) Roles(ctx context.Context) ([]json.RawMessage, error) { panic("unimplemented") }

// Profiles returns every profile (Zoho does not paginate profiles).
func (c *Client) Profiles(ctx context.Context) ([]json.RawMessage, error) { panic("unimplemented") }

// RateLimit holds Zoho's rate-limit headers when it sent them.
type RateLimit struct {
	Limit     int       `json:"limit"`
	Remaining int       `json:"remaining"`
	Reset     time.Time `json:"reset"`
}

// APIError is an error answer from Zoho, whatever its HTTP status
// (including errors inside 200 bodies and garbage bodies).
type APIError struct {
	Status     int             // HTTP status
	Code       string          // Zoho's code, e.g. INVALID_DATA, TOO_MANY_REQUESTS
	Message    string          // Zoho's message
	Details    json.RawMessage // Zoho's details, if any
	RateLimit  *RateLimit      // from the response headers, if present
	RetryAfter time.Duration   // from Retry-After or the rate-limit reset, if present
}

func (e *APIError) Error() string { panic("unimplemented") }
