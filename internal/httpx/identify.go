package httpx

import (
	"net/http"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Identify puts who makes the request in its context (tokens.WithCaller)
// and names them on the request's log line (api_token_id,
// oauth_grant_id). A surface calls it once, when it has authenticated the
// request; everything after reads tokens.CallerFrom, never the log.
func Identify(r *http.Request, c *tokens.Caller) *http.Request {
	ctx := r.Context()
	if id := c.APITokenID(); id != "" {
		Annotate(ctx, "api_token_id", id)
	}
	if c != nil && c.Grant != nil {
		Annotate(ctx, "oauth_grant_id", c.Grant.ID)
	}
	return r.WithContext(tokens.WithCaller(ctx, c))
}
