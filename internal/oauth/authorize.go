package oauth

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Lifetimes of the sealed states of one authorization.
const (
	requestLifetime = 15 * time.Minute // from /authorize to the Zoho callback
	consentLifetime = 10 * time.Minute // from the consent page to the decision
)

// Purposes of sealed values.
const (
	purposeSignIn  = "bigin-mcp oauth sign-in"
	purposeConsent = "bigin-mcp oauth consent"
)

// SignInStatePrefix starts the state of a front-door sign-in at Zoho, so
// the shared Zoho callback can tell it from a connect link's.
const SignInStatePrefix = "bmcp_si."

// authRequest is a checked authorization request.
type authRequest struct {
	ClientID    string `json:"c"`
	ClientName  string `json:"n"`
	RedirectURI string `json:"r"`
	State       string `json:"s,omitempty"`
	Challenge   string `json:"x"`
	Resource    string `json:"t"` // the MCP URL token
}

// consentState is an authorization request with the person admitted.
// Nonce makes the consent form single-use (see consents).
type consentState struct {
	Req    authRequest   `json:"q"`
	Member tokens.Member `json:"m"`
	Nonce  string        `json:"k"`
}

// handleAuthorize checks an authorization request and sends the person to
// sign in with Zoho, in the region of the URL's org. Until the client and
// its redirect URI are known good, problems are pages; after that they go
// back to the client as OAuth errors.
func (h *Handler) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, err := h.clients.resolve(r.Context(), q.Get("client_id"), httpx.ClientAddr(r))
	if errors.Is(err, tokens.ErrUnavailable) {
		h.internalError(w, r, err)
		return
	}
	if err != nil {
		// One message for every reason a client is refused: the page
		// must not tell whether a metadata document URL answered, timed
		// out or was refused (the server log says which).
		msg := "The application did not identify itself in a way this server accepts, so nothing was authorized."
		switch id := q.Get("client_id"); {
		case !errors.Is(err, errUnknownClient):
			h.logger.ErrorContext(r.Context(), "resolve OAuth client", "err", err)
		case isCIMD(id):
			msg = "The application's client_id names a metadata document that this server could not use, so nothing was authorized. " +
				"The server's log says why; the application's developer can fix the document, or the connector can register instead."
		case id != "":
			msg = "The application's client_id is not registered here. Remove the connector and add it again so it registers anew."
		}
		h.page(w, http.StatusBadRequest, pageError, pageData{Title: "Unknown application", Message: msg})
		return
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" || !c.redirectAllowed(redirect) {
		h.page(w, http.StatusBadRequest, pageError, pageData{Title: "Unknown redirect address",
			Message: "The application asked to be sent back to an address it did not register, so nothing was authorized."})
		return
	}
	back := func(code, desc string) { h.redirectError(w, r, redirect, q.Get("state"), code, desc) }
	if q.Get("response_type") != "code" {
		back("unsupported_response_type", "only response_type=code is supported")
		return
	}
	if q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" {
		back(tokens.OAuthInvalidRequest, "PKCE is required: send code_challenge with code_challenge_method=S256")
		return
	}
	tok := h.resourceToken(q.Get("resource"))
	if tok == "" {
		back(tokens.OAuthInvalidTarget, "resource is required and must be the MCP URL")
		return
	}
	res, err := h.o.Resolve(r.Context(), tok)
	if err != nil {
		back(tokens.OAuthInvalidTarget, "resource is not an MCP URL of this server that uses OAuth (unknown, deleted, expired or with another auth)")
		return
	}
	httpx.Annotate(r.Context(), "mcp_server_id", res.Server.ID)
	ar := authRequest{ClientID: c.ID, ClientName: c.Name, RedirectURI: redirect, State: q.Get("state"), Challenge: q.Get("code_challenge"), Resource: tok}
	// The URL's account, and so its org's datacenter, is known, and only
	// a user of that org can be admitted: straight to the Zoho sign-in of
	// that datacenter, with no region to pick. A person whose Zoho account
	// lives elsewhere is sent on by Zoho to their own region, comes back
	// with its accounts-server, and is refused by Admit as not a user of
	// the org.
	dc, err := h.dcs.Get(res.Account.Datacenter)
	if err != nil {
		h.logger.ErrorContext(r.Context(), "the datacenter of an OAuth URL's account is not configured",
			"mcp_server_id", res.Server.ID, "datacenter", res.Account.Datacenter)
		h.page(w, http.StatusInternalServerError, pageError, pageData{Title: "Region not configured",
			Message: "The Bigin organization of this MCP URL is in a Zoho region this server is no longer configured for, so nobody can sign in to it. Please tell the server's administrator."})
		return
	}
	state, err := h.sealer.seal(purposeSignIn, h.now().Add(requestLifetime), ar)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, bigin.SignInURL(dc.AccountsURL, h.creds.ClientID, h.publicURL+h.callback, SignInStatePrefix+state), http.StatusFound)
}

