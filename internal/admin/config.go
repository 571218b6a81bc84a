package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// rawField remembers whether a JSON field was present and its raw value, so
// that an absent field (keep) and null (remove) can be told apart.
type rawField struct {
	set bool
	raw json.RawMessage
}

func (f *rawField) UnmarshalJSON(b []byte) error {
	f.set = true
	f.raw = append(f.raw[:0], b...)
	return nil
}

func (f rawField) isNull() bool { return f.set && bytes.Equal(bytes.TrimSpace(f.raw), []byte("null")) }

func invalidf(format string, args ...any) error {
	return &tokens.Error{Code: tokens.CodeInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

// parseExpiry reads an expires_at field: an RFC 3339 string, or null.
func parseExpiry(f rawField, field string, now time.Time) (tokens.ExpiryChange, error) {
	if !f.set {
		return tokens.ExpiryChange{}, nil
	}
	if f.isNull() {
		return tokens.ExpiryChange{Set: true, Field: field}, nil
	}
	var s string
	if err := json.Unmarshal(f.raw, &s); err != nil {
		example := now.Add(time.Hour).UTC().Format(time.RFC3339)
		return tokens.ExpiryChange{}, invalidf("%s must be an RFC 3339 time string such as %q, or null", field, example)
	}
	return tokens.ParseExpiry(s, field, now)
}

// configInput is the "config" object of the MCP server requests.
type configInput struct {
	Methods             *[]string `json:"methods,omitempty" jsonschema:"Any of read, write, list, get, create, update, delete; empty: all."`
	Tags                *[]string `json:"tags,omitempty" jsonschema:"Only tools with one of these tags; empty: all."`
	Modules             *[]string `json:"modules,omitempty" jsonschema:"Record modules by Zoho's API name (Contacts, Accounts, Pipelines, Products, Tasks, Events, Calls) the URL's tools act on; empty: all."`
	RequireAPITokenAuth *bool     `json:"require_api_token_auth,omitempty" jsonschema:"The older form of auth: api_token."`
	Auth                *string   `json:"auth,omitempty" jsonschema:"How MCP requests are authenticated."`
	OAuthProfiles       *[]string `json:"oauth_profiles,omitempty" jsonschema:"oauth URLs: the Bigin profiles whose users may approve; empty: any active user."`
	MaxResultChars      rawField  `json:"max_result_chars,omitzero"`
	RateLimit           rawField  `json:"rate_limit,omitzero"`
	ExpiresAt           rawField  `json:"expires_at,omitzero"`
}

// change is the config change the input asks for (nil for none).
// max_result_chars is an integer, or null to fall back to the server's
// budget; its bounds are the Service's.
func (in *configInput) change() (*tokens.ConfigChange, error) {
	if in == nil {
		return nil, nil
	}
	ch := &tokens.ConfigChange{Methods: in.Methods, Tags: in.Tags, Modules: in.Modules, RequireAPITokenAuth: in.RequireAPITokenAuth, Auth: in.Auth, OAuthProfiles: in.OAuthProfiles}
	if f := in.MaxResultChars; f.set {
		n := 0
		if !f.isNull() {
			if err := json.Unmarshal(f.raw, &n); err != nil {
				return nil, invalidf("config.max_result_chars must be a whole number of characters (%d to %d), or null for the server's budget",
					tokens.MinResultChars, tokens.MaxResultChars)
			}
		}
		ch.MaxResultChars = &n
	}
	rl, err := parseRateLimit(in.RateLimit, "config.rate_limit")
	if err != nil {
		return nil, err
	}
	ch.RateLimit = rl
	return ch, nil
}

// parseRateLimit reads a rate_limit field: {"requests", "per_seconds"},
// or null to remove the limit (a pointer to the zero RateLimit). Absent
// is nil.
func parseRateLimit(f rawField, field string) (*tokens.RateLimit, error) {
	if !f.set {
		return nil, nil
	}
	if f.isNull() {
		return &tokens.RateLimit{}, nil
	}
	var rl tokens.RateLimit
	dec := json.NewDecoder(bytes.NewReader(f.raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rl); err != nil {
		return nil, invalidf(`%s must be an object {"requests": N, "per_seconds": S} of whole numbers (N calls per S seconds), or null for none`, field)
	}
	if err := tokens.CheckRateLimit(&rl, field); err != nil {
		return nil, err
	}
	return &rl, nil
}

// expiry resolves expires_at given at top level or inside config (top level
// wins).
func expiry(top rawField, in *configInput, now time.Time) (tokens.ExpiryChange, error) {
	if top.set {
		return parseExpiry(top, "expires_at", now)
	}
	if in != nil {
		return parseExpiry(in.ExpiresAt, "config.expires_at", now)
	}
	return tokens.ExpiryChange{}, nil
}

// configView is a config as the admin API shows it: every field present, so
// a client can PATCH back what it got. max_result_chars is null when the
// URL uses the server's budget.
type configView struct {
	Methods []string `json:"methods"`
	Tags    []string `json:"tags"`
	// Modules are the record modules the URL's tools act on; empty: all.
	Modules             []string `json:"modules"`
	RequireAPITokenAuth bool     `json:"require_api_token_auth"`
	// Auth and OAuthProfiles are shown for oauth URLs; url and api_token
	// URLs keep the view they had before auth existed
	// (require_api_token_auth tells them apart).
	Auth           string   `json:"auth,omitempty"`
	OAuthProfiles  []string `json:"oauth_profiles,omitempty"`
	MaxResultChars *int     `json:"max_result_chars"`
	// RateLimit is null when the URL has none of its own.
	RateLimit *tokens.RateLimit `json:"rate_limit"`
}

func viewConfig(c tokens.Config) configView {
	v := configView{Methods: c.Methods, Tags: c.Tags, Modules: c.Modules, RequireAPITokenAuth: c.AuthMode() == tokens.AuthAPIToken, RateLimit: c.RateLimit}
	if c.MaxResultChars != 0 {
		n := c.MaxResultChars
		v.MaxResultChars = &n
	}
	if c.AuthMode() == tokens.AuthOAuth {
		v.Auth, v.OAuthProfiles = tokens.AuthOAuth, c.OAuthProfiles
		if v.OAuthProfiles == nil {
			v.OAuthProfiles = []string{}
		}
	}
	if v.Methods == nil {
		v.Methods = []string{}
	}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	if v.Modules == nil {
		v.Modules = []string{}
	}
	return v
}
