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
}

// apiTokenCreated is the create answer: the token's value, shown only
// there, after its view.
type apiTokenCreated struct {
	apiTokenView
	Token string `json:"token" jsonschema:"The API token; shown only here."`
}

// apiTokenInput is the body of POST /admin/api-tokens.
type apiTokenInput struct {
	Name       string   `json:"name"`
	AccountIDs []string `json:"account_ids,omitempty" jsonschema:"Only these integrated accounts."`
	Scopes     []string `json:"scopes,omitempty" jsonschema:"Only these surfaces."`
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
	var in apiTokenInput
	if err := httpx.DecodeBody(w, r, &in); err != nil {
		return err
	}
	t, tok, err := a.svc.CreateAPIToken(r.Context(), tokens.APITokenInput{Name: in.Name, AccountIDs: in.AccountIDs, Scopes: in.Scopes})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, apiTokenCreated{apiTokenView: viewAPIToken(t), Token: tok})
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
