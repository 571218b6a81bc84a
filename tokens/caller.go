package tokens

import "context"

// Caller is who makes a request, as the surface that authenticated it
// found: the one identity of every surface (the admin API, the REST face,
// the web UI, the MCP URLs). The surface puts it in the request's context
// once (WithCaller); everything after it reads it from there
// (CallerFrom): API token limits, tool calls, audit entries. A nil
// *Caller is the server itself ("system").
type Caller struct {
	// APIToken is the API token the request authenticated with: the
	// bearer of an admin API, REST or api_token MCP request, or the token
	// a web UI session was signed in with.
	APIToken *APIToken
	// Grant is the OAuth grant whose access token a request to an oauth
	// MCP URL carried, or the grant a sign-in just made.
	Grant *OAuthGrant
	// MCPServerID is the MCP URL the request came in through.
	MCPServerID string
	// ConnectLinkID is the connect link whose consent the request
	// completes.
	ConnectLinkID string
}

// Actor names the caller as audit entries do: "oauth:<zuid>" for the
// Zoho user of an OAuth grant, "mcp:<server id>" for any other request
// through an MCP URL, "api_token:<id>", "connect_link:<id>", or "system".
func (c *Caller) Actor() string {
	switch {
	case c == nil:
		return "system"
	case c.Grant != nil:
		return "oauth:" + c.Grant.ZUID
	case c.MCPServerID != "":
		return "mcp:" + c.MCPServerID
	case c.APIToken != nil:
		return "api_token:" + c.APIToken.ID
	case c.ConnectLinkID != "":
		return "connect_link:" + c.ConnectLinkID
	}
	return "system"
}

// APITokenID returns the id of the caller's API token, or "".
func (c *Caller) APITokenID() string {
	if c == nil || c.APIToken == nil {
		return ""
	}
	return c.APIToken.ID
}

// surface is where the caller's admin changes come from, for audit
// entries: an API token outside MCP is the admin API (or the web UI, or
// the REST face, which make changes only through its calls); anything
// else is the system acting on its own.
func (c *Caller) surface() string {
	if c != nil && c.APIToken != nil && c.MCPServerID == "" {
		return SurfaceAdmin
	}
	return SurfaceSystem
}

type callerKey struct{}

// WithCaller returns a context carrying who makes the request. A surface
// calls it once, when it has authenticated the request.
func WithCaller(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns who makes the request (WithCaller), or nil for the
// system.
func CallerFrom(ctx context.Context) *Caller {
	c, _ := ctx.Value(callerKey{}).(*Caller)
	return c
}
