package admin

import (
	"net/http"
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
	httpx.WriteJSON(w, http.StatusCreated, viewAccount(acc))
	return nil
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
