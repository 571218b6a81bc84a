package ui

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/clock"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/internal/ratelimit"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Path is where the UI is mounted.
const Path = "/ui/"

// StaticPath is where the UI's stylesheet and script are served: files
// built into the binary, the same for every visitor.
const StaticPath = Path + "static/"

// maxFormBytes bounds a form post: the largest form (an MCP URL's policy)
// is a few hundred bytes.
const maxFormBytes = 64 << 10

// Cookie names. The sign-in cookie exists only between the sign-in page
// and its post, to bind the form's CSRF token to the browser.
const (
	cookieSession = "bigin_mcp_ui"
	cookieSignIn  = "bigin_mcp_ui_signin"
)

// contentSecurityPolicy allows only this server's own script, style and
// images, no framing, and forms posting only here.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configures New.
type Options struct {
	Service *tokens.Service
	// Datacenters are the regions offered when creating a connect link.
	Datacenters bigin.Datacenters
	// PublicURL is the server's public base URL; an https one makes the
	// session cookie Secure and its origin is accepted on posts.
	PublicURL string
	// Key signs the sign-in form's CSRF token (at least 32 bytes; derive
	// it from the secret key).
	Key    []byte
	Clock  clock.Clock
	Logger *slog.Logger
	// Failures, when set, is the per-address budget of wrong sign-in
	// tokens: past it, the sign-in form answers 429 without checking the
	// token.
	Failures *ratelimit.FailureBudget
}

// Handler serves the UI.
type Handler struct {
	svc      *tokens.Service
	dcs      bigin.Datacenters
	public   *url.URL
	key      []byte
	now      func() time.Time
	logger   *slog.Logger
	sessions *sessions
	pages    map[string]*template.Template
	failures *ratelimit.FailureBudget
}

// New returns the UI's handler.
func New(o Options) (*Handler, error) {
	if o.Service == nil {
		return nil, errors.New("ui: a Service is required")
	}
	if len(o.Key) < 32 {
		return nil, errors.New("ui: the key must be at least 32 bytes")
	}
	pub, err := url.Parse(strings.TrimRight(o.PublicURL, "/"))
	if err != nil {
		return nil, errors.New("ui: the public URL does not parse")
	}
	h := &Handler{
		svc: o.Service, dcs: o.Datacenters, public: pub, key: o.Key,
		now: clock.OrSystem(o.Clock).Now, logger: o.Logger, failures: o.Failures,
	}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	h.sessions = newSessions(h.now)
	if h.pages, err = parsePages(); err != nil {
		return nil, err
	}
	return h, nil
}