// HandleZohoCallback completes a front-door sign-in that Zoho sent to the
// shared callback; it reports false, writing nothing, when the state is
// not a sign-in's (a connect link's callback).
func (h *Handler) HandleZohoCallback(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	sealed, ok := strings.CutPrefix(q.Get("state"), SignInStatePrefix)
	if !ok {
		return false
	}
	var ar authRequest
	if err := h.sealer.open(purposeSignIn, sealed, h.now(), &ar); err != nil {
		h.expired(w)
		return true
	}
	if e := q.Get("error"); e != "" {
		h.redirectError(w, r, ar.RedirectURI, ar.State, tokens.OAuthAccessDenied, "the sign-in at Zoho was declined or failed")
		return true
	}
	signedIn, err := h.zoho.SignIn(r.Context(), h.creds, q.Get("accounts-server"), q.Get("code"), h.publicURL+h.callback)
	if err != nil {
		h.logger.WarnContext(r.Context(), "OAuth sign-in with Zoho failed", "err", err)
		msg := "Zoho did not confirm who you are, so nothing was authorized. Please start again from your application."
		if errors.Is(err, bigin.ErrUnknownDatacenter) {
			msg = "The answer from Zoho named a region this server does not know, so nothing was authorized."
		}
		h.page(w, http.StatusBadGateway, pageError, pageData{Title: "Sign-in failed", Message: msg})
		return true
	}
	res, err := h.o.Resolve(r.Context(), ar.Resource)
	if err != nil {
		h.page(w, http.StatusNotFound, pageError, pageData{Title: "This MCP URL is gone", Message: "The MCP URL was deleted, expired or no longer uses OAuth while you were signing in, so nothing was authorized."})
		return true
	}
	httpx.Annotate(r.Context(), "mcp_server_id", res.Server.ID)
	m, err := h.o.Admit(r.Context(), res, signedIn)
	if err != nil {
		var te *tokens.Error
		if errors.As(err, &te) && te.Code == tokens.CodePermissionDenied {
			h.logger.InfoContext(r.Context(), "OAuth sign-in refused", "mcp_server_id", res.Server.ID, "reason", te.Message)
			h.page(w, http.StatusForbidden, pageError, pageData{Title: "Not allowed", Message: upperFirst(te.Message) + ".",
				Hint: fmt.Sprintf("This MCP URL belongs to the Bigin organization %q, whose users sign in with Zoho in %s. "+
					"Nothing was authorized. Ask an administrator of that organization if you think you should have access.",
					orgName(res), h.dcs.Label(res.Account.Datacenter))})
			return true
		}
		h.logger.WarnContext(r.Context(), "OAuth membership check failed", "mcp_server_id", res.Server.ID, "err", err)
		h.page(w, http.StatusBadGateway, pageError, pageData{Title: "Could not check your access", Message: "Zoho could not be asked whether you are a user of the organization. Please try again in a moment."})
		return true
	}
	consent, err := h.sealer.seal(purposeConsent, h.now().Add(consentLifetime), consentState{Req: ar, Member: *m, Nonce: newNonce()})
	if err != nil {
		h.internalError(w, r, err)
		return true
	}
	rh := ar.RedirectURI
	if u, err := url.Parse(ar.RedirectURI); err == nil {
		rh = u.Scheme + "://" + u.Host
		if u.Host == "" { // a private-use scheme without authority
			rh = u.Scheme + ":"
		}
	}
	// same-origin, not no-referrer: under no-referrer a browser sends
	// "Origin: null" on the form's post, which fromOwnPage must refuse.
	// The referrer goes nowhere else: the only link is the form, and the
	// redirect after it sets no-referrer again.
	w.Header().Set("Referrer-Policy", "same-origin")
	h.page(w, http.StatusOK, pageConsent, pageData{
		Referrer: "same-origin",
		Title:    "Allow access to Zoho Bigin?", ClientName: ar.ClientName, ClientID: ar.ClientID, URLName: res.Server.Name, Org: orgName(res),
		Tools: res.Tools, Email: m.Email, Profile: m.Profile, RedirectHost: rh, Action: ConsentPath, Consent: consent,
	})
	return true
}

