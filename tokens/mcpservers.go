package tokens

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
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
func (s *Service) CreateMCPServer(ctx context.Context, accountID string, in NewMCPServer) (*MCPServer, string, error) {
	name, err := checkName(in.Name, "name")
	if err != nil {
		return nil, "", err
	}
	cfg, err := s.inv.Normalize(in.Config)
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
		if errors.Is(err, ErrNotFound) {
			return nil, "", errNoAccount
		}
		return nil, "", fmt.Errorf("load account: %w", err)
	}
	m := &MCPServer{
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
		if !errors.Is(err, ErrConflict) {
			break
		}
	}
	if errors.Is(err, ErrNotFound) {
		return nil, "", errNoAccount
	}
	if err != nil {
		return nil, "", fmt.Errorf("store MCP server: %w", err)
	}
	s.putServer(ctx, m)
	s.audit(ctx, "mcp_server.create", accountID, m.ID, describe(m))
	return m, s.opts.PublicURL + "/mcp/" + token, nil
}

// describe summarises a server's policy for the audit log.
func describe(m *MCPServer) string {
	d := fmt.Sprintf("methods=[%s] tags=[%s] auth=%s",
		strings.Join(m.Config.Methods, ","), strings.Join(m.Config.Tags, ","), m.Config.AuthMode())
	if len(m.Config.Modules) > 0 {
		d += " modules=[" + strings.Join(m.Config.Modules, ",") + "]"
	}
	if len(m.Config.OAuthProfiles) > 0 {
		d += " oauth_profiles=[" + strings.Join(m.Config.OAuthProfiles, ",") + "]"
	}
	if m.Config.MaxResultChars != 0 {
		d += fmt.Sprintf(" max_result_chars=%d", m.Config.MaxResultChars)
	}
	if l := m.Config.RateLimit; l != nil {
		d += fmt.Sprintf(" rate_limit=%d/%ds", l.Requests, l.PerSeconds)
	}
	if m.ExpiresAt != nil {
		d += " expires_at=" + m.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return d
}

// MCPServer returns the account's live MCP server: not found when it does
// not exist, belongs to another account or has expired.
func (s *Service) MCPServer(ctx context.Context, accountID, id string) (*MCPServer, error) {
	m, err := s.db.MCPServer(ctx, id)
	if errors.Is(err, ErrNotFound) {
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

// MCPServerChange is a PATCH of an MCP server: nil fields are kept.
type MCPServerChange struct {
	Name   *string
	Config *ConfigChange
	Expiry ExpiryChange
}

// UpdateMCPServer applies a change: the resulting config is validated as
// a whole; an Expiry that is Set with a nil Value removes the expiry. It
// takes effect on the next MCP request.
func (s *Service) UpdateMCPServer(ctx context.Context, accountID, id string, p MCPServerChange) (*MCPServer, error) {
	now := s.now().UTC()
	exp := p.Expiry
	var err error
	var name string
	if p.Name != nil {
		if name, err = checkName(*p.Name, "name"); err != nil {
			return nil, err
		}
	}
	authChanged := false
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.ensureAccount(ctx, accountID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, errNoServer
		}
		return nil, fmt.Errorf("load account: %w", err)
	}
	m, err := s.db.UpdateMCPServer(ctx, id, func(m *MCPServer) error {
		if m.AccountID != accountID || expired(m, now) {
			return errNoServer
		}
		if p.Name != nil {
			m.Name = name
		}
		if p.Config != nil {
			cfg, err := s.inv.Normalize(p.Config.Apply(m.Config))
			if err != nil {
				return err
			}
			cfg.AuthEpoch = m.Config.AuthEpoch
			if cfg.AuthMode() != m.Config.AuthMode() {
				cfg.AuthEpoch++ // ends every OAuth grant of the URL
				authChanged = true
			}
			m.Config = cfg
		}
		if exp.Set {
			unchanged := exp.Value != nil && m.ExpiresAt != nil && exp.Value.Equal(*m.ExpiresAt)
			if !unchanged {
				if err := exp.Check(now); err != nil {
					return err
				}
			}
			m.ExpiresAt = exp.Value
		}
		m.UpdatedAt = now
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil, errNoServer
	}
	if err != nil {
		return nil, err
	}
	s.putServer(ctx, m)
	s.audit(ctx, "mcp_server.update", accountID, id, describe(m))
	if authChanged {
		s.dropGrants(ctx, id, "auth changed")
	}
	return m, nil
}

// DeleteMCPServer deletes one of the account's MCP servers; its URL
// answers 404 from the next request.
func (s *Service) DeleteMCPServer(ctx context.Context, accountID, id string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, err := s.MCPServer(ctx, accountID, id); err != nil {
		return err
	}
	deleted, err := s.db.DeleteMCPServer(ctx, id)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return errNoServer
		}
		return fmt.Errorf("delete MCP server: %w", err)
	}
	s.dropServers(ctx, deleted)
	s.audit(ctx, "mcp_server.delete", accountID, id, "")
	s.dropGrants(ctx, id, "URL deleted")
	return nil
}
