package tokens

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/store"
)

// NewMCPServer is what minting an MCP URL takes.
type NewMCPServer struct {
	Name      string
	Config    Config
	ExpiresAt *time.Time // nil: never expires
}

var errNoAccount = notFoundf("no integrated account with this id")
var errNoServer = notFoundf("no MCP server with this id under this integrated account (deleted or expired ones are gone)")

// CreateMCPServer mints an MCP URL for the account. The URL
// (<PUBLIC_URL>/mcp/<token>) is returned only here; only the token's hash
// is stored.
func (s *Service) CreateMCPServer(ctx context.Context, accountID string, in NewMCPServer) (*store.MCPServer, string, error) {
	name, err := checkName(in.Name, "name")
	if err != nil {
		return nil, "", err
	}
	cfg, err := NormalizeConfig(in.Config)
	if err != nil {
		return nil, "", err
	}
	now := s.now().UTC()
	if in.ExpiresAt != nil {
		if err := checkExpiry(*in.ExpiresAt, now, "expires_at"); err != nil {
			return nil, "", err
		}
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.ensureAccount(ctx, accountID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, "", errNoAccount
		}
		return nil, "", fmt.Errorf("load account: %w", err)
	}
	m := &store.MCPServer{
		ID:        newID(),
		AccountID: accountID,
		Name:      name,
		Config:    cfg,
		ExpiresAt: utcPtr(in.ExpiresAt),
		CreatedAt: now,
		UpdatedAt: now,
	}
	var token string
	for range 3 { // a repeated hash of 256 random bits would be a broken RNG, but retrying is cheap
		token = NewMCPToken()
		m.TokenHash = HashToken(token)
		err = s.db.CreateMCPServer(ctx, m)
		if !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", errNoAccount
	}
	if err != nil {
		return nil, "", fmt.Errorf("store MCP server: %w", err)
	}
	s.putServer(m)
	s.audit(ctx, "mcp_server.create", accountID, m.ID, describe(m))
	return m, s.opts.PublicURL + "/mcp/" + token, nil
}

