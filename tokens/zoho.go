package tokens

import (
	"context"
	"time"
)

// Credentials are an account's Zoho OAuth credentials. Accounts stored
// without a ClientID use the server's own OAuth client.
type Credentials struct {
	ClientID     string
	ClientSecret string
	RefreshToken string
}

// Grant is what proving credentials with Zoho learned: a fresh access
// token, the API domain Zoho named for it, and the org it reaches.
type Grant struct {
	AccessToken string
	Expiry      time.Time
	APIDomain   string
	OrgID       string
	OrgName     string
}

// Zoho is what the policy needs of Zoho. The wiring implements it over the
// Bigin client, so this package stays free of HTTP.
type Zoho interface {
	// Datacenters returns the keys of the configured datacenters, sorted.
	Datacenters() []string
	// Verify proves complete credentials (the server's client already
	// filled in) in the datacenter: one refresh, one org read. Its errors
	// are *Error values whose messages say what to fix, or the context's
	// error.
	Verify(ctx context.Context, datacenter string, creds Credentials) (*Grant, error)
}
