package ui

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// pageSize is how many rows a list page shows.
const pageSize = 50

// --- accounts ---

type accountsData struct {
	Accounts []accountRow
	Next     string // the after value of the next page, "" for none
	Link     *createdLink
}

// accountRow is a listed account with the other accounts of its Zoho
// org, if any.
type accountRow struct {
	*tokens.Account
	SameOrg []*sameOrgInfo
}

// sameOrgInfo is another account connected to the same Zoho org.
type sameOrgInfo struct {
	ID, Name string
	Older    bool // created before the account it is shown beside
}

// sameOrg returns the accounts of the Zoho org of the account except,
// oldest first: connecting an org again makes a second account, which the
// pages point out, offering a reconnect of the existing one instead.
func (h *Handler) sameOrg(datacenter, orgID, except string) []*sameOrgInfo {
	var out []*sameOrgInfo
	older := true
	for _, a := range h.svc.AccountsOfOrg(datacenter, orgID) {
		if a.ID == except {
			older = false
			continue
		}
		out = append(out, &sameOrgInfo{ID: a.ID, Name: a.Name, Older: older})
	}
	return out
}

func (h *Handler) handleAccounts(w http.ResponseWriter, r *http.Request, _ *session) {
	h.accountsPage(w, r, http.StatusOK, nil, "")
}

func (h *Handler) accountsPage(w http.ResponseWriter, r *http.Request, status int, link *createdLink, msg string) {
	list, more, err := h.svc.Accounts(r.Context(), r.URL.Query().Get("after"), pageSize)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	d := accountsData{Link: link}
	for _, a := range list {
		d.Accounts = append(d.Accounts, accountRow{Account: a, SameOrg: h.sameOrg(a.Datacenter, a.OrgID, a.ID)})
	}
	if more && len(list) > 0 {
		d.Next = list[len(list)-1].ID
	}
	h.render(w, r, status, "accounts", view{Title: "Accounts", Nav: "accounts", Error: msg, Data: d})
}

type confirmData struct {
	What   string // what is deleted, in words
	Effect string // what deleting it does
	Action string // where the form posts
	Back   string // where cancel goes
}