// Register mounts the UI under /ui/ on mux.
func (h *Handler) Register(mux httpx.Router) {
	ui := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	ui.Handle("GET "+StaticPath, http.StripPrefix(StaticPath, http.FileServerFS(static)))
	ui.HandleFunc("GET /ui/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/accounts", http.StatusSeeOther)
	})
	ui.HandleFunc("GET /ui/signin", h.handleSignInPage)
	ui.HandleFunc("POST /ui/signin", h.handleSignIn)

	signed := func(pattern string, fn func(http.ResponseWriter, *http.Request, *session)) {
		ui.Handle(pattern, h.requireSession(fn))
	}
	signed("POST /ui/signout", h.handleSignOut)
	signed("GET /ui/accounts", h.handleAccounts)
	signed("GET /ui/accounts/{id}", h.handleAccount)
	signed("GET /ui/accounts/{id}/delete", h.handleAccountDeletePage)
	signed("POST /ui/accounts/{id}/delete", h.handleAccountDelete)
	signed("POST /ui/accounts/{id}/reconnect", h.handleAccountReconnect)
	signed("POST /ui/accounts/{id}/rate-limit", h.handleAccountRateLimit)
	signed("POST /ui/accounts/{id}/mcp", h.handleMint)
	signed("POST /ui/accounts/{id}/mcp/preview", h.handleMintPreview)
	signed("GET /ui/accounts/{id}/mcp/{mcp_id}", h.handleURLPage)
	signed("POST /ui/accounts/{id}/mcp/{mcp_id}", h.handleURLUpdate)
	signed("GET /ui/accounts/{id}/mcp/{mcp_id}/delete", h.handleURLDeletePage)
	signed("POST /ui/accounts/{id}/mcp/{mcp_id}/delete", h.handleURLDelete)
	signed("GET /ui/tools", h.handleTools)
	signed("GET /ui/connect-links", h.handleConnectLinks)
	signed("POST /ui/connect-links", h.handleConnectLinkCreate)
	signed("POST /ui/connect-links/{id}/revoke", h.handleConnectLinkRevoke)
	signed("GET /ui/audit", h.handleAudit)
	signed("GET /ui/api-tokens", h.handleAPITokens)
	signed("POST /ui/api-tokens", h.handleAPITokenCreate)
	signed("GET /ui/api-tokens/{id}/delete", h.handleAPITokenDeletePage)
	signed("POST /ui/api-tokens/{id}/delete", h.handleAPITokenDelete)

	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header())
		if r.Method == http.MethodPost {
			if !h.sameOrigin(r) {
				h.problem(w, r, http.StatusForbidden, "Refused", crossSiteMessage)
				return
			}
			if err := httpx.ParseForm(w, r, maxFormBytes); err != nil {
				switch code, _, _ := httpx.Classify(r.Context(), err); code {
				case tokens.CodeTooLarge:
					h.problem(w, r, http.StatusRequestEntityTooLarge, "Too large", "The form is larger than this server accepts.")
				case tokens.CodeRequestTimeout:
					h.problem(w, r, http.StatusRequestTimeout, "Too slow", "The form did not arrive in time. Send it again.")
				default:
					h.problem(w, r, http.StatusBadRequest, "Bad form", "The form could not be read.")
				}
				return
			}
		}
		if _, pattern := ui.Handler(r); pattern == "" {
			h.problem(w, r, http.StatusNotFound, "Not found", "There is no such page.")
			return
		}
		httpx.Annotate(r.Context(), "route", "ui")
		ui.ServeHTTP(w, r)
	})
	mux.Handle(Path, root)
	mux.HandleFunc("GET /ui", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Path, http.StatusMovedPermanently)
	})
}

func setSecurityHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: under no-referrer browsers send
	// "Origin: null" on form posts, which sameOrigin must refuse.
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store")
}

// secure reports whether the browser reaches the UI over HTTPS.
func (h *Handler) secure(r *http.Request) bool {
	return r.TLS != nil || h.public.Scheme == "https"
}

// crossSiteMessage is the refusal page's text when sameOrigin says no.
const crossSiteMessage = "This form was sent from another site, so it was refused. Open the page on this server and send it again."

// sameOrigin refuses (false) a post that a browser says came from another
// site: by Sec-Fetch-Site, or by an Origin that is neither the server's
// as the request reached it nor its public URL's. (SameSite=Strict keeps
// the session cookie off such posts too, and the CSRF token is checked
// after this.)
func (h *Handler) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not from a browser that sends one; the CSRF token decides
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if origin == scheme+"://"+r.Host {
		return true
	}
	return h.public.Host != "" && origin == h.public.Scheme+"://"+h.public.Host
}

type ctxKey struct{}

// requireSession runs fn for a request of a signed-in browser. Without a
// live session a page request goes to the sign-in page and a post is
// refused. A post must carry the session's CSRF token. Changes are
// audited as the session's API token's.
func (h *Handler) requireSession(fn func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie(cookieSession)
		var sess *session
		if c != nil {
			sess = h.sessions.get(c.Value)
		}
		var tok *tokens.APIToken
		if sess != nil {
			var err error
			if tok, err = h.svc.APITokenByHash(r.Context(), sess.apiTokenHash); err != nil {
				if !errors.Is(err, tokens.ErrUnauthenticated) {
					h.fail(w, r, nil, err)
					return
				}
				h.sessions.end(c.Value) // its API token was deleted
				sess = nil
			}
		}
		if sess == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
				return
			}
			h.problem(w, r, http.StatusUnauthorized, "Signed out", "Your session has ended. Sign in again, then repeat what you did.")
			return
		}
		if r.Method == http.MethodPost && !equalStrings(r.PostForm.Get("csrf"), sess.csrf) {
			h.problem(w, r, http.StatusForbidden, "Refused", "The form's security token is missing or stale. Reload the page and send it again.")
			return
		}
		r = httpx.Identify(r, &tokens.Caller{APIToken: tok})
		fn(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, sess)), sess)
	})
}

func equalStrings(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// signInCSRF is the sign-in form's CSRF token for the sign-in cookie's
// value.
func (h *Handler) signInCSRF(cookie string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte("bigin-mcp ui sign-in\x00"))
	m.Write([]byte(cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: Path, MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteStrictMode,
	})
}

