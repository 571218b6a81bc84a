package tokens

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/store"
)

// Connect links (SPEC §4): an admin mints a one-time link, the end
// customer follows it, picks their Zoho datacenter, consents at Zoho, and
// lands on /oauth/zoho/callback, which creates the integrated account.

// ConnectLinkPrefix starts every connect link token.
const ConnectLinkPrefix = "bmcp_link_"

// Connect link lifetimes.
const (
	DefaultConnectLinkLifetime = time.Hour
	MinConnectLinkLifetime     = time.Minute
	MaxConnectLinkLifetime     = 7 * 24 * time.Hour
	// stateLifetime bounds the time between leaving for Zoho's consent
	// page and coming back; a state never outlives its link either.
	stateLifetime = 15 * time.Minute
)

// CallbackPath is the OAuth redirect path; the Zoho client's redirect URI is
// PublicURL + CallbackPath.
const CallbackPath = "/oauth/zoho/callback"

func (s *Service) redirectURI() string { return s.opts.PublicURL + CallbackPath }

type connectLinkInput struct {
	Name             string `json:"name"`
	Datacenter       string `json:"datacenter"`
	ExpiresInSeconds *int64 `json:"expires_in_seconds"`
}

type connectLinkView struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Datacenter *string   `json:"datacenter"`
	URL        string    `json:"url"`
	ExpiresAt  time.Time `json:"expires_at"`
	CreatedAt  time.Time `json:"created_at"`
}

// CreateConnectLink mints a connect link and returns it with its URL, the
// only time the link's secret is shown.
func (s *Service) CreateConnectLink(ctx context.Context, name, datacenter string, lifetime time.Duration) (*store.ConnectLink, string, error) {
	if s.opts.ZohoClientID == "" || s.opts.ZohoClientSecret == "" {
		return nil, "", invalidf("connect links need the server's Zoho OAuth client: set BIGIN_MCP_ZOHO_CLIENT_ID and BIGIN_MCP_ZOHO_CLIENT_SECRET")
	}
	name = strings.TrimSpace(name)
	if name != "" {
		var err error
		if name, err = checkName(name, "name"); err != nil {
			return nil, "", err
		}
	}
	dc := strings.ToLower(strings.TrimSpace(datacenter))
	if dc != "" {
		if _, err := s.opts.Datacenters.Get(dc); err != nil {
			return nil, "", invalidf("unknown datacenter %q; valid datacenters: %s", datacenter, strings.Join(s.opts.Datacenters.Keys(), ", "))
		}
	}
	if lifetime < MinConnectLinkLifetime || lifetime > MaxConnectLinkLifetime {
		return nil, "", invalidf("expires_in_seconds must be between %d and %d", int(MinConnectLinkLifetime.Seconds()), int(MaxConnectLinkLifetime.Seconds()))
	}
	tok := newToken(ConnectLinkPrefix)
	now := s.now().UTC()
	l := &store.ConnectLink{
		ID:         newID(),
		Name:       name,
		Datacenter: dc,
		TokenHash:  HashToken(tok),
		ExpiresAt:  now.Add(lifetime).Truncate(time.Second),
		CreatedAt:  now,
	}
	if err := s.db.CreateConnectLink(ctx, l); err != nil {
		return nil, "", fmt.Errorf("store connect link: %w", err)
	}
	s.audit(ctx, "connect_link.create", "", "", "link "+l.ID)
	return l, s.opts.PublicURL + "/connect/" + tok, nil
}

