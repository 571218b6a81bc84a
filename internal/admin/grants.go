package admin

import (
	"net/http"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// grantView is an OAuth grant as the admin API shows it: who approved
// which client, never a token or hash.
type grantView struct {
	ID               string     `json:"id"`
	MCPServerID      string     `json:"mcp_server_id"`
	ClientID         string     `json:"client_id"`
	ClientName       string     `json:"client_name"`
	UserZUID         string     `json:"user_zuid"`
	UserEmail        string     `json:"user_email"`
	UserProfile      string     `json:"user_profile"`
	Status           string     `json:"status" jsonschema:"pending: the code is not exchanged yet; active: it is."`
	AccessExpiresAt  *time.Time `json:"access_expires_at"`
	RefreshExpiresAt *time.Time `json:"refresh_expires_at"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// Grant statuses.
const (
	grantPending = "pending" // the code is not exchanged yet
	grantActive  = "active"
)

func viewGrant(g *tokens.OAuthGrant) grantView {
	v := grantView{
		ID: g.ID, MCPServerID: g.MCPServerID, ClientID: g.ClientID, ClientName: g.ClientName,
		UserZUID: g.ZUID, UserEmail: g.Email, UserProfile: g.Profile, Status: grantPending,
		CreatedAt: g.CreatedAt.UTC(), UpdatedAt: g.UpdatedAt.UTC(),
	}
	if g.CodeUsedAt != nil {
		v.Status = grantActive
		a, r := g.AccessExpiresAt.UTC(), g.RefreshExpiresAt.UTC()
		v.AccessExpiresAt, v.RefreshExpiresAt = &a, &r
	}
	return v
}

func (a *API) handleListGrants(w http.ResponseWriter, r *http.Request) error {
	if a.oauth == nil {
		return &tokens.Error{Code: tokens.CodeNotFound, Message: "OAuth is not enabled on this server"}
	}
	after, limit, err := httpx.ListParams(r)
	if err != nil {
		return err
	}
	list, more, err := a.oauth.Grants(r.Context(), r.PathValue("id"), r.PathValue("mcp_id"), after, limit)
	if err != nil {
		return err
	}
	views := make([]grantView, 0, len(list))
	last := ""
	for _, g := range list {
		views = append(views, viewGrant(g))
		last = g.ID
	}
	httpx.WriteJSON(w, http.StatusOK, httpx.NewPage(views, more, last))
	return nil
}

func (a *API) handleRevokeGrant(w http.ResponseWriter, r *http.Request) error {
	if a.oauth == nil {
		return &tokens.Error{Code: tokens.CodeNotFound, Message: "OAuth is not enabled on this server"}
	}
	if err := a.oauth.RevokeGrant(r.Context(), r.PathValue("id"), r.PathValue("mcp_id"), r.PathValue("grant_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
