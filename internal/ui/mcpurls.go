package ui

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// policyForm is an MCP URL's policy as the mint and edit forms hold it.
type policyForm struct {
	Name           string
	Methods        []string
	Tags           []string
	Modules        []string
	Auth           string
	OAuthProfiles  string // comma-separated
	MaxResultChars string // "" for the server's budget
	Expiry         string // one of expiryChoices' values
	ExpiresAt      string // RFC 3339, for Expiry "at"
	Rate           rateForm
}

// rateForm is a rate limit as a form holds it: both fields empty for none.
type rateForm struct {
	Requests   string
	PerSeconds string
}

// MaxRequests is the most calls a rate limit allows per window, for the
// form's input.
func (rateForm) MaxRequests() int { return tokens.MaxRateLimitRequests }

// MaxSeconds is the longest window of a rate limit, in seconds.
func (rateForm) MaxSeconds() int { return tokens.MaxRateLimitSeconds }

// readRate reads the rate-limit fields of a posted form.
func readRate(r *http.Request) rateForm {
	return rateForm{
		Requests:   strings.TrimSpace(r.PostForm.Get("rate_limit_requests")),
		PerSeconds: strings.TrimSpace(r.PostForm.Get("rate_limit_per_seconds")),
	}
}

// rateFormOf is the form of a rate limit (nil: none).
func rateFormOf(l *tokens.RateLimit) rateForm {
	if l == nil {
		return rateForm{}
	}
	return rateForm{Requests: strconv.Itoa(l.Requests), PerSeconds: strconv.Itoa(l.PerSeconds)}
}

// limit is the form's rate limit as the Service takes it: a pointer to
// the zero RateLimit for none, which removes a limit on an edit. Bounds
// are tokens.CheckRateLimit's, checked here too so that 0 is refused
// rather than read as none.
func (f rateForm) limit() (*tokens.RateLimit, error) {
	if f.Requests == "" && f.PerSeconds == "" {
		return &tokens.RateLimit{}, nil
	}
	if f.Requests == "" || f.PerSeconds == "" {
		return nil, &tokens.Error{Code: tokens.CodeInvalidArgument, Message: "a rate limit needs both a number of calls and a window in seconds; leave both empty for none"}
	}
	n, err1 := strconv.Atoi(f.Requests)
	secs, err2 := strconv.Atoi(f.PerSeconds)
	if err1 != nil || err2 != nil {
		return nil, &tokens.Error{Code: tokens.CodeInvalidArgument, Message: "a rate limit's calls and seconds must be whole numbers"}
	}
	l := &tokens.RateLimit{Requests: n, PerSeconds: secs}
	if err := tokens.CheckRateLimit(l, "rate_limit"); err != nil {
		return nil, err
	}
	return l, nil
}

type choice struct{ Value, Label string }

// expiryChoices are the expiry options of the forms; "keep" only edits.
var expiryChoices = []choice{
	{"never", "Never"}, {"1h", "In 1 hour"}, {"24h", "In 1 day"}, {"168h", "In 7 days"},
	{"720h", "In 30 days"}, {"2160h", "In 90 days"}, {"at", "At the time below (RFC 3339)"},
}

// readPolicy reads the policy fields of a posted form.
func readPolicy(r *http.Request) policyForm {
	f := r.PostForm
	return policyForm{
		Name: f.Get("name"), Methods: f["methods"], Tags: f["tags"], Modules: f["modules"], Auth: f.Get("auth"),
		OAuthProfiles: f.Get("oauth_profiles"), MaxResultChars: strings.TrimSpace(f.Get("max_result_chars")),
		Expiry: f.Get("expiry"), ExpiresAt: strings.TrimSpace(f.Get("expires_at")), Rate: readRate(r),
	}
}

