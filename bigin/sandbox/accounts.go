package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// authorize is GET /oauth/v2/auth, Zoho's consent screen, approved at
// once by the consent user. A bad client or
// redirect URI gets a 400 page (Zoho shows an error page; its exact shape
// is UNVERIFIED); other problems redirect back with error= as OAuth 2.0
// does (the error values are UNVERIFIED).
func (s *Sandbox) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request_method")
		return
	}
	_ = r.ParseForm()
	q := r.Form
	if q.Get("client_id") != s.opts.ClientID {
		writeOAuthError(w, http.StatusBadRequest, "invalid_client")
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || (redirect.Scheme != "http" && redirect.Scheme != "https") || redirect.Host == "" || redirect.Fragment != "" ||
		(len(s.opts.RedirectURIs) > 0 && !slices.Contains(s.opts.RedirectURIs, q.Get("redirect_uri"))) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_redirect_uri")
		return
	}
	back := func(params url.Values) {
		rq := redirect.Query()
		for k, v := range params {
			rq[k] = v
		}
		if st := q.Get("state"); st != "" {
			rq.Set("state", st)
		}
		u := *redirect
		u.RawQuery = rq.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	if q.Get("response_type") != "code" {
		back(url.Values{"error": {"unsupported_response_type"}})
		return
	}
	scopes := splitScopes(q.Get("scope"))
	if len(scopes) == 0 || slices.ContainsFunc(scopes, func(sc string) bool { return !validScope(sc) }) {
		back(url.Values{"error": {"invalid_scope"}})
		return
	}
	s.mu.Lock()
	if s.denyConsent {
		s.mu.Unlock()
		back(url.Values{"error": {"access_denied"}})
		return
	}
	code := newToken()
	s.codes[code] = &codeGrant{
		userID:      s.consentUser,
		scopes:      scopes,
		redirectURI: q.Get("redirect_uri"),
		offline:     q.Get("access_type") == "offline",
		expiry:      s.now().Add(CodeLifetime),
	}
	base := s.baseURL
	s.mu.Unlock()
	back(url.Values{"code": {code}, "location": {s.opts.Location}, "accounts-server": {base}})
}

// splitScopes reads Zoho's comma-separated scope list (spaces tolerated).
func splitScopes(v string) []string {
	var out []string
	return append(out, strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })...)
}

// validScope accepts ZohoBigin.<resource>[.<resource>].<operation> and
// Zoho's search service's ZohoSearch.securesearch.<operation>, which
// Bigin's search needs.
func validScope(sc string) bool {
	parts := strings.Split(sc, ".")
	if len(parts) < 3 || parts[0] != "ZohoBigin" && (parts[0] != "ZohoSearch" || len(parts) != 3 || parts[1] != "securesearch") {
		return false
	}
	switch parts[len(parts)-1] {
	case "ALL", "READ", "CREATE", "UPDATE", "DELETE", "WRITE":
		return true
	}
	return false
}

// tokenResponse is the token endpoint's success body, keys in Zoho's order.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
	APIDomain    string `json:"api_domain"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

// token is POST /oauth/v2/token. It
// reads its parameters from the query string and the form body alike, and
// answers refusals as HTTP 200 with {"error":…}, as Zoho does.
func (s *Sandbox) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		// UNVERIFIED: Zoho's answer to a GET here is not documented.
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request_method")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusOK, "invalid_request")
		return
	}
	f := r.Form
	grant := f.Get("grant_type")
	s.mu.Lock()
	defer s.mu.Unlock()
	if grant == "refresh_token" {
		s.refreshes++
	}
	if f.Get("client_id") != s.opts.ClientID || f.Get("client_secret") != s.opts.ClientSecret {
		writeOAuthError(w, http.StatusOK, "invalid_client")
		return
	}
	now := s.now()
	switch grant {
	case "refresh_token":
		rt := f.Get("refresh_token")
		g := s.refresh[rt]
		if g == nil || g.revoked {
			writeOAuthError(w, http.StatusOK, "invalid_code")
			return
		}
		if lim := s.opts.RefreshLimit; lim > 0 {
			g.uses = slices.DeleteFunc(g.uses, func(t time.Time) bool { return now.Sub(t) >= ThrottleWindow })
			if len(g.uses) >= lim {
				writeJSON(w, s.opts.ThrottleStatus, map[string]string{
					"error_description": "You have made too many requests continuously. Please try again after some time.",
					"error":             "Access Denied",
					"status":            "failure",
				})
				return
			}
		}
		g.uses = append(g.uses, now)
		at := s.mintAccessLocked(rt, g.userID, g.scopes, now)
		writeJSON(w, http.StatusOK, tokenResponse{
			AccessToken: at, Scope: strings.Join(g.scopes, " "), APIDomain: s.apiDomainLocked(),
			TokenType: "Bearer", ExpiresIn: int(AccessTokenLifetime / time.Second),
		})
	case "authorization_code":
		c := s.codes[f.Get("code")]
		if c == nil || c.used || !now.Before(c.expiry) {
			writeOAuthError(w, http.StatusOK, "invalid_code")
			return
		}
		if f.Get("redirect_uri") != c.redirectURI {
			// UNVERIFIED: the error value for a mismatched redirect_uri.
			writeOAuthError(w, http.StatusOK, "invalid_redirect_uri")
			return
		}
		if max := s.opts.MaxRefreshTokens; c.offline && s.opts.DenyOverCap && max > 0 && len(s.refreshBy[c.userID]) >= max {
			writeJSON(w, s.opts.ThrottleStatus, map[string]string{
				"error_description": "You have reached the maximum number of refresh tokens for this client.",
				"error":             "Access Denied",
				"status":            "failure",
			})
			return
		}
		c.used = true
		resp := tokenResponse{Scope: strings.Join(c.scopes, " "), APIDomain: s.apiDomainLocked(),
			TokenType: "Bearer", ExpiresIn: int(AccessTokenLifetime / time.Second)}
		rt := ""
		if c.offline {
			rt = s.issueRefreshLocked(c.userID, c.scopes)
			resp.RefreshToken = rt
		}
		resp.AccessToken = s.mintAccessLocked(rt, c.userID, c.scopes, now)
		writeJSON(w, http.StatusOK, resp)
	default:
		// UNVERIFIED: the error value for an unknown grant type.
		writeOAuthError(w, http.StatusOK, "unsupported_grant_type")
	}
}

// mintAccessLocked issues an access token; a refresh token keeps at most
// MaxAccessTokens active, deleting the oldest.
func (s *Sandbox) mintAccessLocked(rt, userID string, scopes []string, now time.Time) string {
	at := newToken()
	s.access[at] = &accessGrant{userID: userID, scopes: scopes, expiry: now.Add(AccessTokenLifetime), refresh: rt}
	if g := s.refresh[rt]; g != nil {
		g.access = append(g.access, at)
		if len(g.access) > MaxAccessTokens {
			delete(s.access, g.access[0])
			g.access = slices.Clone(g.access[1:])
		}
	}
	return at
}

// writeOAuthError answers a token or consent error in Zoho Accounts' shape.
func writeOAuthError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code})
}

// writeJSON answers v as JSON with Zoho's content type.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "sandbox: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeBody(w, status, b)
}

// writeBody answers an encoded JSON body with Zoho's content type.
func writeBody(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}
