package connect

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// --- state: signed, expiring, bound to one link ---

const stateVersion = 1

// signState returns base64url(version | expiry | nonce | link id) + "." +
// base64url(HMAC-SHA256). Single use comes from the link itself, which the
// callback marks used in the same transaction that creates the account.
func (h *Handler) signState(linkID string, expires time.Time) string {
	buf := make([]byte, 0, 1+8+16+len(linkID))
	buf = append(buf, stateVersion)
	buf = binary.BigEndian.AppendUint64(buf, uint64(expires.Unix()))
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	buf = append(buf, nonce[:]...)
	buf = append(buf, linkID...)
	return base64.RawURLEncoding.EncodeToString(buf) + "." + base64.RawURLEncoding.EncodeToString(h.stateMAC(buf))
}

func (h *Handler) stateMAC(payload []byte) []byte {
	m := hmac.New(sha256.New, h.stateKey)
	m.Write([]byte("bigin-mcp oauth state\x00"))
	m.Write(payload)
	return m.Sum(nil)
}

var errBadState = errors.New("invalid state")

// checkState returns the link id of a state this server signed and that has
// not expired.
func (h *Handler) checkState(state string) (string, error) {
	p, m, ok := strings.Cut(state, ".")
	if !ok {
		return "", errBadState
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(m)
	if err1 != nil || err2 != nil || len(payload) < 1+8+16+1 || payload[0] != stateVersion {
		return "", errBadState
	}
	if !hmac.Equal(mac, h.stateMAC(payload)) {
		return "", errBadState
	}
	if h.now().Unix() >= int64(binary.BigEndian.Uint64(payload[1:9])) {
		return "", errBadState
	}
	return string(payload[25:]), nil
}

// --- the customer-facing pages ---

func (h *Handler) handleConnect(w http.ResponseWriter, r *http.Request) {
	l, st, err := h.svc.ConnectLinkByToken(r.Context(), r.PathValue("link"))
	if err != nil {
		h.failed(w, r, err, "Please try the link again in a moment.")
		return
	}
	if l != nil {
		httpx.Annotate(r.Context(), "connect_link_id", l.ID)
	}
	if st != tokens.LinkUsable {
		h.linkProblem(w, st)
		return
	}
	dcKey := l.Datacenter
	if dcKey == "" {
		// No region is ever chosen for the customer: a wrong one sends
		// them to sign in at a Zoho that does not know them.
		q := r.URL.Query()
		dcKey = strings.ToLower(strings.TrimSpace(q.Get("dc")))
		if dcKey == "" {
			status, msg := http.StatusOK, ""
			if q.Has("dc") {
				status, msg = http.StatusBadRequest, "Please choose your region: there is no default."
			}
			h.page(w, status, pagePick, pageData{Title: "Connect your Zoho Bigin", Name: l.Name, Message: msg, Datacenters: h.datacenterChoices()})
			return
		}
	}
	dc, err := h.dcs.Get(dcKey)
	if err != nil {
		h.page(w, http.StatusBadRequest, pagePick, pageData{Title: "Connect your Zoho Bigin", Name: l.Name, Message: "Please pick one of the regions below.", Datacenters: h.datacenterChoices()})
		return
	}
	expires := h.now().Add(stateLifetime)
	if l.ExpiresAt.Before(expires) {
		expires = l.ExpiresAt
	}
	state := h.signState(l.ID, expires)
	http.Redirect(w, r, bigin.AuthCodeURL(dc.AccountsURL, h.clientID, h.redirectURI(), state), http.StatusFound)
}

func (h *Handler) linkProblem(w http.ResponseWriter, st tokens.LinkState) {
	switch st {
	case tokens.LinkUsed:
		h.page(w, http.StatusGone, pageError, pageData{Title: "This link was already used",
			Message: "A Zoho Bigin account was already connected with this link. If you need to connect again, ask for a new link."})
	case tokens.LinkRevoked:
		h.page(w, http.StatusGone, pageError, pageData{Title: "This link was withdrawn",
			Message: "The service that sent you this link withdrew it, so nothing can be connected with it. Please ask for a new link."})
	case tokens.LinkExpired:
		h.page(w, http.StatusGone, pageError, pageData{Title: "This link has expired",
			Message: "Connect links work for a limited time. Please ask for a new link."})
	default:
		h.page(w, http.StatusNotFound, pageError, pageData{Title: "This link is not valid",
			Message: "Check that you opened the whole link, or ask for a new one."})
	}
}

type dcChoice struct{ Key, Label string }

// datacenterChoices lists the configured datacenters for the picker,
// each labelled with the server the customer will be sent to.
func (h *Handler) datacenterChoices() []dcChoice {
	var out []dcChoice
	for _, k := range h.dcs.Keys() {
		out = append(out, dcChoice{Key: k, Label: h.dcs.Label(k)})
	}
	return out
}

func (h *Handler) handleCallback(w http.ResponseWriter, r *http.Request) {
	if h.signIn != nil && h.signIn(w, r) {
		return
	}
	q := r.URL.Query()
	invalid := pageData{Title: "This sign-in is not valid",
		Message: "The sign-in could not be matched to a connect link, or it took too long. Please open your connect link again."}
	linkID, err := h.checkState(q.Get("state"))
	if err != nil {
		h.page(w, http.StatusBadRequest, pageError, invalid)
		return
	}
	httpx.Annotate(r.Context(), "connect_link_id", linkID)
	l, st, err := h.svc.ConnectLinkByID(r.Context(), linkID)
	if err != nil {
		h.failed(w, r, err, "Please open your connect link again in a moment.")
		return
	}
	if l == nil {
		h.page(w, http.StatusBadRequest, pageError, invalid)
		return
	}
	if st != tokens.LinkUsable {
		h.linkProblem(w, st)
		return
	}
	if e := q.Get("error"); e != "" {
		// The link stays usable: declining by mistake should not cost the
		// customer a new link.
		msg := "Zoho reported: " + clipText(e, 80) + ". Nothing was connected. You can open your connect link again to retry."
		if e == "access_denied" {
			msg = "You declined access at Zoho, so nothing was connected. If that was a mistake, open your connect link again."
		}
		h.page(w, http.StatusBadRequest, pageError, pageData{Title: "Not connected", Message: msg})
		return
	}
	code := q.Get("code")
	accountsServer := q.Get("accounts-server")
	dc, ok := h.dcs.ByAccountsServer(accountsServer)
	if code == "" || !ok {
		// An unknown accounts server never receives the code or our secret.
		h.logger.WarnContext(r.Context(), "connect callback refused", "reason", "unknown accounts-server or no code", "accounts_server", clipText(accountsServer, 100))
		h.page(w, http.StatusBadRequest, pageError, pageData{Title: "Not connected",
			Message: "The answer from Zoho named a Zoho region this server does not know, so nothing was connected. Please contact the service that sent you the link."})
		return
	}
	if loc := strings.ToLower(q.Get("location")); loc != "" {
		if other, err := h.dcs.Get(loc); err == nil && other.AccountsURL != dc.AccountsURL {
			h.page(w, http.StatusBadRequest, pageError, pageData{Title: "Not connected",
				Message: "The answer from Zoho was inconsistent (its region and accounts server disagree), so nothing was connected. Please open your connect link again."})
			return
		}
	}
	a, err := h.complete(r.Context(), l, dc, code)
	if err != nil {
		var te *tokens.Error
		msg := "Zoho did not complete the connection. Please open your connect link again."
		status := http.StatusBadGateway
		if errors.Is(err, tokens.ErrConflict) {
			// Used or revoked meanwhile: say which.
			st := tokens.LinkUsed
			if now, _, lerr := h.svc.ConnectLinkByID(r.Context(), l.ID); lerr == nil && now != nil && now.UsedAt == nil && now.RevokedAt != nil {
				st = tokens.LinkRevoked
			}
			h.linkProblem(w, st)
			return
		}
		if errors.As(err, &te) && errors.Is(err, tokens.ErrWrongOrg) {
			// The link stays usable: signing in as the wrong Zoho user
			// should not cost the customer a new link.
			h.page(w, http.StatusBadRequest, pageError, pageData{Title: "Not reconnected",
				Message: "Nothing was changed: " + te.Message + ". Sign in at Zoho as a user of that organization, then open your link again."})
			return
		}
		if errors.Is(err, tokens.ErrNotFound) && l.ReconnectAccountID != "" {
			h.page(w, http.StatusGone, pageError, pageData{Title: "Not reconnected",
				Message: "The account this link was made to reconnect no longer exists, so nothing was changed. Please ask for a new link."})
			return
		}
		if errors.Is(err, bigin.ErrCodeRefused) {
			status = http.StatusBadRequest
			msg = "Zoho refused the sign-in (it may have been used already or taken too long). Please open your connect link again."
		} else if errors.As(err, &te) && te.Code == tokens.CodeInvalidArgument {
			status = http.StatusBadRequest
		}
		h.logger.WarnContext(r.Context(), "connect callback failed", "connect_link_id", l.ID, "err", err)
		h.page(w, status, pageError, pageData{Title: "Not connected", Message: msg})
		return
	}
	if l.ReconnectAccountID != "" {
		h.page(w, http.StatusOK, pageDone, pageData{Title: "Zoho Bigin reconnected", Name: a.OrgName, AccountID: a.ID, Reconnected: true})
		return
	}
	d := pageData{Title: "Zoho Bigin connected", Name: a.OrgName, AccountID: a.ID}
	for _, o := range h.svc.AccountsOfOrg(a.Datacenter, a.OrgID) {
		if o.ID != a.ID {
			d.SameOrg = append(d.SameOrg, o.ID)
		}
	}
	if len(d.SameOrg) > 0 {
		// Not refused (an operator may want two accounts), but said: most
		// often the customer meant to renew the connection they had.
		h.logger.WarnContext(r.Context(), "a connect link connected an org that was already connected",
			"account_id", a.ID, "org_id", a.OrgID, "datacenter", a.Datacenter, "existing_account_ids", d.SameOrg)
	}
	h.page(w, http.StatusOK, pageDone, d)
}

// complete exchanges the code at the datacenter, reads the org and creates
// the account (or, for a reconnect link, repairs its account), marking the
// link used in the same transaction.
func (h *Handler) complete(ctx context.Context, l *tokens.ConnectLink, dc bigin.Datacenter, code string) (*tokens.Account, error) {
	creds := tokens.Credentials{ClientID: h.clientID, ClientSecret: h.clientSecret}
	g, refresh, err := h.zoho.Exchange(ctx, dc, creds, code, h.redirectURI())
	if err != nil {
		return nil, err
	}
	return h.svc.CompleteConnect(ctx, l, dc.Key, refresh, g)
}

// clipText removes control characters from s and cuts it to at most n
// bytes, at a character boundary, marking a cut with "…". Invalid UTF-8
// becomes U+FFFD, so the result is always valid UTF-8.
func clipText(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > n {
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "…"
	}
	return s
}

// --- HTML ---

type pageData struct {
	Title       string
	Message     string
	Name        string
	AccountID   string
	Reconnected bool // the link repaired an existing account
	// SameOrg are the other accounts of the org just connected: the new
	// account is a second one for it.
	SameOrg     []string
	Datacenters []dcChoice
}

//go:embed templates/*.html
var templateFS embed.FS

var (
	pageError = mustPage("error.html")
	pagePick  = mustPage("pick.html")
	pageDone  = mustPage("done.html")
)

func mustPage(name string) *template.Template {
	return template.Must(template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/"+name))
}

// page renders a connect-flow page with headers that keep it from being
// framed, cached or leaking its URL (which holds the link) as a referrer.
func (h *Handler) page(w http.ResponseWriter, status int, t *template.Template, d pageData) {
	httpx.HTMLPage(w, h.logger, status, t, d, "connect page")
}

// failed answers a link that could not be loaded: 503 with Retry-After
// when the store did not answer in time (tokens.ErrUnavailable), 500
// (logged) for anything else; again says what to do.
func (h *Handler) failed(w http.ResponseWriter, r *http.Request, err error, again string) {
	if errors.Is(err, tokens.ErrUnavailable) {
		w.Header().Set("Retry-After", httpx.RetryAfterOf(tokens.CodeUnavailable))
		h.page(w, http.StatusServiceUnavailable, pageError, pageData{Title: "Not available right now", Message: again})
		return
	}
	h.logger.ErrorContext(r.Context(), "load connect link", "err", err)
	h.page(w, http.StatusInternalServerError, pageError, pageData{Title: "Something went wrong", Message: again})
}