// change is the form's policy as the Service takes it: every field set, so
// an edit replaces the policy with what the form shows. The rules
// (valid words and modules, a policy leaving some tool, auth and
// profiles, budget bounds) are the Service's.
func (f policyForm) change() (*tokens.ConfigChange, error) {
	methods, tags, modules, auth := nonNil(f.Methods), nonNil(f.Tags), nonNil(f.Modules), f.Auth
	if auth == "" {
		auth = tokens.AuthURL
	}
	profiles := []string{}
	for _, p := range strings.FieldsFunc(f.OAuthProfiles, func(r rune) bool { return r == ',' || r == '\n' }) {
		if p = strings.TrimSpace(p); p != "" {
			profiles = append(profiles, p)
		}
	}
	budget := 0
	if f.MaxResultChars != "" {
		n, err := strconv.Atoi(f.MaxResultChars)
		if err != nil {
			return nil, &tokens.Error{Code: tokens.CodeInvalidArgument, Message: "the result budget must be a whole number of characters, or empty for the server's"}
		}
		budget = n
	}
	rate, err := f.Rate.limit()
	if err != nil {
		return nil, err
	}
	return &tokens.ConfigChange{Methods: &methods, Tags: &tags, Modules: &modules, Auth: &auth, OAuthProfiles: &profiles, MaxResultChars: &budget, RateLimit: rate}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// expiry is the form's expiry as the Service takes it ("keep" and an
// empty choice change nothing).
func (f policyForm) expiry(now time.Time) (tokens.ExpiryChange, error) {
	switch f.Expiry {
	case "", "keep":
		return tokens.ExpiryChange{}, nil
	case "never":
		return tokens.ExpiryChange{Set: true, Field: "expires_at"}, nil
	case "at":
		return tokens.ParseExpiry(f.ExpiresAt, "expires_at", now)
	}
	d, err := time.ParseDuration(f.Expiry)
	if err != nil || !slices.ContainsFunc(expiryChoices, func(c choice) bool { return c.Value == f.Expiry }) {
		return tokens.ExpiryChange{}, &tokens.Error{Code: tokens.CodeInvalidArgument, Message: "choose one of the expiry options"}
	}
	t := now.Add(d).UTC().Truncate(time.Second)
	return tokens.ExpiryChange{Set: true, Value: &t, Field: "expires_at"}, nil
}

// formOf is the form of an existing URL.
func formOf(m *tokens.MCPServer) policyForm {
	f := policyForm{Name: m.Name, Methods: m.Config.Methods, Tags: m.Config.Tags, Modules: m.Config.Modules, Auth: m.Config.AuthMode(),
		OAuthProfiles: strings.Join(m.Config.OAuthProfiles, ", "), Expiry: "keep", Rate: rateFormOf(m.Config.RateLimit)}
	if m.Config.MaxResultChars != 0 {
		f.MaxResultChars = strconv.Itoa(m.Config.MaxResultChars)
	}
	if m.ExpiresAt != nil {
		f.ExpiresAt = m.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return f
}

// preview is what the policy of a form leaves: the tools, each with the
// modules it takes, or why none.
type preview struct {
	Tools []offer `json:"tools"`
	Error string  `json:"error,omitempty"`
}

// offer is a tool a policy offers, with the record modules its `module`
// argument takes under it (none for a tool that acts on no module).
type offer struct {
	Name    string   `json:"name"`
	Modules []string `json:"modules,omitempty"`
}

// previewOf asks the policy which tools the form's config leaves.
func (h *Handler) previewOf(f policyForm) preview {
	ch, err := f.change()
	if err == nil {
		var offers []tokens.Offer
		if offers, err = h.svc.PreviewTools(ch.Apply(tokens.Config{})); err == nil {
			return preview{Tools: offersOf(offers)}
		}
	}
	_, msg, _ := httpx.Classify(context.Background(), err) // the policy alone, no I/O: nothing a client cancels
	return preview{Tools: []offer{}, Error: msg}
}

// offersOf are the service's offers as the pages and the live list show
// them.
func offersOf(offers []tokens.Offer) []offer {
	out := make([]offer, len(offers))
	for i, o := range offers {
		out[i] = offer{Name: o.Name, Modules: o.Modules}
	}
	return out
}

// offered are the tools a stored config offers, with their modules.
func (h *Handler) offered(c tokens.Config) []offer {
	offers, err := h.svc.PreviewTools(c)
	if err != nil {
		// A stored config passed these rules when it was saved; show its
		// tools without their modules rather than nothing.
		h.logger.Warn("preview of a stored MCP URL config", "err", err)
		names := h.svc.AllowedTools(c)
		out := make([]offer, len(names))
		for i, n := range names {
			out[i] = offer{Name: n}
		}
		return out
	}
	return offersOf(offers)
}

// policyChoices are the checkboxes and radio buttons of a policy form.
type policyChoices struct {
	Methods     []string
	Tags        []string
	Modules     []choice // value: the API name; label: with the app's name
	AuthModes   []string
	Expiries    []choice
	MinBudget   int
	MaxBudget   int
	PreviewPath string
}

func (h *Handler) choices(accountID string) policyChoices {
	var modules []choice
	for _, m := range h.svc.Inventory().Modules() {
		c := choice{Value: m, Label: m}
		if l := tokens.ModuleLabel(m); l != "" {
			c.Label += " (" + l + ")"
		}
		modules = append(modules, c)
	}
	return policyChoices{
		Methods: tokens.MethodWords(), Tags: h.svc.Inventory().Tags(), Modules: modules, AuthModes: tokens.AuthModes(),
		Expiries: expiryChoices, MinBudget: tokens.MinResultChars, MaxBudget: tokens.MaxResultChars,
		PreviewPath: "/ui/accounts/" + accountID + "/mcp/preview",
	}
}

type urlRow struct {
	*tokens.MCPServer
	Tools int
}

type accountData struct {
	Account *tokens.Account
	Server  *tokens.MCPServer // none: the policy form mints
	URLs    []urlRow
	Next    string
	Form    policyForm
	Choices policyChoices
	Preview preview
	Rate    rateForm       // the account's rate-limit form
	SameOrg []*sameOrgInfo // the other accounts of its Zoho org
}

// OlderSameOrg are the accounts of the same Zoho org created before this
// one: those it may have been meant to renew.
func (d accountData) OlderSameOrg() []*sameOrgInfo {
	var out []*sameOrgInfo
	for _, o := range d.SameOrg {
		if o.Older {
			out = append(out, o)
		}
	}
	return out
}

// newMintForm is the mint form as a page first shows it.
func newMintForm() policyForm {
	return policyForm{Methods: []string{tokens.MethodRead}, Auth: tokens.AuthURL, Expiry: "never"}
}

func (h *Handler) handleAccount(w http.ResponseWriter, r *http.Request, _ *session) {
	h.accountPage(w, r, http.StatusOK, newMintForm(), nil, "", "")
}

// accountPage shows an account with the mint form f and, when rate is
// set, the rate-limit form as posted (else the account's limit).
func (h *Handler) accountPage(w http.ResponseWriter, r *http.Request, status int, f policyForm, rate *rateForm, notice, msg string) {
	id := r.PathValue("id")
	a, err := h.svc.Account(r.Context(), id)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	list, last, more, err := h.svc.MCPServers(r.Context(), id, r.URL.Query().Get("after"), pageSize)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	d := accountData{Account: a, Form: f, Choices: h.choices(id), Preview: h.previewOf(f), Rate: rateFormOf(a.RateLimit),
		SameOrg: h.sameOrg(a.Datacenter, a.OrgID, a.ID)}
	if rate != nil {
		d.Rate = *rate
	}
	for _, m := range list {
		d.URLs = append(d.URLs, urlRow{MCPServer: m, Tools: len(h.svc.AllowedTools(m.Config))})
	}
	if more {
		d.Next = last
	}
	h.render(w, r, status, "account", view{Title: a.Name, Nav: "accounts", Notice: notice, Error: msg, Data: d})
}

func (h *Handler) handleMintPreview(w http.ResponseWriter, r *http.Request, _ *session) {
	h.accountPage(w, r, http.StatusOK, readPolicy(r), nil, "", "")
}

// handleAccountRateLimit sets or removes (both fields empty) the rate
// limit all of an account's URLs and REST calls share, as the admin
// API's PATCH of rate_limit does.
func (h *Handler) handleAccountRateLimit(w http.ResponseWriter, r *http.Request, _ *session) {
	rate := readRate(r)
	again := func(status int, msg string) { h.accountPage(w, r, status, newMintForm(), &rate, "", msg) }
	l, err := rate.limit()
	if err == nil {
		_, err = h.svc.UpdateAccount(r.Context(), r.PathValue("id"), tokens.AccountChange{RateLimit: l})
	}
	if err != nil {
		h.fail(w, r, again, err)
		return
	}
	notice := "Saved: the account has no rate limit now (each URL's own limit still applies)."
	if !l.IsZero() {
		notice = "Saved. The new rate limit applies from the account's next call."
	}
	h.accountPage(w, r, http.StatusOK, newMintForm(), nil, notice, "")
}

// handleTools answers the live list of the mint and edit forms: the tools
// the policy in the query leaves, as JSON.
func (h *Handler) handleTools(w http.ResponseWriter, r *http.Request, _ *session) {
	q := r.URL.Query()
	f := policyForm{Methods: q["methods"], Tags: q["tags"], Modules: q["modules"], Auth: q.Get("auth"), OAuthProfiles: q.Get("oauth_profiles")}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(h.previewOf(f))
}

// minted is the page of a URL just minted: the only one that shows it.
type minted struct {
	Account  *tokens.Account
	Server   *tokens.MCPServer
	URL      string
	Tools    []offer
	Desktop  string // Claude Desktop's config (mcp-remote)
	APIToken bool   // the URL needs an API token besides
	OAuth    bool
}

func (h *Handler) handleMint(w http.ResponseWriter, r *http.Request, _ *session) {
	id := r.PathValue("id")
	f := readPolicy(r)
	again := func(status int, msg string) { h.accountPage(w, r, status, f, nil, "", msg) }
	now := h.svc.Now()
	ch, err := f.change()
	if err != nil {
		h.fail(w, r, again, err)
		return
	}
	exp, err := f.expiry(now)
	if err != nil {
		h.fail(w, r, again, err)
		return
	}
	m, u, err := h.svc.CreateMCPServer(r.Context(), id, tokens.NewMCPServer{Name: f.Name, Config: ch.Apply(tokens.Config{}), ExpiresAt: exp.Value})
	if err != nil {
		h.fail(w, r, again, err)
		return
	}
	a, err := h.svc.Account(r.Context(), id)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	h.render(w, r, http.StatusCreated, "minted", view{Title: "MCP URL minted", Nav: "accounts", Data: minted{
		Account: a, Server: m, URL: u, Tools: h.offered(m.Config), Desktop: desktopConfig(u, m.Config.AuthMode()),
		APIToken: m.Config.AuthMode() == tokens.AuthAPIToken, OAuth: m.Config.AuthMode() == tokens.AuthOAuth,
	}})
}

// desktopConfig is claude_desktop_config.json for the URL through
// mcp-remote; an api_token URL gets the header in mcp-remote's documented
// form, with a placeholder for the token.
func desktopConfig(u, auth string) string {
	server := map[string]any{"command": "npx", "args": []string{"-y", "mcp-remote", u}}
	if auth == tokens.AuthAPIToken {
		server["args"] = []string{"-y", "mcp-remote", u, "--header", "Authorization:${AUTH_HEADER}"}
		server["env"] = map[string]string{"AUTH_HEADER": "Bearer <your API token>"}
	}
	b, _ := json.MarshalIndent(map[string]any{"mcpServers": map[string]any{"bigin": server}}, "", "  ")
	return string(b)
}

type urlData struct {
	Account *tokens.Account
	Server  *tokens.MCPServer
	Form    policyForm
	Choices policyChoices
	Preview preview
	Current []offer
}

func (h *Handler) handleURLPage(w http.ResponseWriter, r *http.Request, _ *session) {
	m, err := h.svc.MCPServer(r.Context(), r.PathValue("id"), r.PathValue("mcp_id"))
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	h.urlPage(w, r, http.StatusOK, m, formOf(m), "", "")
}

func (h *Handler) urlPage(w http.ResponseWriter, r *http.Request, status int, m *tokens.MCPServer, f policyForm, notice, msg string) {
	a, err := h.svc.Account(r.Context(), m.AccountID)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	d := urlData{Account: a, Server: m, Form: f, Choices: h.choices(a.ID), Preview: h.previewOf(f), Current: h.offered(m.Config)}
	d.Choices.PreviewPath = "" // the edit form previews by posting to itself
	h.render(w, r, status, "url", view{Title: m.Name, Nav: "accounts", Notice: notice, Error: msg, Data: d})
}

func (h *Handler) handleURLUpdate(w http.ResponseWriter, r *http.Request, _ *session) {
	accountID, id := r.PathValue("id"), r.PathValue("mcp_id")
	m, err := h.svc.MCPServer(r.Context(), accountID, id)
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	f := readPolicy(r)
	again := func(status int, msg string) { h.urlPage(w, r, status, m, f, "", msg) }
	if r.PostForm.Has("preview") {
		h.urlPage(w, r, http.StatusOK, m, f, "", "")
		return
	}
	ch, err := f.change()
	if err != nil {
		h.fail(w, r, again, err)
		return
	}
	exp, err := f.expiry(h.svc.Now())
	if err != nil {
		h.fail(w, r, again, err)
		return
	}
	name := f.Name
	// Not m: again shows the URL as it was when the Service refuses.
	saved, err := h.svc.UpdateMCPServer(r.Context(), accountID, id, tokens.MCPServerChange{Name: &name, Config: ch, Expiry: exp})
	if err != nil {
		h.fail(w, r, again, err)
		return
	}
	h.urlPage(w, r, http.StatusOK, saved, formOf(saved), "Saved. The new policy applies from the URL's next request.", "")
}

func (h *Handler) handleURLDeletePage(w http.ResponseWriter, r *http.Request, _ *session) {
	m, err := h.svc.MCPServer(r.Context(), r.PathValue("id"), r.PathValue("mcp_id"))
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	back := "/ui/accounts/" + m.AccountID
	h.render(w, r, http.StatusOK, "confirm", view{Title: "Delete MCP URL", Nav: "accounts", Data: confirmData{
		What: "the MCP URL " + m.Name, Effect: "It answers 404 from its next request; clients using it stop working.",
		Action: back + "/mcp/" + m.ID + "/delete", Back: back,
	}})
}

func (h *Handler) handleURLDelete(w http.ResponseWriter, r *http.Request, _ *session) {
	accountID := r.PathValue("id")
	if err := h.svc.DeleteMCPServer(r.Context(), accountID, r.PathValue("mcp_id")); err != nil {
		h.fail(w, r, nil, err)
		return
	}
	http.Redirect(w, r, "/ui/accounts/"+accountID, http.StatusSeeOther)
}
