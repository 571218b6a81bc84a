package mcp

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// authenticator admits a request to a URL of one auth mode: it returns
// who makes the request, or why it is refused.
type authenticator func(h *Handler, r *http.Request, res *tokens.Resolved) (*tokens.Caller, *refusal)

// authenticators holds the authenticator of every auth mode
// (tokens.AuthModes): a new mode is its constant in tokens, one entry
// here, and its tests.
var authenticators = map[string]authenticator{
	tokens.AuthURL:      (*Handler).authURL,
	tokens.AuthAPIToken: (*Handler).authAPIToken,
	tokens.AuthOAuth:    (*Handler).authOAuth,
}

// refusal is a request turned away during admission: its error code
// (which gives the HTTP status), a message that says what to change, and
// the WWW-Authenticate challenge of a 401 ("" for the default one).
type refusal struct {
	code, message string
	challenge     string
	retryAfter    time.Duration // sent as Retry-After when set
}

// refuse is the refusal of r for a *tokens.Error (any other error is
// internal).
func refuse(r *http.Request, err error) *refusal {
	code, msg, _ := httpx.Classify(r.Context(), err)
	return &refusal{code: code, message: msg}
}

// write answers the refused request with a JSON-RPC error.
func (no *refusal) write(w http.ResponseWriter) {
	if no.challenge != "" {
		w.Header().Set("WWW-Authenticate", no.challenge)
	}
	if no.retryAfter > 0 {
		httpx.RetryAfter(w, no.retryAfter)
	}
	writeRPCError(w, nil, no.code, no.message)
}

// authURL admits every request: the URL is the credential.
func (h *Handler) authURL(_ *http.Request, res *tokens.Resolved) (*tokens.Caller, *refusal) {
	return &tokens.Caller{MCPServerID: res.Server.ID}, nil
}

// apiTokenRequired is the refusal of an api_token URL's request without
// a valid API token.
var apiTokenRequired = &refusal{
	code:      tokens.CodeUnauthenticated,
	message:   "this MCP URL requires Authorization: Bearer <api token>",
	challenge: `Bearer realm="bigin-mcp"`,
}

// blocked is the refusal of a request with a bearer token from an
// address that spent its budget of wrong tokens (nil when it has not):
// the token is not checked.
func (h *Handler) blocked(r *http.Request) *refusal {
	if h.opts.Failures == nil {
		return nil
	}
	wait, blocked := h.opts.Failures.Blocked(httpx.ClientAddr(r))
	if !blocked {
		return nil
	}
	return &refusal{code: tokens.CodeRateLimited, message: httpx.TooManyFailures, retryAfter: wait}
}

// failed spends one of the request's address's wrong-token budget.
func (h *Handler) failed(r *http.Request) {
	if h.opts.Failures == nil {
		return
	}
	if addr := httpx.ClientAddr(r); h.opts.Failures.Fail(addr) {
		h.logger.WarnContext(r.Context(), "an address spent its budget of wrong tokens", "client_addr", addr)
	}
}

// authAPIToken admits requests that carry an API token allowed to use
// MCP (tokens.ScopeMCP) on the URL's account: 401 without a valid one,
// 403 naming the scope or the account a valid one lacks, 429 from an
// address that spent its budget of wrong tokens.
func (h *Handler) authAPIToken(r *http.Request, res *tokens.Resolved) (*tokens.Caller, *refusal) {
	bearer, ok := httpx.BearerToken(r)
	if !ok {
		return nil, apiTokenRequired
	}
	if no := h.blocked(r); no != nil {
		return nil, no
	}
	t, err := h.opts.Resolver.AuthenticateAPIToken(r.Context(), bearer)
	if errors.Is(err, tokens.ErrUnavailable) {
		return nil, refuse(r, err) // 503: the store did not answer in time
	}
	if err != nil {
		if !errors.Is(err, tokens.ErrUnauthenticated) {
			h.logger.Error("check API token", "err", err)
		} else {
			h.failed(r)
		}
		return nil, apiTokenRequired
	}
	if err := t.Permit(tokens.ScopeMCP, res.Account.ID); err != nil {
		return nil, refuse(r, err)
	}
	return &tokens.Caller{MCPServerID: res.Server.ID, APIToken: t}, nil
}

// authOAuth admits requests that carry an OAuth access token issued for
// the URL; a 401 names the URL's protected resource metadata, where a
// client finds the authorization server. A request with a token from an
// address that spent its budget of wrong tokens gets 429.
func (h *Handler) authOAuth(r *http.Request, res *tokens.Resolved) (*tokens.Caller, *refusal) {
	bearer, ok := httpx.BearerToken(r)
	if ok {
		if no := h.blocked(r); no != nil {
			return nil, no
		}
	}
	if ok && h.opts.OAuth != nil {
		grant, err := h.opts.OAuth.Authenticate(r.Context(), res, bearer)
		if err == nil {
			return &tokens.Caller{MCPServerID: res.Server.ID, Grant: grant}, nil
		}
		if errors.Is(err, tokens.ErrUnavailable) {
			return nil, refuse(r, err) // 503: the store did not answer in time
		}
		if !errors.Is(err, tokens.ErrUnauthenticated) {
			h.logger.Error("check OAuth access token", "err", err)
		} else {
			h.failed(r)
		}
	}
	challenge := `Bearer resource_metadata="` + h.resourceMetadataURL(r.PathValue("token")) + `"`
	if ok {
		challenge += `, error="invalid_token", error_description="the access token is invalid, expired or revoked"`
	}
	return nil, &refusal{
		code:      tokens.CodeUnauthenticated,
		message:   "this MCP URL requires OAuth: connect it as a remote MCP server that signs in (its authorization server is named in WWW-Authenticate)",
		challenge: challenge,
	}
}

// resourceMetadataURL is the protected resource metadata document of the
// URL with this token (RFC 9728), named in 401 answers of oauth URLs.
func (h *Handler) resourceMetadataURL(urlToken string) string {
	return strings.TrimRight(h.opts.PublicURL, "/") + "/.well-known/oauth-protected-resource/mcp/" + urlToken
}
