package oauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/internal/ratelimit"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// maxFormBytes bounds the bodies of the token, registration and consent
// requests.
const maxFormBytes = 64 << 10

// Dynamic Client Registration is open to anyone, so it is bounded: at
// most MaxRegistrations new clients per RegistrationWindow across the
// server, which caps how fast registered clients can pile up in the
// store, and Options.RegistrationsPerAddress per RegistrationWindow from
// one client address (httpx.ClientAddr; a bucket that gives one back
// every RegistrationWindow/RegistrationsPerAddress), so that one address
// cannot use up the server's registrations and lock out everyone else's.
const (
	MaxRegistrations               = 100
	RegistrationWindow             = 10 * time.Minute
	DefaultRegistrationsPerAddress = 20
)

// registrations counts the registrations of the current window.
type registrations struct {
	mu    sync.Mutex
	start time.Time
	n     int
}

// take counts one registration at now, or returns how long until the
// next window when this one is full.
func (rg *registrations) take(now time.Time) (bool, time.Duration) {
	rg.mu.Lock()
	defer rg.mu.Unlock()
	if !now.Before(rg.start.Add(RegistrationWindow)) {
		rg.start, rg.n = now, 0
	}
	if rg.n >= MaxRegistrations {
		return false, rg.start.Add(RegistrationWindow).Sub(now)
	}
	rg.n++
	return true, 0
}