func (h *Handler) handleSignInPage(w http.ResponseWriter, r *http.Request) {
	h.signInPage(w, r, http.StatusOK, "")
}

func (h *Handler) signInPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	value := randomString()
	h.setCookie(w, r, cookieSignIn, value, 3600)
	h.render(w, r, status, "signin", view{Title: "Sign in", Error: msg, CSRF: h.signInCSRF(value)})
}

func (h *Handler) handleSignIn(w http.ResponseWriter, r *http.Request) {
	c, _ := r.Cookie(cookieSignIn)
	if c == nil || !equalStrings(r.PostForm.Get("csrf"), h.signInCSRF(c.Value)) {
		h.signInPage(w, r, http.StatusForbidden, "The sign-in form was stale or came from elsewhere. Please sign in again.")
		return
	}
	addr := httpx.ClientAddr(r)
	if h.failures != nil {
		if wait, blocked := h.failures.Blocked(addr); blocked {
			httpx.RetryAfter(w, wait)
			h.signInPage(w, r, http.StatusTooManyRequests, "Too many failed sign-ins from your address. Wait "+
				w.Header().Get("Retry-After")+" seconds, then sign in again.")
			return
		}
	}
	tok := strings.TrimSpace(r.PostForm.Get("token"))
	t, err := h.svc.AuthenticateAPIToken(r.Context(), tok)
	if errors.Is(err, tokens.ErrUnauthenticated) {
		if h.failures != nil && h.failures.Fail(addr) {
			h.logger.WarnContext(r.Context(), "an address spent its budget of wrong tokens", "client_addr", addr)
		}
		h.signInPage(w, r, http.StatusUnauthorized, "This API token is unknown or was deleted.")
		return
	}
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	if !t.Allows(tokens.ScopeAdmin) {
		// The UI does what the admin API does: it needs the admin scope.
		h.signInPage(w, r, http.StatusForbidden, "This API token is limited to other scopes; sign in with a token that has the admin scope.")
		return
	}
	value, _ := h.sessions.create(t)
	h.setCookie(w, r, cookieSignIn, "", -1)
	h.setCookie(w, r, cookieSession, value, 0)
	httpx.Annotate(r.Context(), "api_token_id", t.ID)
	h.logger.InfoContext(r.Context(), "ui sign-in", "api_token_id", t.ID)
	http.Redirect(w, r, "/ui/accounts", http.StatusSeeOther)
}

func (h *Handler) handleSignOut(w http.ResponseWriter, r *http.Request, _ *session) {
	if c, _ := r.Cookie(cookieSession); c != nil {
		h.sessions.end(c.Value)
	}
	h.setCookie(w, r, cookieSession, "", -1)
	http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
}

// view is what every page template gets.
type view struct {
	Title   string
	Nav     string // the section the page belongs to
	Session *session
	Who     string // the name of the API token signed in
	CSRF    string
	Error   string
	Notice  string
	Data    any
}

// render writes a page. Templates are executed into a buffer first, so a
// template error is a clean 500 rather than half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	if sess, ok := r.Context().Value(ctxKey{}).(*session); ok {
		v.Session, v.CSRF, v.Who = sess, sess.csrf, sess.apiTokenName
	}
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		h.logger.ErrorContext(r.Context(), "ui template", "page", name, "err", err)
		http.Error(w, "internal error; the server log has the details", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// problem answers with a page that says what went wrong.
func (h *Handler) problem(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	h.render(w, r, status, "problem", view{Title: title, Error: msg})
}

// fail answers a failed request: with again (re-rendering the form with
// the message) when set and the error is the user's to fix, with a
// problem page otherwise. The status comes from the error's code, as in
// the admin API; errors it does not know are logged and shown as
// internal.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, again func(status int, msg string), err error) {
	code, msg, known := httpx.Classify(r.Context(), err)
	if !known {
		h.logger.ErrorContext(r.Context(), "ui request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	status := httpx.StatusOf(code)
	if again != nil && status < 500 && status != http.StatusNotFound {
		again(status, msg)
		return
	}
	if ra := httpx.RetryAfterOf(code); ra != "" { // a store that did not answer in time
		w.Header().Set("Retry-After", ra)
	}
	h.problem(w, r, status, http.StatusText(status), msg)
}

// dateTime formats a time for a page: UTC, to the second.
func dateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}