func (h *Handler) handleAccountDeletePage(w http.ResponseWriter, r *http.Request, _ *session) {
	a, err := h.svc.Account(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	h.render(w, r, http.StatusOK, "confirm", view{Title: "Delete account", Nav: "accounts", Data: confirmData{
		What:   "the integrated account " + a.Name + " (" + a.OrgName + ")",
		Effect: "Every MCP URL of this account stops working at once. Its Zoho credentials are erased. Audit entries stay.",
		Action: "/ui/accounts/" + a.ID + "/delete", Back: "/ui/accounts",
	}})
}

func (h *Handler) handleAccountDelete(w http.ResponseWriter, r *http.Request, _ *session) {
	if err := h.svc.DeleteAccount(r.Context(), r.PathValue("id")); err != nil {
		h.fail(w, r, nil, err)
		return
	}
	http.Redirect(w, r, "/ui/accounts", http.StatusSeeOther)
}

// handleAccountReconnect makes a reconnect link for an account whose Zoho
// grant stopped working: named after it, fixed to its datacenter, and
// repairing that same account (its id and MCP URLs stay).
func (h *Handler) handleAccountReconnect(w http.ResponseWriter, r *http.Request, _ *session) {
	a, err := h.svc.Account(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	l, u, err := h.svc.CreateReconnectLink(r.Context(), a.ID, a.Name, "", tokens.DefaultConnectLinkLifetime)
	if err != nil {
		h.fail(w, r, func(status int, msg string) { h.accountsPage(w, r, status, nil, msg) }, err)
		return
	}
	h.accountsPage(w, r, http.StatusCreated, &createdLink{Link: l, URL: u, For: a}, "")
}

// --- connect links ---

// createdLink is a link just made: the only page that shows its URL.
type createdLink struct {
	Link *tokens.ConnectLink
	URL  string
	For  *tokens.Account // the account a reconnect link is for
}

type linkRow struct {
	*tokens.ConnectLink
	State string
}

type lifetime struct {
	Seconds int64
	Label   string
}

var linkLifetimes = []lifetime{
	{3600, "1 hour"}, {6 * 3600, "6 hours"}, {86400, "1 day"}, {3 * 86400, "3 days"}, {7 * 86400, "7 days"},
}

type connectLinksData struct {
	Links       []linkRow
	Next        string
	Created     *createdLink
	Datacenters []string
	Lifetimes   []lifetime
	Form        linkForm
}

type linkForm struct {
	Name       string
	Datacenter string
	Seconds    int64
}

func (h *Handler) handleConnectLinks(w http.ResponseWriter, r *http.Request, _ *session) {
	h.connectLinksPage(w, r, http.StatusOK, nil, linkForm{Seconds: int64(tokens.DefaultConnectLinkLifetime.Seconds())}, "")
}

func (h *Handler) connectLinksPage(w http.ResponseWriter, r *http.Request, status int, created *createdLink, form linkForm, msg string) {
	list, more, err := h.svc.ConnectLinks(r.Context(), r.URL.Query().Get("after"), pageSize)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	d := connectLinksData{Created: created, Datacenters: h.dcs.Keys(), Lifetimes: linkLifetimes, Form: form}
	for _, l := range list {
		d.Links = append(d.Links, linkRow{ConnectLink: l, State: h.svc.ConnectLinkState(l).String()})
	}
	if more && len(list) > 0 {
		d.Next = list[len(list)-1].ID
	}
	h.render(w, r, status, "connectlinks", view{Title: "Connect links", Nav: "connect-links", Error: msg, Data: d})
}

func (h *Handler) handleConnectLinkCreate(w http.ResponseWriter, r *http.Request, _ *session) {
	f := linkForm{Name: r.PostForm.Get("name"), Datacenter: r.PostForm.Get("datacenter")}
	var err error
	if f.Seconds, err = strconv.ParseInt(strings.TrimSpace(r.PostForm.Get("lifetime")), 10, 64); err != nil {
		f.Seconds = -1 // refused below with the Service's message
	}
	l, u, err := h.svc.CreateConnectLink(r.Context(), f.Name, f.Datacenter, tokens.ConnectLinkLifetime(f.Seconds))
	if err != nil {
		h.fail(w, r, func(status int, msg string) { h.connectLinksPage(w, r, status, nil, f, msg) }, err)
		return
	}
	h.connectLinksPage(w, r, http.StatusCreated, &createdLink{Link: l, URL: u},
		linkForm{Seconds: int64(tokens.DefaultConnectLinkLifetime.Seconds())}, "")
}

func (h *Handler) handleConnectLinkRevoke(w http.ResponseWriter, r *http.Request, _ *session) {
	if _, err := h.svc.RevokeConnectLink(r.Context(), r.PathValue("id")); err != nil {
		h.fail(w, r, nil, err)
		return
	}
	http.Redirect(w, r, "/ui/connect-links", http.StatusSeeOther)
}

// --- API tokens ---

type apiTokensData struct {
	Tokens   []tokenRow
	Next     string
	Created  *createdToken
	Form     tokenForm
	Scopes   []string          // the scopes a token can be limited to
	Accounts []*tokens.Account // the accounts a token can be limited to
}

// tokenForm is the new-token form as posted.
type tokenForm struct {
	Name       string
	Scopes     []string
	AccountIDs []string
}

// tokenRow is a listed token with the accounts it is limited to, named.
type tokenRow struct {
	*tokens.APIToken
	Accounts []accountRef
}

// accountRef names an account an API token is limited to; Name is empty
// for one that no longer exists (or is not among the first
// maxFormAccounts).
type accountRef struct{ ID, Name string }

type createdToken struct {
	Token *tokens.APIToken
	Value string
	Admin bool         // it signs in here and works for the admin API
	Reach []accountRef // the accounts it is limited to, named
}

// maxFormAccounts is how many accounts a form offers to choose from.
const maxFormAccounts = 200

func (h *Handler) handleAPITokens(w http.ResponseWriter, r *http.Request, _ *session) {
	h.apiTokensPage(w, r, http.StatusOK, nil, tokenForm{}, "")
}

func (h *Handler) apiTokensPage(w http.ResponseWriter, r *http.Request, status int, created *createdToken, form tokenForm, msg string) {
	list, more, err := h.svc.APITokens(r.Context(), r.URL.Query().Get("after"), pageSize)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	accounts, _, err := h.svc.Accounts(r.Context(), "", maxFormAccounts)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	d := apiTokensData{Created: created, Form: form, Scopes: tokens.APIScopes(), Accounts: accounts}
	if created != nil {
		created.Reach = refs(created.Token.AccountIDs, accounts)
	}
	for _, t := range list {
		d.Tokens = append(d.Tokens, tokenRow{APIToken: t, Accounts: refs(t.AccountIDs, accounts)})
	}
	if more && len(list) > 0 {
		d.Next = list[len(list)-1].ID
	}
	h.render(w, r, status, "apitokens", view{Title: "API tokens", Nav: "api-tokens", Error: msg, Data: d})
}

// refs names the account ids from accounts.
func refs(ids []string, accounts []*tokens.Account) []accountRef {
	out := make([]accountRef, 0, len(ids))
	for _, id := range ids {
		ref := accountRef{ID: id}
		for _, a := range accounts {
			if a.ID == id {
				ref.Name = a.Name
			}
		}
		out = append(out, ref)
	}
	return out
}

// handleAPITokenCreate makes a token with the name, scopes and accounts of
// the form, as the admin API's create does; none checked means no limit.
func (h *Handler) handleAPITokenCreate(w http.ResponseWriter, r *http.Request, _ *session) {
	f := tokenForm{Name: r.PostForm.Get("name"), Scopes: r.PostForm["scopes"], AccountIDs: r.PostForm["account_ids"]}
	t, tok, err := h.svc.CreateAPIToken(r.Context(), tokens.APITokenInput{Name: f.Name, Scopes: f.Scopes, AccountIDs: f.AccountIDs})
	if err != nil {
		h.fail(w, r, func(status int, msg string) { h.apiTokensPage(w, r, status, nil, f, msg) }, err)
		return
	}
	h.apiTokensPage(w, r, http.StatusCreated, &createdToken{Token: t, Value: tok, Admin: t.Allows(tokens.ScopeAdmin)}, tokenForm{}, "")
}

func (h *Handler) handleAPITokenDeletePage(w http.ResponseWriter, r *http.Request, sess *session) {
	id := r.PathValue("id")
	effect := "Programs and browsers using this token stop working at once."
	if id == sess.apiTokenID {
		effect += " This is the token you signed in with: you will be signed out."
	}
	h.render(w, r, http.StatusOK, "confirm", view{Title: "Delete API token", Nav: "api-tokens", Data: confirmData{
		What: "the API token " + id, Effect: effect,
		Action: "/ui/api-tokens/" + id + "/delete", Back: "/ui/api-tokens",
	}})
}

func (h *Handler) handleAPITokenDelete(w http.ResponseWriter, r *http.Request, sess *session) {
	id := r.PathValue("id")
	if err := h.svc.DeleteAPIToken(r.Context(), id); err != nil {
		h.fail(w, r, func(status int, msg string) { h.apiTokensPage(w, r, status, nil, tokenForm{}, msg) }, err)
		return
	}
	h.sessions.endToken(id)
	if id == sess.apiTokenID {
		h.setCookie(w, r, cookieSession, "", -1)
		http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/ui/api-tokens", http.StatusSeeOther)
}

// --- audit ---

// auditFilterForm is the audit page's filter as the form has it.
type auditFilterForm struct {
	Account, URL, Tool, Outcome, Since, Until string
}

type auditRow struct {
	*tokens.AuditEntry
	AccountName string
	ActorName   string // who acted, in words: an API token's name, not its id
	URLName     string // the MCP URL's name, "" when it is unknown or deleted
}

type auditData struct {
	Filter   auditFilterForm
	Entries  []auditRow
	Next     string // the before value of the next page
	NextQS   string
	Accounts []*tokens.Account
	Tools    []tokens.Tool
}

// formTimeLayout is how the filter's times are written (the browser's
// datetime-local input), read as UTC.
const formTimeLayout = "2006-01-02T15:04"

func parseFormTime(s, field string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{formTimeLayout, "2006-01-02T15:04:05", time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, &tokens.Error{Code: tokens.CodeInvalidArgument, Message: field + " must be a time such as 2026-11-30T12:00 (UTC)"}
}

func (h *Handler) handleAudit(w http.ResponseWriter, r *http.Request, _ *session) {
	q := r.URL.Query()
	f := auditFilterForm{
		Account: strings.TrimSpace(q.Get("account")), URL: strings.TrimSpace(q.Get("url")),
		Tool: strings.TrimSpace(q.Get("tool")), Outcome: strings.TrimSpace(q.Get("outcome")),
		Since: q.Get("since"), Until: q.Get("until"),
	}
	d := auditData{Filter: f, Tools: h.svc.Inventory().Tools()}
	accounts, _, err := h.svc.Accounts(r.Context(), "", 200)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	d.Accounts = accounts
	names := map[string]string{}
	for _, a := range accounts {
		names[a.ID] = a.Name
	}
	show := func(status int, msg string) {
		h.render(w, r, status, "audit", view{Title: "Audit", Nav: "audit", Error: msg, Data: d})
	}
	filter := tokens.AuditFilter{AccountID: f.Account, MCPServerID: f.URL, Tool: f.Tool, Outcome: f.Outcome}
	if filter.Since, err = parseFormTime(f.Since, "since"); err == nil {
		filter.Until, err = parseFormTime(f.Until, "until")
	}
	if err != nil {
		h.fail(w, r, show, err)
		return
	}
	entries, next, err := h.svc.Audit(r.Context(), filter, q.Get("before"), pageSize)
	if err != nil {
		h.fail(w, r, show, err)
		return
	}
	who := h.newActorNames()
	for _, e := range entries {
		d.Entries = append(d.Entries, auditRow{AuditEntry: e, AccountName: names[e.AccountID],
			ActorName: who.actor(r.Context(), e), URLName: who.url(r.Context(), e.AccountID, e.MCPServerID)})
	}
	if next != "" {
		nq := r.URL.Query()
		nq.Set("before", next)
		d.NextQS = nq.Encode()
	}
	show(http.StatusOK, "")
}

// actorNames names the actors and MCP URLs of one audit page, looking each
// up once: the page shows names, and keeps the ids in title attributes.
type actorNames struct {
	h      *Handler
	tokens map[string]string // API token id → name; nil until needed
	all    bool              // tokens holds every API token
	urls   map[string]string // MCP URL id → name ("" when not found)
	links  map[string]string // connect link id → what to call it
}

func (h *Handler) newActorNames() *actorNames {
	return &actorNames{h: h, urls: map[string]string{}, links: map[string]string{}}
}

// maxNamedTokens bounds how many API tokens an audit page reads to name
// its actors; a token beyond them shows as its id.
const maxNamedTokens = 1000

// actor is what the audit page calls the actor of e ("api_token:<id>",
// "mcp:<url id>", "connect_link:<id>", …): an API token by its name, an
// MCP URL and a connect link by theirs, anything else as recorded.
func (n *actorNames) actor(ctx context.Context, e *tokens.AuditEntry) string {
	kind, id, _ := strings.Cut(e.Actor, ":")
	switch kind {
	case "api_token":
		if n.tokens == nil {
			n.tokens = map[string]string{}
			after := ""
			for len(n.tokens) < maxNamedTokens {
				list, more, err := n.h.svc.APITokens(ctx, after, 100)
				if err != nil {
					n.h.logger.WarnContext(ctx, "ui audit: list API tokens", "err", err)
					break
				}
				for _, t := range list {
					n.tokens[t.ID], after = t.Name, t.ID
				}
				if !more || len(list) == 0 {
					n.all = true
					break
				}
			}
		}
		if name, ok := n.tokens[id]; ok {
			return name
		}
		if n.all {
			return "a deleted API token"
		}
	case "mcp":
		if name := n.url(ctx, e.AccountID, id); name != "" {
			return "MCP URL " + name
		}
		return "a deleted MCP URL"
	case "connect_link":
		name, ok := n.links[id]
		if !ok {
			name = "a connect link"
			if l, _, err := n.h.svc.ConnectLinkByID(ctx, id); err == nil && l != nil && l.Name != "" {
				name = "connect link " + l.Name
			}
			n.links[id] = name
		}
		return name
	}
	return e.Actor
}

// url is the name of the MCP URL id of the account, "" when it is unknown
// or was deleted.
func (n *actorNames) url(ctx context.Context, accountID, id string) string {
	if accountID == "" || id == "" {
		return ""
	}
	if name, ok := n.urls[id]; ok {
		return name
	}
	name := ""
	if m, err := n.h.svc.MCPServer(ctx, accountID, id); err == nil {
		name = m.Name
	}
	n.urls[id] = name
	return name
}
