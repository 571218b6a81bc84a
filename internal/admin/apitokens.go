package admin

import (
	"net/http"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// apiTokenView is an API token as the admin API shows it: its limits are
// always present (empty: no limit).
type apiTokenView struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	AccountIDs []string  `json:"account_ids"`
	Scopes     []string  `json:"scopes"`
	CreatedAt  time.Time `json:"created_at"`
	Token      string    `json:"token,omitempty"` // only in the create response
}

func viewAPIToken(t *tokens.APIToken) apiTokenView {
	v := apiTokenView{ID: t.ID, Name: t.Name, AccountIDs: t.AccountIDs, Scopes: t.Scopes, CreatedAt: t.CreatedAt.UTC()}
	if v.AccountIDs == nil {
		v.AccountIDs = []string{}
	}
	if v.Scopes == nil {
		v.Scopes = []string{}
	}
	return v
}

func (a *API) handleCreateAPIToken(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name       string   `json:"name"`
		AccountIDs []string `json:"account_ids"`
		Scopes     []string `json:"scopes"`
	}
	if err := httpx.DecodeBody(w, r, &in); err != nil {
		return err
	}
	t, tok, err := a.svc.CreateAPIToken(r.Context(), tokens.APITokenInput{Name: in.Name, AccountIDs: in.AccountIDs, Scopes: in.Scopes})
	if err != nil {
		return err
	}
	v := viewAPIToken(t)
	v.Token = tok
	httpx.WriteJSON(w, http.StatusCreated, v)
	return nil
}

func (a *API) handleListAPITokens(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.ListParams(r)
	if err != nil {
		return err
	}
	list, more, err := a.svc.APITokens(r.Context(), after, limit)
	if err != nil {
		return err
	}
	views := make([]apiTokenView, 0, len(list))
	last := ""
	for _, t := range list {
		views = append(views, viewAPIToken(t))
		last = t.ID
	}
	httpx.WriteJSON(w, http.StatusOK, httpx.NewPage(views, more, last))
	return nil
}

func (a *API) handleDeleteAPIToken(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteAPIToken(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
