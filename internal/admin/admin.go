// Package admin serves the admin REST API under /admin/ (and the
// integration guides' alias /integrated-account/{id}/mcp…): API tokens,
// integrated accounts, MCP URLs, connect links and the audit log. Every
// request needs an API token; every rule lives in tokens.Service, which
// this package only translates to and from HTTP.
package admin

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/internal/ratelimit"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// API is the admin REST API.
type API struct {
	svc   *tokens.Service
	oauth *tokens.OAuth // nil: the grant endpoints answer 404
	// failures, when set, is the per-address budget of wrong API tokens.
	failures *ratelimit.FailureBudget
	logger   *slog.Logger
}

// New returns the admin API over svc.
func New(svc *tokens.Service, logger *slog.Logger) *API {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &API{svc: svc, logger: logger}
}

// WithOAuth adds the OAuth grant endpoints of oauth URLs and returns a.
func (a *API) WithOAuth(o *tokens.OAuth) *API {
	a.oauth = o
	return a
}

// WithFailureBudget makes wrong API tokens spend their address's budget:
// past it, a request with a bearer token gets 429 and its token is not
// checked. It returns a.
func (a *API) WithFailureBudget(b *ratelimit.FailureBudget) *API {
	a.failures = b
	return a
}

// Register mounts the admin API on mux from its table (Routes):
// everything under /admin/ and the integration guides' alias
// /integrated-account/{id}/mcp…. Every request must carry an API token
// with the admin scope, even one for a path that does not exist.
func (a *API) Register(mux httpx.Router) {
	g := a.Routes()
	g.Register(mux, a.RequireScope, a.writeErr)
}

// RequireAPIToken wraps h so that it runs only for requests carrying a
// valid `Authorization: Bearer <api token>`, whatever the token's scopes;
// others get 401 with WWW-Authenticate.
func (a *API) RequireAPIToken(h http.Handler) http.Handler { return a.RequireScope("", h) }

// RequireScope wraps h so that it runs only for requests carrying a valid
// `Authorization: Bearer <api token>` (401 with WWW-Authenticate
// otherwise) whose token has scope (403 otherwise; "" asks for none).
// The token is the request's caller (tokens.CallerFrom) for checks of its
// account limits, and changes made by h are audited as its.
func (a *API) RequireScope(scope string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bearer, ok := httpx.BearerToken(r)
		if !ok {
			httpx.WriteError(w, tokens.CodeUnauthenticated, "send Authorization: Bearer <api token>")
			return
		}
		addr := httpx.ClientAddr(r)
		if a.failures != nil {
			if wait, blocked := a.failures.Blocked(addr); blocked {
				httpx.RetryAfter(w, wait)
				httpx.WriteError(w, tokens.CodeRateLimited, httpx.TooManyFailures)
				return
			}
		}
		t, err := a.svc.AuthenticateAPIToken(r.Context(), bearer)
		if errors.Is(err, tokens.ErrUnauthenticated) {
			if a.failures != nil && a.failures.Fail(addr) {
				a.logger.WarnContext(r.Context(), "an address spent its budget of wrong tokens", "client_addr", addr)
			}
			httpx.WriteError(w, tokens.CodeUnauthenticated, "this API token is unknown or was deleted")
			return
		}
		if err != nil {
			a.writeErr(w, r, err)
			return
		}
		r = httpx.Identify(r, &tokens.Caller{APIToken: t})
		if err := t.Permit(scope, ""); err != nil {
			a.writeErr(w, r, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// writeErr answers a failed admin request with err's code and message,
// logging the errors it does not know (without secrets: no error built
// here holds one).
func (a *API) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	code, msg, known := httpx.Classify(r.Context(), err)
	if !known {
		a.logger.ErrorContext(r.Context(), "admin request failed", "method", r.Method, "route", r.Pattern, "request_id", httpx.RequestID(r.Context()), "err", err)
	}
	httpx.WriteError(w, code, msg)
}
