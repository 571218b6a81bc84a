package tokens

import (
	"context"
	"time"
)

// OAuthClient is an OAuth client registered through Dynamic Client
// Registration (RFC 7591): a public client, so it has no secret. Clients
// that identify themselves by a metadata document URL are not stored.
type OAuthClient struct {
	ID           string    `json:"id"` // the client_id handed out at registration
	Name         string    `json:"name"`
	RedirectURIs []string  `json:"redirect_uris"`
	CreatedAt    time.Time `json:"created_at"`
}

// OAuthGrant is one person's approval of one OAuth client for one oauth
// MCP URL: the authorization code it starts as, then the access and
// refresh tokens it issues. Every token is kept only as its SHA-256 hash.
type OAuthGrant struct {
	ID          string `json:"id"`
	MCPServerID string `json:"mcp_server_id"`
	AccountID   string `json:"account_id"`
	// AuthEpoch is the URL's Config.AuthEpoch when the grant was issued;
	// the grant is void in any other epoch.
	AuthEpoch  int64  `json:"auth_epoch"`
	ClientID   string `json:"client_id"`
	ClientName string `json:"client_name,omitempty"`
	// The Zoho user who approved, as the org knows them.
	UserID  string `json:"user_id"` // the Bigin user id in the URL's org
	ZUID    string `json:"zuid"`
	Email   string `json:"email"`
	Profile string `json:"profile,omitempty"`

	CodeHash      [32]byte   `json:"code_hash"`
	CodeChallenge string     `json:"code_challenge"` // PKCE S256
	RedirectURI   string     `json:"redirect_uri"`
	CodeExpiresAt time.Time  `json:"code_expires_at"`
	CodeUsedAt    *time.Time `json:"code_used_at,omitempty"`

	AccessHash       [32]byte  `json:"access_hash"`
	AccessExpiresAt  time.Time `json:"access_expires_at"`
	RefreshHash      [32]byte  `json:"refresh_hash"`
	RefreshExpiresAt time.Time `json:"refresh_expires_at"`
	// UsedRefreshHashes are the refresh tokens already rotated away (the
	// latest MaxUsedRefreshHashes): presenting one again is reuse.
	UsedRefreshHashes [][32]byte `json:"used_refresh_hashes,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Hashes returns every non-zero token hash the grant names: the code, the
// access token, the refresh token and the used refresh tokens. A Store
// indexes exactly these.
func (g *OAuthGrant) Hashes() [][32]byte {
	var out [][32]byte
	for _, h := range append([][32]byte{g.CodeHash, g.AccessHash, g.RefreshHash}, g.UsedRefreshHashes...) {
		if h != ([32]byte{}) {
			out = append(out, h)
		}
	}
	return out
}

// OAuthClientStore keeps dynamically registered OAuth clients.
type OAuthClientStore interface {
	// CreateOAuthClient stores a new client: ErrConflict on a reused ID.
	// It sets c.CreatedAt when zero.
	CreateOAuthClient(ctx context.Context, c *OAuthClient) error
	// OAuthClient returns one client (ErrNotFound if none).
	OAuthClient(ctx context.Context, id string) (*OAuthClient, error)
	// DeleteOAuthClient deletes one client (ErrNotFound if none). Grants
	// it holds stay until they end; the token endpoint refuses the client.
	DeleteOAuthClient(ctx context.Context, id string) error
	// DeleteIdleOAuthClients deletes the clients created before t that no
	// grant names, and returns how many. It may commit in several
	// transactions. A grant created for such a client while it runs may
	// be left naming a deleted client (whose requests the token endpoint
	// then refuses, so it registers again); on a single-writer store it
	// cannot be.
	DeleteIdleOAuthClients(ctx context.Context, t time.Time) (int, error)
}

// OAuthGrantStore keeps OAuth grants, findable by any token hash they
// name (OAuthGrant.Hashes) and listable per MCP server.
//
// Every method is one transaction: the grant record, its hash index and
// its per-server index change together, so a reader that finds a grant by
// a hash sees the record that names that hash, and a hash the record no
// longer names finds nothing.
type OAuthGrantStore interface {
	// CreateOAuthGrant stores a new grant: ErrConflict on a reused ID or
	// a hash another grant names. It sets g.CreatedAt (when zero) and
	// g.UpdatedAt.
	CreateOAuthGrant(ctx context.Context, g *OAuthGrant) error
	// OAuthGrant returns one grant by ID (ErrNotFound if none).
	OAuthGrant(ctx context.Context, id string) (*OAuthGrant, error)
	// OAuthGrantByHash returns the grant that names h among its Hashes
	// (ErrNotFound if none).
	OAuthGrantByHash(ctx context.Context, h [32]byte) (*OAuthGrant, error)
	// UpdateOAuthGrant applies fn to a copy of the grant in one
	// transaction and stores the result, re-indexing its hashes (hashes it
	// no longer names are dropped; new ones must not be another grant's:
	// ErrConflict). ID, MCPServerID and CreatedAt cannot change;
	// UpdatedAt is set. fn's error aborts and is returned as is; fn must
	// not call the Store. Because fn sees the committed record, a check
	// in fn (a code not used yet, the current refresh token) holds for
	// exactly one of two racing callers.
	UpdateOAuthGrant(ctx context.Context, id string, fn func(*OAuthGrant) error) (*OAuthGrant, error)
	// OAuthGrants lists one MCP server's grants in ID order after
	// `after`; an unknown server has none.
	OAuthGrants(ctx context.Context, serverID, after string, limit int) ([]*OAuthGrant, bool, error)
	// DeleteOAuthGrant deletes one grant with its hashes and returns it
	// (ErrNotFound if none).
	DeleteOAuthGrant(ctx context.Context, id string) (*OAuthGrant, error)
	// DeleteOAuthGrantsOf deletes every grant of one MCP server, in one
	// transaction, and returns how many there were.
	DeleteOAuthGrantsOf(ctx context.Context, serverID string) (int, error)
}
