package admin

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

type accountView struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Datacenter string    `json:"datacenter"`
	APIDomain  string    `json:"api_domain"`
	Org        orgView   `json:"org"`
	Status     string    `json:"status" jsonschema:"needs_reauth when Zoho refuses the account's refresh token: PATCH new credentials or use a reconnect link."`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// RateLimit is null when the account has none.
	RateLimit *tokens.RateLimit `json:"rate_limit"`
}

type orgView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func viewAccount(a *tokens.Account) accountView {
	return accountView{
		ID: a.ID, Name: a.Name, Datacenter: a.Datacenter, APIDomain: a.APIDomain,
		Org:    orgView{ID: a.OrgID, Name: a.OrgName},
		Status: a.Status, RateLimit: a.RateLimit, CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC(),
	}
}

func (a *API) handleCreateAccount(w http.ResponseWriter, r *http.Request) error {
	var in tokens.NewAccount
	if err := httpx.DecodeBody(w, r, &in); err != nil {
		return err
	}
	acc, err := a.svc.CreateAccount(r.Context(), in)
	if err != nil {
		return err
	}
	out := createdAccountView{accountView: viewAccount(acc)}
	if warn := sameOrgWarning(a.svc, acc); warn != nil {
		out.Warnings = []warning{*warn}
	}
	httpx.WriteJSON(w, http.StatusCreated, out)
	return nil
}

// createdAccountView is the answer to a create: the account, and what the
// caller should know about it although it was created.
type createdAccountView struct {
	accountView
	Warnings []warning `json:"warnings,omitempty"`
}

// warning is something the caller should know about a change that was
// made nonetheless: a code to test, a message to read, and the accounts
// it concerns.
type warning struct {
	Code       string   `json:"code"`
	Message    string   `json:"message"`
	AccountIDs []string `json:"account_ids,omitempty"`
}

// sameOrgWarning says when the Zoho org of a new account was already
// connected: the new account is a second, independent one, which is
// rarely what was meant. Nothing is refused (an operator may want two).
func sameOrgWarning(svc *tokens.Service, acc *tokens.Account) *warning {
	var ids, named []string
	for _, o := range svc.AccountsOfOrg(acc.Datacenter, acc.OrgID) {
		if o.ID != acc.ID {
			ids = append(ids, o.ID)
			named = append(named, fmt.Sprintf("%q (%s)", o.Name, o.ID))
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return &warning{Code: "org_already_connected", AccountIDs: ids, Message: fmt.Sprintf(
		"Zoho org %s (%s) in datacenter %s was already connected as integrated account %s; this is a second, separate account for it. "+
			"To repair the existing account instead, PATCH its refresh_token or make a reconnect link for it "+
			"(POST /admin/connect-links with its account_id), then delete this one.",
		acc.OrgID, acc.OrgName, acc.Datacenter, strings.Join(named, ", "))}
}

func (a *API) handleListAccounts(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.ListParams(r)
	if err != nil {
		return err
	}
	list, more, err := a.svc.Accounts(r.Context(), after, limit)
	if err != nil {
		return err
	}
	views := make([]accountView, 0, len(list))
	last := ""
	for _, acc := range list {
		views = append(views, viewAccount(acc))
		last = acc.ID
	}
	httpx.WriteJSON(w, http.StatusOK, httpx.NewPage(views, more, last))
	return nil
}

func (a *API) handleGetAccount(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.svc.Account(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, viewAccount(acc))
	return nil
}

// accountPatch is the body of PATCH /admin/integrated-accounts/{id}:
// absent fields are kept.
type accountPatch struct {
	Name         *string  `json:"name,omitempty"`
	RefreshToken *string  `json:"refresh_token,omitempty"`
	ClientID     *string  `json:"client_id,omitempty"`
	ClientSecret *string  `json:"client_secret,omitempty"`
	RateLimit    rawField `json:"rate_limit,omitzero"`
}

func (a *API) handlePatchAccount(w http.ResponseWriter, r *http.Request) error {
	var in accountPatch
	if err := httpx.DecodeBody(w, r, &in); err != nil {
		return err
	}
	rl, err := parseRateLimit(in.RateLimit, "rate_limit")
	if err != nil {
		return err
	}
	ch := tokens.AccountChange{Name: in.Name, RefreshToken: in.RefreshToken, ClientID: in.ClientID, ClientSecret: in.ClientSecret, RateLimit: rl}
	acc, err := a.svc.UpdateAccount(r.Context(), r.PathValue("id"), ch)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, viewAccount(acc))
	return nil
}

func (a *API) handleDeleteAccount(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteAccount(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
