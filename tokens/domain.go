package tokens

import "time"

// Account status values.
const (
	StatusActive      = "active"
	StatusNeedsReauth = "needs_reauth"
)

// Account is one connected Bigin org. The secret fields hold plain text in
// memory only; a Store seals them before writing.
type Account struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Datacenter string    `json:"datacenter"`
	APIDomain  string    `json:"api_domain"`
	OrgID      string    `json:"org_id"`
	OrgName    string    `json:"org_name"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// RateLimit bounds the tool calls of all the account's URLs and REST
	// calls together; nil means none.
	RateLimit *RateLimit `json:"rate_limit,omitempty"`

	// Secrets: sealed at rest, never serialised in the clear.
	ClientID     string    `json:"-"` // not secret, but stored with the secrets for simplicity of rotation
	ClientSecret string    `json:"-"`
	RefreshToken string    `json:"-"`
	AccessToken  string    `json:"-"`
	AccessExpiry time.Time `json:"-"`
}

// Config is the policy of one MCP URL: which tools it offers, how it is
// authenticated and how large a tool result may grow. This package owns
// its meaning (validation, expansion, filtering); a Store keeps it as
// data.
type Config struct {
	Methods []string `json:"methods,omitempty"`
	Tags    []string `json:"tags,omitempty"`
	// Modules are the record modules (Zoho's API names) the URL's tools
	// may act on; empty means all. A tool's `module` argument offers only
	// these, and a call naming another is refused.
	Modules []string `json:"modules,omitempty"`
	// RequireAPITokenAuth is the older spelling of Auth "api_token"; a
	// normalized config keeps it equal to Auth == AuthAPIToken.
	RequireAPITokenAuth bool `json:"require_api_token_auth,omitempty"`
	// Auth is how MCP requests to the URL are authenticated; read it with
	// AuthMode. Stored, it is AuthOAuth or empty (url, or api_token when
	// RequireAPITokenAuth is set), the shape records had before it.
	Auth string `json:"auth,omitempty"`
	// OAuthProfiles, for AuthOAuth, are the Bigin profile names whose
	// users may approve a connection; empty means any active user.
	OAuthProfiles []string `json:"oauth_profiles,omitempty"`
	// AuthEpoch counts changes of Auth. An OAuth grant is valid only for
	// the epoch it was issued in, so changing auth ends every grant even
	// if it is changed back.
	AuthEpoch int64 `json:"auth_epoch,omitempty"`
	// MaxResultChars is the URL's result budget: how many characters of
	// result text a list tool may return in one call (see
	// ValidResultBudget). 0 means the server's budget.
	MaxResultChars int `json:"max_result_chars,omitempty"`
	// RateLimit bounds the URL's tool calls; nil means none (the
	// account's limit still applies).
	RateLimit *RateLimit `json:"rate_limit,omitempty"`
}

// MCPServer is one minted MCP URL. The URL's token is never stored: only its
// SHA-256 hash, which is unique across servers.
type MCPServer struct {
	ID        string     `json:"id"`
	AccountID string     `json:"account_id"`
	Name      string     `json:"name"`
	TokenHash [32]byte   `json:"token_hash"`
	Config    Config     `json:"config"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// APIToken is one API token, stored as the SHA-256 hash of its value.
// AccountIDs and Scopes limit what it reaches (see Allows and
// AllowsAccount); empty means no limit, so tokens created before limits
// existed keep full access.
type APIToken struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	TokenHash  [32]byte  `json:"token_hash"`
	AccountIDs []string  `json:"account_ids,omitempty"`
	Scopes     []string  `json:"scopes,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// ConnectLink is a one-time link an end customer follows to connect their own
// Bigin org. Like every token, only the hash of its secret part is stored.
type ConnectLink struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Datacenter string     `json:"datacenter,omitempty"` // fixed datacenter, or "" to let the customer pick
	TokenHash  [32]byte   `json:"token_hash"`
	ExpiresAt  time.Time  `json:"expires_at"`
	UsedAt     *time.Time `json:"used_at,omitempty"`
	AccountID  string     `json:"account_id,omitempty"` // set once the link created (or reconnected) an account
	RevokedAt  *time.Time `json:"revoked_at,omitempty"` // set when an admin withdrew the link
	CreatedAt  time.Time  `json:"created_at"`
	// ReconnectAccountID, when set, makes this a reconnect link: its
	// consent replaces that account's Zoho grant instead of creating an
	// account, and its Datacenter is the account's.
	ReconnectAccountID string `json:"reconnect_account_id,omitempty"`
}

// Surfaces an audited action came through (AuditEntry.Surface).
const (
	SurfaceMCP    = "mcp"
	SurfaceREST   = "rest"
	SurfaceAdmin  = "admin"
	SurfaceSystem = "system"
)

// AuditEntry records one tool call or admin change. It never holds a
// token, a secret or free text from a caller: tool arguments are kept as
// ids, enums and numbers only.
type AuditEntry struct {
	ID          string    `json:"id"`
	Time        time.Time `json:"time"`
	Actor       string    `json:"actor"`  // "api_token:<id>", "mcp:<server id>", "system"
	Action      string    `json:"action"` // e.g. "tool_call", "mcp_server.create"
	AccountID   string    `json:"account_id,omitempty"`
	MCPServerID string    `json:"mcp_server_id,omitempty"`
	Tool        string    `json:"tool,omitempty"`
	Outcome     string    `json:"outcome"` // "ok" or an error code
	Detail      string    `json:"detail,omitempty"`
	// For calls through an oauth URL: the Zoho user the grant was issued
	// to and the OAuth client that made the call.
	UserZUID    string `json:"user_zuid,omitempty"`
	UserEmail   string `json:"user_email,omitempty"`
	OAuthClient string `json:"oauth_client,omitempty"`
	// Surface is where the action came from: SurfaceMCP, SurfaceREST,
	// SurfaceAdmin or SurfaceSystem.
	Surface string `json:"surface,omitempty"`
	// APITokenID is the API token the caller authenticated with (an
	// admin change, a REST call, or a call to an api_token MCP URL).
	APITokenID string `json:"api_token_id,omitempty"`
	// Args are a tool call's arguments: ids, enums and numbers only.
	Args map[string]any `json:"args,omitempty"`
	// Status is the HTTP status of the outcome (Zoho's, for a Zoho error).
	Status int `json:"status,omitempty"`
	// LatencyMS is how long a tool call took, in milliseconds.
	LatencyMS float64 `json:"latency_ms,omitempty"`
	// TraceID is the W3C trace id the request carried, if any.
	TraceID string `json:"trace_id,omitempty"`
	// Operation names a unified or proxy call, e.g. "GET /proxy/users/{id}".
	Operation string `json:"operation,omitempty"`
	// Count, when set, is how many calls the entry stands for: the calls
	// of one kind refused before Zoho (over a rate limit, or with invalid
	// arguments) in the minute after the first, which has an entry of its
	// own. Absent, the entry is one call or change.
	Count int `json:"count,omitempty"`
}
