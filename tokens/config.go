package tokens

import (
	"slices"
	"strings"
	"time"
	"unicode"
)

// Bounds of a result budget, in characters of the text a model reads. The
// floor is below one typical Zoho user record, so that the rule "a record
// larger than the budget comes alone" stays reachable on purpose rather
// than by a typo such as 40 for 40,000; the ceiling is several times the
// largest result any named client accepts.
const (
	MinResultChars = 500
	MaxResultChars = 1_000_000
)

// ValidResultBudget reports whether n is within MinResultChars to
// MaxResultChars. Each setting of a budget refuses an invalid one with a
// message that names it.
func ValidResultBudget(n int) bool { return n >= MinResultChars && n <= MaxResultChars }

// MinExpiry is how far in the future a new expires_at must at least be.
const MinExpiry = 60 * time.Second

// checkExpiry applies the 60-second rule to a new expires_at.
func checkExpiry(t time.Time, now time.Time, field string) error {
	if t.Sub(now) < MinExpiry {
		return invalidf("%s must be at least 60 seconds in the future (it is %s; now is %s)",
			field, t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// ConfigChange is a change to a Config: nil fields are kept.
type ConfigChange struct {
	Methods             *[]string
	Tags                *[]string
	Modules             *[]string
	RequireAPITokenAuth *bool
	Auth                *string
	OAuthProfiles       *[]string
	// MaxResultChars sets the URL's result budget; a pointer to 0 removes
	// it, so the server's budget applies.
	MaxResultChars *int
	// RateLimit sets the URL's rate limit; a pointer to the zero
	// RateLimit removes it.
	RateLimit *RateLimit
}

// Apply merges the fields the change names over c (a create applies it
// over the zero Config). A nil change keeps c.
func (ch *ConfigChange) Apply(c Config) Config {
	if ch == nil {
		return c
	}
	if ch.Methods != nil {
		c.Methods = *ch.Methods
	}
	if ch.Tags != nil {
		c.Tags = *ch.Tags
	}
	if ch.Modules != nil {
		c.Modules = *ch.Modules
	}
	if ch.Auth != nil {
		c.Auth = *ch.Auth
		if ch.RequireAPITokenAuth == nil {
			c.RequireAPITokenAuth = false // auth replaces the alias
		}
	}
	if ch.RequireAPITokenAuth != nil {
		c.RequireAPITokenAuth = *ch.RequireAPITokenAuth
		if ch.Auth == nil {
			switch {
			case *ch.RequireAPITokenAuth:
				c.Auth = AuthAPIToken
			case c.AuthMode() == AuthAPIToken:
				c.Auth = AuthURL
			}
		}
	}
	if ch.OAuthProfiles != nil {
		c.OAuthProfiles = *ch.OAuthProfiles
	}
	if ch.MaxResultChars != nil {
		c.MaxResultChars = *ch.MaxResultChars
	}
	if ch.RateLimit != nil {
		c.RateLimit = normalRateLimit(ch.RateLimit)
	}
	return c
}

// Auth modes of an MCP URL (Config.Auth).
const (
	// AuthURL: the URL is the only credential.
	AuthURL = "url"
	// AuthAPIToken: requests also carry Authorization: Bearer <api token>
	// (the older require_api_token_auth: true).
	AuthAPIToken = "api_token"
	// AuthOAuth: requests carry an OAuth access token issued to a member
	// of the URL's Bigin org who approved the connection.
	AuthOAuth = "oauth"
)

var authModes = []string{AuthURL, AuthAPIToken, AuthOAuth}

// AuthModes returns the valid values of Config.Auth, the default first.
func AuthModes() []string { return slices.Clone(authModes) }

// AuthMode returns the config's auth mode, reading records written before
// auth existed ("" with or without require_api_token_auth).
func (c Config) AuthMode() string {
	switch {
	case c.Auth != "":
		return c.Auth
	case c.RequireAPITokenAuth:
		return AuthAPIToken
	}
	return AuthURL
}

// normalizeAuth checks auth, its alias and oauth_profiles, and returns
// them in stored form: Auth set only for oauth, RequireAPITokenAuth equal
// to the mode being api_token, profiles trimmed and deduplicated (case-insensitively).
func normalizeAuth(c Config) (Config, error) {
	auth := strings.ToLower(strings.TrimSpace(c.Auth))
	if auth == "" {
		auth = AuthURL
		if c.RequireAPITokenAuth {
			auth = AuthAPIToken
		}
	}
	if !slices.Contains(authModes, auth) {
		return Config{}, invalidf("unknown config.auth %q; valid values: %s", c.Auth, strings.Join(authModes, ", "))
	}
	if c.RequireAPITokenAuth && auth != AuthAPIToken {
		return Config{}, invalidf("config.require_api_token_auth: true contradicts config.auth %q; send only auth (require_api_token_auth: true is the same as auth \"api_token\")", auth)
	}
	// Stored form: url and api_token keep the shape records had before
	// auth existed (Auth empty, the alias for api_token); AuthMode reads
	// both.
	c.RequireAPITokenAuth = auth == AuthAPIToken
	c.Auth = ""
	if auth == AuthOAuth {
		c.Auth = AuthOAuth
	}
	var profiles []string
	for _, p := range c.OAuthProfiles {
		n := strings.TrimSpace(p)
		switch {
		case n == "":
			return Config{}, invalidf("config.oauth_profiles must not hold an empty name")
		case len(n) > 200 || strings.IndexFunc(n, unicode.IsControl) >= 0:
			return Config{}, invalidf("config.oauth_profiles holds a name that is too long or has control characters")
		}
		if !slices.ContainsFunc(profiles, func(q string) bool { return strings.EqualFold(q, n) }) {
			profiles = append(profiles, n)
		}
	}
	if len(profiles) > 0 && auth != AuthOAuth {
		return Config{}, invalidf("config.oauth_profiles applies only to config.auth \"oauth\" (this URL's auth is %q)", auth)
	}
	if len(profiles) > 50 {
		return Config{}, invalidf("config.oauth_profiles holds at most 50 names")
	}
	c.OAuthProfiles = profiles
	return c, nil
}

// ExpiryChange is what a request asks of a server's expiry.
type ExpiryChange struct {
	Set   bool       // the request names an expiry (or its removal)
	Value *time.Time // nil: no expiry
	Field string     // where it was given, for messages: expires_at or config.expires_at
}

// ParseExpiry reads a requested expiry given as text in field: an RFC 3339
// time. Every surface that takes an expiry as text parses it here, so
// they accept the same forms and explain a bad one the same way. The
// 60-second rule is applied by Check (or by the Service), since a change
// may send back the expiry a URL already has.
func ParseExpiry(s, field string, now time.Time) (ExpiryChange, error) {
	example := now.Add(time.Hour).UTC().Format(time.RFC3339)
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return ExpiryChange{}, invalidf("%s %q is not an RFC 3339 time such as %q", field, s, example)
	}
	t = t.UTC()
	return ExpiryChange{Set: true, Value: &t, Field: field}, nil
}

// Check applies the 60-second rule to a requested expiry.
func (c ExpiryChange) Check(now time.Time) error {
	if c.Value == nil {
		return nil
	}
	return checkExpiry(*c.Value, now, c.Field)
}
