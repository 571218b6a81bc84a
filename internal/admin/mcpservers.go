package admin

import (
	"net/http"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

type mcpServerView struct {
	ID        string     `json:"id"`
	AccountID string     `json:"account_id"`
	Name      string     `json:"name"`
	Config    configView `json:"config"`
	ExpiresAt *time.Time `json:"expires_at"`
	Tools     []string   `json:"tools" jsonschema:"The tools the config allows."`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// mcpServerCreated is the create answer: the MCP URL, shown only there,
// after the server's view.
type mcpServerCreated struct {
	mcpServerView
	URL string `json:"url" jsonschema:"The MCP URL; shown only here."`
}

// mcpInput is the body of POST …/mcp.
type mcpInput struct {
	Name      string       `json:"name"`
	Config    *configInput `json:"config,omitempty"`
	ExpiresAt rawField     `json:"expires_at,omitzero"`
}

func (a *API) viewMCPServer(m *tokens.MCPServer) mcpServerView {
	tools := a.svc.AllowedTools(m.Config)
	if tools == nil {
		tools = []string{}
	}
	v := mcpServerView{
		ID: m.ID, AccountID: m.AccountID, Name: m.Name,
		Config:    viewConfig(m.Config),
		Tools:     tools,
		CreatedAt: m.CreatedAt.UTC(), UpdatedAt: m.UpdatedAt.UTC(),
	}
	if m.ExpiresAt != nil {
		t := m.ExpiresAt.UTC()
		v.ExpiresAt = &t
	}
	return v
}

func (a *API) handleCreateMCPServer(w http.ResponseWriter, r *http.Request) error {
	var in mcpInput
	if err := httpx.DecodeBody(w, r, &in); err != nil {
		return err
	}
	now := a.svc.Now()
	exp, err := expiry(in.ExpiresAt, in.Config, now)
	if err != nil {
		return err
	}
	if err := exp.Check(now); err != nil {
		return err
	}
	change, err := in.Config.change()
	if err != nil {
		return err
	}
	m, url, err := a.svc.CreateMCPServer(r.Context(), r.PathValue("id"), tokens.NewMCPServer{
		Name:      in.Name,
		Config:    change.Apply(tokens.Config{}),
		ExpiresAt: exp.Value,
	})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, mcpServerCreated{mcpServerView: a.viewMCPServer(m), URL: url})
	return nil
}

func (a *API) handleListMCPServers(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.ListParams(r)
	if err != nil {
		return err
	}
	list, last, more, err := a.svc.MCPServers(r.Context(), r.PathValue("id"), after, limit)
	if err != nil {
		return err
	}
	views := make([]mcpServerView, 0, len(list))
	for _, m := range list {
		views = append(views, a.viewMCPServer(m))
	}
	httpx.WriteJSON(w, http.StatusOK, httpx.NewPage(views, more, last))
	return nil
}

func (a *API) handleGetMCPServer(w http.ResponseWriter, r *http.Request) error {
	m, err := a.svc.MCPServer(r.Context(), r.PathValue("id"), r.PathValue("mcp_id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, a.viewMCPServer(m))
	return nil
}

// mcpPatch is the body of PATCH …/mcp/{mcp_id}.
type mcpPatch struct {
	Name      *string      `json:"name,omitempty"`
	Config    *configInput `json:"config,omitempty"`
	ExpiresAt rawField     `json:"expires_at,omitzero"`
}

func (a *API) handlePatchMCPServer(w http.ResponseWriter, r *http.Request) error {
	var p mcpPatch
	if err := httpx.DecodeBody(w, r, &p); err != nil {
		return err
	}
	exp, err := expiry(p.ExpiresAt, p.Config, a.svc.Now())
	if err != nil {
		return err
	}
	change, err := p.Config.change()
	if err != nil {
		return err
	}
	m, err := a.svc.UpdateMCPServer(r.Context(), r.PathValue("id"), r.PathValue("mcp_id"), tokens.MCPServerChange{
		Name: p.Name, Config: change, Expiry: exp,
	})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, a.viewMCPServer(m))
	return nil
}

func (a *API) handleDeleteMCPServer(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteMCPServer(r.Context(), r.PathValue("id"), r.PathValue("mcp_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
