package sandbox

import (
	"bytes"
	"encoding/json"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// authorize is GET /oauth/v2/auth, Zoho's sign-in and consent screens.
// It approves at once as the consent user, or as the user a
// sandbox_user=<id> parameter names; with Options.SignInPage and no such
// parameter it shows a page on which a person picks the user and accepts
// or rejects (decision=reject), posting back here. A bad client or
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
		!s.redirectRegistered(q.Get("redirect_uri")) {
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
	who := q.Get("sandbox_user")
	if who == "" && s.opts.SignInPage {
		s.signInPage(w, q, scopes)
		return
	}
	if q.Get("decision") == "reject" {
		back(url.Values{"error": {"access_denied"}})
		return
	}
	s.mu.Lock()
	if s.denyConsent {
		s.mu.Unlock()
		back(url.Values{"error": {"access_denied"}})
		return
	}
	if who == "" {
		who = s.consentUser
	}
	// The user signs in to their own org: this one or the other.
	issuer := s
	if _, ok := s.byID[who]; !ok {
		if s.other == nil || !s.other.hasUser(who) {
			s.mu.Unlock()
			// sandbox_user is the sandbox's own parameter; Zoho has none.
			writeOAuthError(w, http.StatusBadRequest, "invalid_user")
			return
		}
		issuer = s.other
	}
	base := s.baseURL
	s.mu.Unlock()
	code := issuer.issueCode(&codeGrant{
		userID:      who,
		scopes:      scopes,
		redirectURI: q.Get("redirect_uri"),
		offline:     q.Get("access_type") == "offline",
	})
	back(url.Values{"code": {code}, "location": {s.opts.Location}, "accounts-server": {base}})
}

// hasUser reports whether the org has a user with the id.
func (s *Sandbox) hasUser(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.byID[id]
	return ok
}

// issueCode stores an authorization code for g, valid for CodeLifetime.
func (s *Sandbox) issueCode(g *codeGrant) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := newToken()
	g.expiry = s.now().Add(CodeLifetime)
	s.codes[code] = g
	return code
}

// signInChoice is one person the sign-in page offers.
type signInChoice struct {
	ID, Name, Email, About string
	Default                bool
}

// signInChoices are the people the sign-in page offers: the org's primary
// user (an administrator), an active standard user and a deactivated one,
// the other org's primary user, and the consent user when none of those.
func (s *Sandbox) signInChoices() []signInChoice {
	s.mu.Lock()
	org, consent := s.org.CompanyName, s.consentUser
	var out []signInChoice
	add := func(u *User, about string) {
		if u != nil && !slices.ContainsFunc(out, func(c signInChoice) bool { return c.ID == u.ID }) {
			out = append(out, signInChoice{ID: u.ID, Name: u.FullName, Email: u.Email, About: about, Default: u.ID == consent})
		}
	}
	add(s.byID[s.primary], "Administrator of "+org+", active: its primary user")
	for _, u := range s.users {
		if u.Status == "active" && u.Confirm && u.Profile.Name == "Standard" {
			add(u, "Standard profile in "+org+", active")
			break
		}
	}
	for _, u := range s.users {
		if u.Status == "disabled" {
			add(u, u.Profile.Name+" profile in "+org+", deactivated")
			break
		}
	}
	if c := s.byID[consent]; c != nil {
		add(c, c.Profile.Name+" profile in "+org+", "+c.Status)
	}
	s.mu.Unlock()
	if o := s.other; o != nil {
		o.mu.Lock()
		add(o.byID[o.primary], "Administrator of another organization, "+o.org.CompanyName+": no user of "+org)
		o.mu.Unlock()
	}
	return out
}

// signInPage shows the sandbox's stand-in for Zoho's sign-in: the person
// picks who signs in and accepts or rejects. Zoho's real pages are not
// imitated; the form posts the request's parameters back to authorize.
func (s *Sandbox) signInPage(w http.ResponseWriter, q url.Values, scopes []string) {
	type hidden struct{ Name, Value string }
	var fields []hidden
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if k == "sandbox_user" || k == "decision" {
			continue
		}
		for _, v := range q[k] {
			fields = append(fields, hidden{k, v})
		}
	}
	writePage(w, signInTemplate, map[string]any{
		"Location": s.opts.Location, "Scopes": strings.Join(scopes, ", "), "Hidden": fields, "Choices": s.signInChoices(),
	})
}

// writePage renders one of the sandbox's own pages (its sign-in, its
// stand-in for the web app): HTML that loads nothing, is not framed and
// is not cached.
func writePage(w http.ResponseWriter, t *template.Template, data any) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		http.Error(w, "sandbox: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
}

var signInTemplate = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in (sandbox Zoho)</title>
<style>
body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#222}
.note{color:#555;font-size:.92rem}
fieldset{border:0;padding:0;margin:1rem 0}
label{display:block;margin:.5rem 0;padding:.6rem .8rem;border:1px solid #ccc;border-radius:6px;cursor:pointer}
button{font:inherit;padding:.45rem 1.1rem;margin-right:.6rem}
</style>
</head>
<body>
<h1>Sign in to Zoho</h1>
<p class="note">This is the sandbox Bigin's stand-in for Zoho's sign-in and consent screens (datacenter <code>{{.Location}}</code>); nothing here reaches the real Zoho. Choose who signs in. The application asks for: <code>{{.Scopes}}</code>.</p>
<form method="post" action="/oauth/v2/auth">
{{- range .Hidden}}
<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{- end}}
<fieldset>
<legend>Sign in as</legend>
{{- range .Choices}}
<label><input type="radio" name="sandbox_user" value="{{.ID}}"{{if .Default}} checked{{end}}> <strong>{{.Name}}</strong> &lt;{{.Email}}&gt;: {{.About}}</label>
{{- end}}
</fieldset>
<p><button type="submit" name="decision" value="accept">Sign in and accept</button><button type="submit" name="decision" value="reject">Reject</button></p>
</form>
</body>
</html>
`))

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
	if s.other.ownsGrant(f) {
		// A user of the other org signed in here: its org answers.
		s.other.token(w, r)
		return
	}
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