// handleConsent acts on the person's decision. Only a post the browser
// says came from this server's consent page counts: another site cannot
// submit a form it got hold of, and a refused post leaves the form unused.
func (h *Handler) handleConsent(w http.ResponseWriter, r *http.Request) {
	if !h.fromOwnPage(r) {
		h.logger.InfoContext(r.Context(), "OAuth consent refused: not posted from this server's page",
			"origin", clip(r.Header.Get("Origin")), "has_referer", r.Header.Get("Referer") != "")
		h.page(w, http.StatusForbidden, pageError, pageData{Title: "Refused",
			Message: "This approval was not sent from this server's consent page, so nothing was authorized. Please start again from your application."})
		return
	}
	if err := httpx.ParseForm(w, r, maxFormBytes); err != nil {
		code, _, _ := httpx.Classify(r.Context(), err)
		switch code {
		case tokens.CodeTooLarge:
			h.page(w, http.StatusRequestEntityTooLarge, pageError, pageData{Title: "Too large", Message: "The form is larger than this server accepts. Please start again from your application."})
		case tokens.CodeRequestTimeout:
			h.page(w, http.StatusRequestTimeout, pageError, pageData{Title: "Too slow", Message: "The form did not arrive in time. Please start again from your application."})
		default:
			h.page(w, http.StatusBadRequest, pageError, pageData{Title: "Bad request", Message: "The form could not be read. Please start again from your application."})
		}
		return
	}
	var cs consentState
	if err := h.sealer.open(purposeConsent, r.PostForm.Get("consent"), h.now(), &cs); err != nil {
		h.expired(w)
		return
	}
	// Whatever the decision, a consent form counts once: a replay (the
	// back button, a resubmission, a copied form) starts nothing.
	if !h.consents.claim(cs.Nonce, h.now()) {
		h.expired(w)
		return
	}
	ar := cs.Req
	if r.PostForm.Get("decision") != "approve" {
		h.redirectError(w, r, ar.RedirectURI, ar.State, tokens.OAuthAccessDenied, "the person denied access")
		return
	}
	res, err := h.o.Resolve(r.Context(), ar.Resource)
	if err != nil {
		h.page(w, http.StatusNotFound, pageError, pageData{Title: "This MCP URL is gone", Message: "The MCP URL was deleted, expired or no longer uses OAuth, so nothing was authorized."})
		return
	}
	code, err := h.o.IssueCode(r.Context(), res, tokens.CodeRequest{
		ClientID: ar.ClientID, ClientName: ar.ClientName, RedirectURI: ar.RedirectURI, CodeChallenge: ar.Challenge, Member: &cs.Member,
	})
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	h.redirect(w, r, ar.RedirectURI, url.Values{"code": {code}, "state": optional(ar.State), "iss": {h.publicURL}})
}

// fromOwnPage reports whether a form post came from a page of this
// server: its Origin, or, when the browser sends none, its Referer's
// origin, must be the public URL's origin. A post that names neither, or
// names "null" (a privacy-stripped or sandboxed origin), is refused: every
// browser names one on a form post from the consent page, whose
// Referrer-Policy is same-origin for that reason.
func (h *Handler) fromOwnPage(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		return sameOrigin(o, h.origin)
	}
	ref := r.Header.Get("Referer")
	return ref != "" && sameOrigin(ref, h.origin)
}

// sameOrigin reports whether the URL or origin raw has the origin want (a
// normalized origin from originOf).
func sameOrigin(raw, want string) bool {
	o, ok := originOf(raw)
	return ok && o == want
}

// originOf returns the origin of a URL (scheme://host[:port], lower case,
// without the scheme's default port), or false when it has none.
func originOf(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false
	}
	host := strings.ToLower(u.Host)
	if p := u.Port(); (u.Scheme == "https" && p == "443") || (u.Scheme == "http" && p == "80") {
		host = strings.ToLower(u.Hostname())
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + host, true
}

// redirectError sends an OAuth error back to the client (RFC 6749
// §4.1.2.1, with RFC 9207's iss).
func (h *Handler) redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state, code, desc string) {
	h.redirect(w, r, redirectURI, url.Values{"error": {code}, "error_description": {desc}, "state": optional(state), "iss": {h.publicURL}})
}

func (h *Handler) redirect(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	q := u.Query()
	for k, v := range params {
		if len(v) > 0 && v[0] != "" {
			q[k] = v
		}
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func optional(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func (h *Handler) expired(w http.ResponseWriter) {
	h.page(w, http.StatusBadRequest, pageError, pageData{Title: "This sign-in has expired",
		Message: "The authorization took too long or was already finished. Please start again from your application."})
}

// internalError answers a step that failed: 503 with Retry-After when
// the store did not answer in time (tokens.ErrUnavailable), 500 (logged)
// for anything else.
func (h *Handler) internalError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, tokens.ErrUnavailable) {
		w.Header().Set("Retry-After", httpx.RetryAfterOf(tokens.CodeUnavailable))
		h.page(w, http.StatusServiceUnavailable, pageError, pageData{Title: "Not available right now", Message: "Please start again from your application in a moment."})
		return
	}
	h.logger.ErrorContext(r.Context(), "OAuth authorization failed", "err", err)
	h.page(w, http.StatusInternalServerError, pageError, pageData{Title: "Something went wrong", Message: "Please start again from your application in a moment."})
}

func orgName(res *tokens.Resolved) string {
	if res.Account.OrgName != "" {
		return res.Account.OrgName
	}
	return res.Account.Name
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// --- pages ---

type pageData struct {
	// Referrer is the page's referrer policy; "" is no-referrer.
	Referrer                           string
	Title, Message, Hint               string
	ClientName, ClientID, URLName, Org string
	Email, Profile, RedirectHost       string
	Action, Consent                    string
	Tools                              []string
}

//go:embed templates/*.html
var templateFS embed.FS

var (
	pageError   = mustPage("error.html")
	pageConsent = mustPage("consent.html")
)

func mustPage(name string) *template.Template {
	return template.Must(template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/"+name))
}

// page renders a page with the connect pages' headers: never framed,
// cached, or leaking its URL as a referrer; no script.
func (h *Handler) page(w http.ResponseWriter, status int, t *template.Template, d pageData) {
	httpx.HTMLPage(w, h.logger, status, t, d, "OAuth page")
}