// writeOAuthError answers an OAuth error body (RFC 6749 §5.2).
func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="`+code+`"`)
	}
	httpx.WriteJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// writeBodyError answers a request whose body could not be read (an
// httpx.ReadBody or httpx.ParseForm error) in OAuth's error shape, with
// the status of its cause: 413 for a body over the limit, 408 for a slow
// one, else 400 with desc.
func writeBodyError(w http.ResponseWriter, r *http.Request, err error, code, desc string) {
	c, msg, _ := httpx.Classify(r.Context(), err)
	switch c {
	case tokens.CodeTooLarge, tokens.CodeRequestTimeout:
		writeOAuthError(w, httpx.StatusOf(c), code, msg)
	default:
		writeOAuthError(w, http.StatusBadRequest, code, desc)
	}
}

// storeUnavailable answers, in OAuth's terms, a request whose store call
// did not end in time (tokens.ErrUnavailable), and reports whether err
// was one: 503 temporarily_unavailable with Retry-After.
func storeUnavailable(w http.ResponseWriter, err error) bool {
	if !errors.Is(err, tokens.ErrUnavailable) {
		return false
	}
	w.Header().Set("Retry-After", httpx.RetryAfterOf(tokens.CodeUnavailable))
	writeOAuthError(w, http.StatusServiceUnavailable, tokens.OAuthUnavailable, "the server cannot reach its store right now; try again shortly")
	return true
}

// handleToken is the token endpoint: the authorization code grant with
// PKCE, and refresh with rotation.
func (h *Handler) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeOAuthError(w, http.StatusMethodNotAllowed, tokens.OAuthInvalidRequest, "use POST")
		return
	}
	if err := httpx.ParseForm(w, r, maxFormBytes); err != nil {
		writeBodyError(w, r, err, tokens.OAuthInvalidRequest, "the body must be application/x-www-form-urlencoded")
		return
	}
	f := r.PostForm
	clientID := f.Get("client_id")
	if id, _, ok := r.BasicAuth(); ok && id != "" {
		clientID = id
	}
	if _, err := h.clients.resolve(r.Context(), clientID, httpx.ClientAddr(r)); err != nil {
		if storeUnavailable(w, err) {
			return
		}
		if !errors.Is(err, errUnknownClient) {
			h.logger.ErrorContext(r.Context(), "resolve OAuth client", "err", err)
		}
		writeOAuthError(w, http.StatusUnauthorized, tokens.OAuthInvalidClient, "unknown client_id: register again")
		return
	}
	var iss *tokens.Issued
	var err error
	switch f.Get("grant_type") {
	case "authorization_code":
		iss, err = h.o.ExchangeCode(r.Context(), f.Get("code"), clientID, f.Get("redirect_uri"), f.Get("code_verifier"), h.resourceOrEmpty(f.Get("resource")))
	case "refresh_token":
		res := f.Get("resource")
		tok := h.resourceOrEmpty(res)
		if res != "" && tok == "" {
			writeOAuthError(w, http.StatusBadRequest, tokens.OAuthInvalidTarget, "resource must be the MCP URL")
			return
		}
		iss, err = h.o.Refresh(r.Context(), f.Get("refresh_token"), clientID, tok)
	default:
		writeOAuthError(w, http.StatusBadRequest, tokens.OAuthUnsupportedGrant, "grant_type must be authorization_code or refresh_token")
		return
	}
	if err != nil {
		if storeUnavailable(w, err) {
			return
		}
		var oe *tokens.OAuthError
		if errors.As(err, &oe) {
			status := http.StatusBadRequest
			if oe.Code == tokens.OAuthUnavailable {
				status = http.StatusServiceUnavailable
			}
			writeOAuthError(w, status, oe.Code, oe.Description)
			return
		}
		h.logger.ErrorContext(r.Context(), "OAuth token request failed", "err", err)
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "the token could not be issued; try again")
		return
	}
	httpx.Annotate(r.Context(), "mcp_server_id", iss.Grant.MCPServerID)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"access_token":  iss.AccessToken,
		"token_type":    "Bearer",
		"expires_in":    int(iss.ExpiresIn / time.Second),
		"refresh_token": iss.RefreshToken,
	})
}

// resourceOrEmpty is resourceToken that keeps a non-empty resource that
// is not ours distinguishable from none: it returns a token that resolves
// to nothing.
func (h *Handler) resourceOrEmpty(resource string) string {
	if resource == "" {
		return ""
	}
	if tok := h.resourceToken(resource); tok != "" {
		return tok
	}
	return "-"
}

// handleRegister is Dynamic Client Registration (RFC 7591) for public
// clients.
func (h *Handler) handleRegister(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeOAuthError(w, http.StatusMethodNotAllowed, tokens.OAuthInvalidRequest, "use POST")
		return
	}
	body, err := httpx.ReadBody(w, r, maxFormBytes)
	if err != nil {
		writeBodyError(w, r, err, "invalid_client_metadata", "the registration could not be read")
		return
	}
	var in struct {
		RedirectURIs []string `json:"redirect_uris"`
		ClientName   string   `json:"client_name"`
		AuthMethod   string   `json:"token_endpoint_auth_method"`
		GrantTypes   []string `json:"grant_types"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_client_metadata", "the registration must be a JSON object")
		return
	}
	if err := checkRedirectURIs(in.RedirectURIs); err != nil {
		writeOAuthError(w, http.StatusBadRequest, tokens.OAuthInvalidRedirectURI, err.Error())
		return
	}
	for _, g := range in.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			writeOAuthError(w, http.StatusBadRequest, "invalid_client_metadata", "grant_types may hold only authorization_code and refresh_token")
			return
		}
	}
	addr := httpx.ClientAddr(r)
	if d := h.registerAddrs.Take(ratelimit.Key{Name: addr, Limit: h.registerPerAddr}); !d.Allowed {
		httpx.RetryAfter(w, d.RetryAfter)
		h.logger.WarnContext(r.Context(), "OAuth client registrations from one address over their limit", "client_addr", addr, "limit", h.registerPerAddr.Requests, "window", RegistrationWindow)
		writeOAuthError(w, http.StatusTooManyRequests, tokens.OAuthUnavailable, "too many client registrations from your address; try again later")
		return
	}
	if ok, wait := h.registrations.take(h.now()); !ok {
		httpx.RetryAfter(w, wait.Round(time.Second))
		h.logger.WarnContext(r.Context(), "OAuth client registrations over their limit", "limit", MaxRegistrations, "window", RegistrationWindow)
		writeOAuthError(w, http.StatusTooManyRequests, tokens.OAuthUnavailable, "too many client registrations on this server; try again later")
		return
	}
	name := strings.TrimSpace(clip(in.ClientName))
	if name == "" {
		name = "Unnamed application"
	}
	c, err := h.o.RegisterClient(r.Context(), name, in.RedirectURIs)
	if storeUnavailable(w, err) {
		return
	}
	if err != nil {
		h.logger.ErrorContext(r.Context(), "register OAuth client", "err", err)
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "the client could not be registered; try again")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusCreated, map[string]any{
		"client_id":                  c.ID,
		"client_id_issued_at":        c.CreatedAt.Unix(),
		"client_name":                c.Name,
		"redirect_uris":              c.RedirectURIs,
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "none",
	})
}