// describe summarises a server's policy for the audit log.
func describe(m *store.MCPServer) string {
	d := fmt.Sprintf("methods=[%s] tags=[%s] require_api_token_auth=%t",
		strings.Join(m.Config.Methods, ","), strings.Join(m.Config.Tags, ","), m.Config.RequireAPITokenAuth)
	if m.ExpiresAt != nil {
		d += " expires_at=" + m.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return d
}

// mcpServer returns the account's live MCP server, or errNoServer.
func (s *Service) mcpServer(ctx context.Context, accountID, id string) (*store.MCPServer, error) {
	m, err := s.db.MCPServer(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoServer
	}
	if err != nil {
		return nil, fmt.Errorf("load MCP server: %w", err)
	}
	if m.AccountID != accountID || expired(m, s.now()) {
		return nil, errNoServer
	}
	return m, nil
}

// mcpPatch is the body of PATCH …/mcp/{mcp_id}.
type mcpPatch struct {
	Name      *string      `json:"name"`
	Config    *configInput `json:"config"`
	ExpiresAt rawField     `json:"expires_at"`
}

// patchMCPServer applies a PATCH: the resulting config is validated as a
// whole; `"expires_at": null` removes the expiry. It takes effect on the
// next MCP request.
func (s *Service) patchMCPServer(ctx context.Context, accountID, id string, p *mcpPatch) (*store.MCPServer, error) {
	now := s.now().UTC()
	exp, err := expiry(p.ExpiresAt, p.Config, now)
	if err != nil {
		return nil, err
	}
	var name string
	if p.Name != nil {
		if name, err = checkName(*p.Name, "name"); err != nil {
			return nil, err
		}
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.ensureAccount(ctx, accountID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errNoServer
		}
		return nil, fmt.Errorf("load account: %w", err)
	}
	m, err := s.db.UpdateMCPServer(ctx, id, func(m *store.MCPServer) error {
		if m.AccountID != accountID || expired(m, now) {
			return errNoServer
		}
		if p.Name != nil {
			m.Name = name
		}
		if p.Config != nil {
			cfg, err := NormalizeConfig(p.Config.apply(m.Config))
			if err != nil {
				return err
			}
			m.Config = cfg
		}
		if exp.set {
			unchanged := exp.value != nil && m.ExpiresAt != nil && exp.value.Equal(*m.ExpiresAt)
			if !unchanged {
				if err := exp.check(now); err != nil {
					return err
				}
			}
			m.ExpiresAt = exp.value
		}
		m.UpdatedAt = now
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoServer
	}
	if err != nil {
		return nil, err
	}
	s.putServer(m)
	s.audit(ctx, "mcp_server.update", accountID, id, describe(m))
	return m, nil
}

// DeleteMCPServer deletes one of the account's MCP servers; its URL
// answers 404 from the next request.
func (s *Service) DeleteMCPServer(ctx context.Context, accountID, id string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, err := s.mcpServer(ctx, accountID, id); err != nil {
		return err
	}
	deleted, err := s.db.DeleteMCPServer(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errNoServer
		}
		return fmt.Errorf("delete MCP server: %w", err)
	}
	s.dropServers(deleted)
	s.audit(ctx, "mcp_server.delete", accountID, id, "")
	return nil
}

// --- HTTP ---

type mcpServerView struct {
	ID        string     `json:"id"`
	AccountID string     `json:"account_id"`
	Name      string     `json:"name"`
	Config    configView `json:"config"`
	ExpiresAt *time.Time `json:"expires_at"`
	Tools     []string   `json:"tools"`
	URL       string     `json:"url,omitempty"` // only in the create response
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

func viewMCPServer(m *store.MCPServer) mcpServerView {
	tools := AllowedTools(m.Config)
	if tools == nil {
		tools = []string{}
	}
	return mcpServerView{
		ID: m.ID, AccountID: m.AccountID, Name: m.Name,
		Config:    viewConfig(m.Config),
		ExpiresAt: utcPtr(m.ExpiresAt),
		Tools:     tools,
		CreatedAt: utc(m.CreatedAt), UpdatedAt: utc(m.UpdatedAt),
	}
}

func (s *Service) handleCreateMCPServer(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name      string       `json:"name"`
		Config    *configInput `json:"config"`
		ExpiresAt rawField     `json:"expires_at"`
	}
	if err := decodeBody(w, r, &in); err != nil {
		return err
	}
	exp, err := expiry(in.ExpiresAt, in.Config, s.now())
	if err != nil {
		return err
	}
	if err := exp.check(s.now()); err != nil {
		return err
	}
	m, url, err := s.CreateMCPServer(r.Context(), r.PathValue("id"), NewMCPServer{
		Name:      in.Name,
		Config:    in.Config.apply(Config{}),
		ExpiresAt: exp.value,
	})
	if err != nil {
		return err
	}
	v := viewMCPServer(m)
	v.URL = url
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Service) handleListMCPServers(w http.ResponseWriter, r *http.Request) error {
	accountID := r.PathValue("id")
	after, limit, err := listParams(r)
	if err != nil {
		return err
	}
	if _, err := s.db.Account(r.Context(), accountID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errNoAccount
		}
		return fmt.Errorf("load account: %w", err)
	}
	list, more, err := s.db.MCPServers(r.Context(), accountID, after, limit)
	if err != nil {
		return fmt.Errorf("list MCP servers: %w", err)
	}
	now := s.now()
	views := make([]mcpServerView, 0, len(list))
	last := ""
	for _, m := range list {
		last = m.ID
		if !expired(m, now) {
			views = append(views, viewMCPServer(m))
		}
	}
	writeJSON(w, http.StatusOK, newPage(views, more, last))
	return nil
}

func (s *Service) handleGetMCPServer(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mcpServer(r.Context(), r.PathValue("id"), r.PathValue("mcp_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewMCPServer(m))
	return nil
}

func (s *Service) handlePatchMCPServer(w http.ResponseWriter, r *http.Request) error {
	var p mcpPatch
	if err := decodeBody(w, r, &p); err != nil {
		return err
	}
	m, err := s.patchMCPServer(r.Context(), r.PathValue("id"), r.PathValue("mcp_id"), &p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewMCPServer(m))
	return nil
}

func (s *Service) handleDeleteMCPServer(w http.ResponseWriter, r *http.Request) error {
	if err := s.DeleteMCPServer(r.Context(), r.PathValue("id"), r.PathValue("mcp_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