func (s *Service) handleCreateConnectLink(w http.ResponseWriter, r *http.Request) error {
	var in connectLinkInput
	if err := decodeBody(w, r, &in); err != nil {
		return err
	}
	lifetime := DefaultConnectLinkLifetime
	if in.ExpiresInSeconds != nil {
		lifetime = time.Duration(*in.ExpiresInSeconds) * time.Second
		if *in.ExpiresInSeconds < 0 || *in.ExpiresInSeconds > int64(MaxConnectLinkLifetime.Seconds()) {
			lifetime = -1
		}
	}
	l, u, err := s.CreateConnectLink(r.Context(), in.Name, in.Datacenter, lifetime)
	if err != nil {
		return err
	}
	v := connectLinkView{ID: l.ID, Name: l.Name, URL: u, ExpiresAt: l.ExpiresAt.UTC(), CreatedAt: l.CreatedAt.UTC()}
	if l.Datacenter != "" {
		v.Datacenter = &l.Datacenter
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// --- state: signed, expiring, bound to one link ---

const stateVersion = 1

// signState returns base64url(version | expiry | nonce | link id) + "." +
// base64url(HMAC-SHA256). Single use comes from the link itself, which the
// callback marks used in the same transaction that creates the account.
func (s *Service) signState(linkID string, expires time.Time) string {
	buf := make([]byte, 0, 1+8+16+len(linkID))
	buf = append(buf, stateVersion)
	buf = binary.BigEndian.AppendUint64(buf, uint64(expires.Unix()))
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	buf = append(buf, nonce[:]...)
	buf = append(buf, linkID...)
	return base64.RawURLEncoding.EncodeToString(buf) + "." + base64.RawURLEncoding.EncodeToString(s.stateMAC(buf))
}

func (s *Service) stateMAC(payload []byte) []byte {
	m := hmac.New(sha256.New, s.stateKey)
	m.Write([]byte("bigin-mcp oauth state\x00"))
	m.Write(payload)
	return m.Sum(nil)
}

var errBadState = errors.New("invalid state")

// checkState returns the link id of a state this server signed and that has
// not expired.
func (s *Service) checkState(state string) (string, error) {
	p, m, ok := strings.Cut(state, ".")
	if !ok {
		return "", errBadState
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(m)
	if err1 != nil || err2 != nil || len(payload) < 1+8+16+1 || payload[0] != stateVersion {
		return "", errBadState
	}
	if !hmac.Equal(mac, s.stateMAC(payload)) {
		return "", errBadState
	}
	if s.now().Unix() >= int64(binary.BigEndian.Uint64(payload[1:9])) {
		return "", errBadState
	}
	return string(payload[25:]), nil
}

// --- the customer-facing pages ---

// registerConnect mounts the two pages the end customer sees; they need no
// API token (the link and the signed state are the credentials).
func (s *Service) registerConnect(mux *http.ServeMux) {
	mux.HandleFunc("GET /connect/{link}", s.handleConnect)
	mux.HandleFunc("GET "+CallbackPath, s.handleCallback)
}

// linkState is why a link cannot be used.
type linkState int

const (
	linkUsable linkState = iota
	linkUnknown
	linkUsed
	linkExpired
)

func (s *Service) linkStatus(l *store.ConnectLink) linkState {
	switch {
	case l.UsedAt != nil:
		return linkUsed
	case !s.now().Before(l.ExpiresAt):
		return linkExpired
	}
	return linkUsable
}

func (s *Service) handleConnect(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("link")
	var l *store.ConnectLink
	if strings.HasPrefix(tok, ConnectLinkPrefix) && len(tok) == len(ConnectLinkPrefix)+randomChars {
		var err error
		l, err = s.db.ConnectLinkByHash(r.Context(), HashToken(tok))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.logger.ErrorContext(r.Context(), "load connect link", "err", err)
			s.page(w, http.StatusInternalServerError, pageError, pageData{Title: "Something went wrong", Message: "Please try the link again in a moment."})
			return
		}
	}
	if l == nil {
		s.linkProblem(w, linkUnknown)
		return
	}
	Annotate(r.Context(), "connect_link_id", l.ID)
	if st := s.linkStatus(l); st != linkUsable {
		s.linkProblem(w, st)
		return
	}
	dcKey := l.Datacenter
	if dcKey == "" {
		dcKey = strings.ToLower(r.URL.Query().Get("dc"))
	}
	if dcKey == "" {
		s.page(w, http.StatusOK, pagePick, pageData{Title: "Connect your Zoho Bigin", Name: l.Name, Datacenters: s.datacenterChoices()})
		return
	}
	dc, err := s.opts.Datacenters.Get(dcKey)
	if err != nil {
		s.page(w, http.StatusBadRequest, pagePick, pageData{Title: "Connect your Zoho Bigin", Name: l.Name, Message: "Please pick one of the regions below.", Datacenters: s.datacenterChoices()})
		return
	}
	expires := s.now().Add(stateLifetime)
	if l.ExpiresAt.Before(expires) {
		expires = l.ExpiresAt
	}
	state := s.signState(l.ID, expires)
	http.Redirect(w, r, bigin.AuthCodeURL(dc.AccountsURL, s.opts.ZohoClientID, s.redirectURI(), state), http.StatusFound)
}

func (s *Service) linkProblem(w http.ResponseWriter, st linkState) {
	switch st {
	case linkUsed:
		s.page(w, http.StatusGone, pageError, pageData{Title: "This link was already used",
			Message: "A Zoho Bigin account was already connected with this link. If you need to connect again, ask for a new link."})
	case linkExpired:
		s.page(w, http.StatusGone, pageError, pageData{Title: "This link has expired",
			Message: "Connect links work for a limited time. Please ask for a new link."})
	default:
		s.page(w, http.StatusNotFound, pageError, pageData{Title: "This link is not valid",
			Message: "Check that you opened the whole link, or ask for a new one."})
	}
}

type dcChoice struct{ Key, Label string }

var dcLabels = map[string]string{
	"us": "United States (zoho.com)", "eu": "Europe (zoho.eu)", "in": "India (zoho.in)",
	"au": "Australia (zoho.com.au)", "jp": "Japan (zoho.jp)", "ca": "Canada (zohocloud.ca)",
	"sa": "Saudi Arabia (zoho.sa)", "cn": "China (zoho.com.cn)", "uk": "United Kingdom (zoho.uk)",
}

func (s *Service) datacenterChoices() []dcChoice {
	var out []dcChoice
	for _, k := range s.opts.Datacenters.Keys() {
		label := dcLabels[k]
		if label == "" {
			label = k
		}
		out = append(out, dcChoice{Key: k, Label: label})
	}
	return out
}

func (s *Service) handleCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	invalid := pageData{Title: "This sign-in is not valid",
		Message: "The sign-in could not be matched to a connect link, or it took too long. Please open your connect link again."}
	linkID, err := s.checkState(q.Get("state"))
	if err != nil {
		s.page(w, http.StatusBadRequest, pageError, invalid)
		return
	}
	Annotate(r.Context(), "connect_link_id", linkID)
	l, err := s.db.ConnectLink(r.Context(), linkID)
	if errors.Is(err, store.ErrNotFound) {
		s.page(w, http.StatusBadRequest, pageError, invalid)
		return
	}
	if err != nil {
		s.logger.ErrorContext(r.Context(), "load connect link", "err", err)
		s.page(w, http.StatusInternalServerError, pageError, pageData{Title: "Something went wrong", Message: "Please open your connect link again in a moment."})
		return
	}
	if st := s.linkStatus(l); st != linkUsable {
		s.linkProblem(w, st)
		return
	}
	if e := q.Get("error"); e != "" {
		// The link stays usable: declining by mistake should not cost the
		// customer a new link.
		msg := "Zoho reported: " + clipText(e, 80) + ". Nothing was connected. You can open your connect link again to retry."
		if e == "access_denied" {
			msg = "You declined access at Zoho, so nothing was connected. If that was a mistake, open your connect link again."
		}
		s.page(w, http.StatusBadRequest, pageError, pageData{Title: "Not connected", Message: msg})
		return
	}
	code := q.Get("code")
	accountsServer := q.Get("accounts-server")
	dc, ok := s.opts.Datacenters.ByAccountsServer(accountsServer)
	if code == "" || !ok {
		// An unknown accounts server never receives the code or our secret.
		s.logger.WarnContext(r.Context(), "connect callback refused", "reason", "unknown accounts-server or no code", "accounts_server", clipText(accountsServer, 100))
		s.page(w, http.StatusBadRequest, pageError, pageData{Title: "Not connected",
			Message: "The answer from Zoho named a Zoho region this server does not know, so nothing was connected. Please contact the service that sent you the link."})
		return
	}
	if loc := strings.ToLower(q.Get("location")); loc != "" {
		if other, err := s.opts.Datacenters.Get(loc); err == nil && other.AccountsURL != dc.AccountsURL {
			s.page(w, http.StatusBadRequest, pageError, pageData{Title: "Not connected",
				Message: "The answer from Zoho was inconsistent (its region and accounts server disagree), so nothing was connected. Please open your connect link again."})
			return
		}
	}
	a, err := s.completeConnect(r.Context(), l, dc, code)
	if err != nil {
		var te *Error
		msg := "Zoho did not complete the connection. Please open your connect link again."
		status := http.StatusBadGateway
		if errors.Is(err, store.ErrConflict) {
			s.linkProblem(w, linkUsed)
			return
		}
		if errors.Is(err, bigin.ErrCodeRefused) {
			status = http.StatusBadRequest
			msg = "Zoho refused the sign-in (it may have been used already or taken too long). Please open your connect link again."
		} else if errors.As(err, &te) && te.Code == CodeInvalidArgument {
			status = http.StatusBadRequest
		}
		s.logger.WarnContext(r.Context(), "connect callback failed", "connect_link_id", l.ID, "err", err)
		s.page(w, status, pageError, pageData{Title: "Not connected", Message: msg})
		return
	}
	s.page(w, http.StatusOK, pageDone, pageData{Title: "Zoho Bigin connected", Name: a.OrgName, AccountID: a.ID})
}

// completeConnect exchanges the code at the datacenter, reads the org and
// creates the account, marking the link used in the same transaction.
func (s *Service) completeConnect(ctx context.Context, l *store.ConnectLink, dc bigin.Datacenter, code string) (*store.Account, error) {
	creds := bigin.Credentials{ClientID: s.opts.ZohoClientID, ClientSecret: s.opts.ZohoClientSecret}
	tok, refresh, err := bigin.Exchange(ctx, s.opts.Datacenters, dc.AccountsURL, creds, code, s.redirectURI(), s.opts.HTTPClient)
	if err != nil {
		return nil, fmt.Errorf("exchange code: %w", err)
	}
	creds.RefreshToken = refresh
	c, err := bigin.NewClient(bigin.Options{
		Datacenters: s.opts.Datacenters, Datacenter: dc.Key, Credentials: creds,
		APIDomain: tok.APIDomain, Token: &tok, HTTPClient: s.opts.HTTPClient, Now: s.now,
	})
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	raw, err := c.Org(ctx)
	if err != nil {
		return nil, fmt.Errorf("read org: %w", err)
	}
	orgID, orgName, err := parseOrg(raw)
	if err != nil {
		return nil, fmt.Errorf("read org: %w", err)
	}
	name := l.Name
	if name == "" {
		name = orgName
	}
	if name == "" {
		name = "Zoho Bigin " + orgID
	}
	now := s.now().UTC()
	a := &store.Account{
		ID:         newID(),
		Name:       name,
		Datacenter: dc.Key,
		APIDomain:  tok.APIDomain,
		OrgID:      orgID,
		OrgName:    orgName,
		Status:     store.StatusActive,
		CreatedAt:  now,
		UpdatedAt:  now,
		// ClientID empty: the account uses the server's OAuth client, the
		// one that minted its refresh token.
		RefreshToken: refresh,
		AccessToken:  tok.AccessToken,
		AccessExpiry: tok.Expiry,
	}
	if err := s.db.UseConnectLink(ctx, l.ID, a); err != nil {
		return nil, err
	}
	if err := s.SyncAccount(ctx, a.ID); err != nil {
		s.logger.ErrorContext(ctx, "index connected account", "account_id", a.ID, "err", err)
	}
	s.audit(WithActor(ctx, "connect_link:"+l.ID), "account.create", a.ID, "", "connect link, datacenter "+dc.Key+", org "+orgID)
	return a, nil
}

func clipText(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > n {
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
	Datacenters []dcChoice
}

const pageLayout = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1c1e21}
main{max-width:28rem;margin:2.5rem auto;padding:1.5rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.08)}
h1{font-size:1.35rem;margin:0 0 .75rem}p{line-height:1.5}
label{display:block;font-weight:600;margin:1rem 0 .4rem}
select,button{width:100%;font-size:1rem;padding:.7rem;border-radius:8px;border:1px solid #c8ccd2;box-sizing:border-box}
button{margin-top:1rem;background:#0b63ce;color:#fff;border:0;font-weight:600}
code{background:#eef0f3;padding:.1rem .3rem;border-radius:4px;word-break:break-all}
.muted{color:#606770;font-size:.9rem}
</style></head><body><main>
<h1>{{.Title}}</h1>
{{template "body" .}}
</main></body></html>`

var (
	pageError = mustPage(`{{define "body"}}<p>{{.Message}}</p>{{end}}`)
	pagePick  = mustPage(`{{define "body"}}
{{if .Message}}<p>{{.Message}}</p>{{end}}
<p>{{if .Name}}You are connecting <strong>{{.Name}}</strong>. {{end}}Choose the region where your Zoho account lives; you will sign in at Zoho and allow read and user-management access to Zoho Bigin.</p>
<form method="get">
<label for="dc">Zoho region</label>
<select id="dc" name="dc">{{range .Datacenters}}<option value="{{.Key}}">{{.Label}}</option>{{end}}</select>
<button type="submit">Continue to Zoho</button>
</form>
<p class="muted">Not sure? Your Zoho sign-in address tells you: accounts.zoho.eu is Europe, accounts.zoho.in is India, and so on.</p>
{{end}}`)
	pageDone = mustPage(`{{define "body"}}
<p>{{if .Name}}<strong>{{.Name}}</strong> is{{else}}Your Zoho Bigin account is{{end}} now connected. You can close this page.</p>
<p class="muted">Account id: <code>{{.AccountID}}</code></p>
{{end}}`)
)

func mustPage(body string) *template.Template {
	return template.Must(template.Must(template.New("page").Parse(pageLayout)).Parse(body))
}

// page renders a connect-flow page with headers that keep it from being
// framed, cached or leaking its URL (which holds the link) as a referrer.
func (s *Service) page(w http.ResponseWriter, status int, t *template.Template, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if err := t.Execute(w, d); err != nil {
		s.logger.Error("render connect page", "err", err)
	}
}
