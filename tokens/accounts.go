package tokens

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// checkDatacenter refuses a datacenter key that is not configured.
func (s *Service) checkDatacenter(given string) error {
	dc := strings.ToLower(strings.TrimSpace(given))
	if !slices.Contains(s.zoho.Datacenters(), dc) {
		return invalidf("unknown datacenter %q; valid datacenters: %s", given, strings.Join(s.zoho.Datacenters(), ", "))
	}
	return nil
}

// NewAccount is what creating an integrated account takes. ClientID and
// ClientSecret may be empty to use the server's default OAuth client.
type NewAccount struct {
	Name         string `json:"name"`
	Datacenter   string `json:"datacenter"`
	RefreshToken string `json:"refresh_token"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	// RateLimit bounds the calls of all the account's URLs together;
	// nil means none.
	RateLimit *RateLimit `json:"rate_limit"`
}

// CreateAccount proves the credentials with Zoho (one refresh, one org
// read) and stores the account, active, with the fresh access token so the
// first MCP call does not spend another refresh.
func (s *Service) CreateAccount(ctx context.Context, in NewAccount) (*Account, error) {
	name, err := checkName(in.Name, "name")
	if err != nil {
		return nil, err
	}
	dc := strings.ToLower(strings.TrimSpace(in.Datacenter))
	if dc == "" {
		return nil, invalidf("datacenter is required; valid datacenters: %s", strings.Join(s.zoho.Datacenters(), ", "))
	}
	if err := s.checkDatacenter(in.Datacenter); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.RefreshToken) == "" {
		return nil, invalidf("refresh_token is required")
	}
	if (in.ClientID == "") != (in.ClientSecret == "") {
		return nil, invalidf("client_id and client_secret go together: pass both, or neither to use the server's OAuth client")
	}
	if err := CheckRateLimit(normalRateLimit(in.RateLimit), "rate_limit"); err != nil {
		return nil, err
	}
	own := Credentials{ClientID: in.ClientID, ClientSecret: in.ClientSecret, RefreshToken: strings.TrimSpace(in.RefreshToken)}
	creds, err := s.effective(own)
	if err != nil {
		return nil, err
	}
	v, err := s.zoho.Verify(ctx, dc, creds)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	a := &Account{
		ID:           newID(),
		Name:         name,
		Datacenter:   dc,
		APIDomain:    v.APIDomain,
		OrgID:        v.OrgID,
		OrgName:      v.OrgName,
		Status:       StatusActive,
		RateLimit:    normalRateLimit(in.RateLimit),
		CreatedAt:    now,
		UpdatedAt:    now,
		ClientID:     own.ClientID,
		ClientSecret: own.ClientSecret,
		RefreshToken: own.RefreshToken,
		AccessToken:  v.AccessToken,
		AccessExpiry: v.Expiry,
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.db.CreateAccount(ctx, a); err != nil {
		return nil, fmt.Errorf("store account: %w", err)
	}
	s.putAccount(ctx, a, true)
	s.audit(ctx, "account.create", a.ID, "", "datacenter "+dc+", org "+a.OrgID)
	return a, nil
}

// effective fills in the server's default OAuth client for an account
// without its own.
func (s *Service) effective(c Credentials) (Credentials, error) {
	if c.ClientID != "" {
		return c, nil
	}
	if s.opts.ZohoClientID == "" || s.opts.ZohoClientSecret == "" {
		return c, invalidf("no Zoho OAuth client: pass client_id and client_secret, or set BIGIN_MCP_ZOHO_CLIENT_ID and BIGIN_MCP_ZOHO_CLIENT_SECRET on the server")
	}
	c.ClientID, c.ClientSecret = s.opts.ZohoClientID, s.opts.ZohoClientSecret
	return c, nil
}

// AccountChange is a PATCH of an integrated account; nil fields are kept.
type AccountChange struct {
	Name         *string `json:"name"`
	RefreshToken *string `json:"refresh_token"`
	ClientID     *string `json:"client_id"`
	ClientSecret *string `json:"client_secret"`
	// RateLimit sets the account's rate limit; a pointer to the zero
	// RateLimit removes it. JSON callers tell "absent" from null
	// themselves (the admin API does), hence no tag.
	RateLimit *RateLimit `json:"-"`
}

func (c AccountChange) credentials() bool {
	return c.RefreshToken != nil || c.ClientID != nil || c.ClientSecret != nil
}

// UpdateAccount renames an account and/or replaces its credentials. New
// credentials are proved with Zoho as on create, must reach the same org,
// and reset the status to active.
func (s *Service) UpdateAccount(ctx context.Context, id string, ch AccountChange) (*Account, error) {
	var name string
	if ch.Name != nil {
		n, err := checkName(*ch.Name, "name")
		if err != nil {
			return nil, err
		}
		name = n
	}
	if ch.RateLimit != nil {
		if err := CheckRateLimit(normalRateLimit(ch.RateLimit), "rate_limit"); err != nil {
			return nil, err
		}
	}
	cur, err := s.db.Account(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, notFoundf("no integrated account with this id")
	}
	if err != nil {
		return nil, fmt.Errorf("load account: %w", err)
	}
	var v *Grant
	own := Credentials{ClientID: cur.ClientID, ClientSecret: cur.ClientSecret, RefreshToken: cur.RefreshToken}
	if ch.credentials() {
		if ch.RefreshToken != nil {
			if strings.TrimSpace(*ch.RefreshToken) == "" {
				return nil, invalidf("refresh_token must not be empty")
			}
			own.RefreshToken = strings.TrimSpace(*ch.RefreshToken)
		}
		if ch.ClientID != nil {
			if *ch.ClientID != cur.ClientID && ch.ClientSecret == nil && *ch.ClientID != "" {
				return nil, invalidf("client_secret is required with a new client_id")
			}
			own.ClientID = *ch.ClientID
			if *ch.ClientID == "" && ch.ClientSecret == nil {
				own.ClientSecret = ""
			}
		}
		if ch.ClientSecret != nil {
			own.ClientSecret = *ch.ClientSecret
		}
		if (own.ClientID == "") != (own.ClientSecret == "") {
			return nil, invalidf("client_id and client_secret go together: set both, or both to \"\" to use the server's OAuth client")
		}
		creds, err := s.effective(own)
		if err != nil {
			return nil, err
		}
		if v, err = s.zoho.Verify(ctx, cur.Datacenter, creds); err != nil {
			return nil, err
		}
		if cur.OrgID != "" && v.OrgID != cur.OrgID {
			return nil, invalidf("these credentials reach Zoho org %s, not this account's org %s; create a new integrated account for another org", v.OrgID, cur.OrgID)
		}
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	a, err := s.db.UpdateAccount(ctx, id, func(a *Account) error {
		if v != nil {
			if a.ClientID != cur.ClientID || a.ClientSecret != cur.ClientSecret || a.RefreshToken != cur.RefreshToken {
				return &Error{Code: CodeConflict, Message: "the account's credentials changed while these were being verified; send the request again"}
			}
			a.ClientID, a.ClientSecret, a.RefreshToken = own.ClientID, own.ClientSecret, own.RefreshToken
			a.AccessToken, a.AccessExpiry = v.AccessToken, v.Expiry
			a.APIDomain = v.APIDomain
			a.OrgID, a.OrgName = v.OrgID, v.OrgName
			a.Status = StatusActive
		}
		if ch.Name != nil {
			a.Name = name
		}
		if ch.RateLimit != nil {
			a.RateLimit = normalRateLimit(ch.RateLimit)
		}
		a.UpdatedAt = s.now().UTC()
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil, notFoundf("no integrated account with this id")
	}
	if err != nil {
		return nil, fmt.Errorf("update account: %w", err)
	}
	s.putAccount(ctx, a, v != nil)
	s.audit(ctx, "account.update", id, "", "changed: "+strings.Join(ch.fields(), ", "))
	return a, nil
}

func (c AccountChange) fields() []string {
	var f []string
	if c.Name != nil {
		f = append(f, "name")
	}
	if c.RefreshToken != nil {
		f = append(f, "refresh_token")
	}
	if c.ClientID != nil {
		f = append(f, "client_id")
	}
	if c.ClientSecret != nil {
		f = append(f, "client_secret")
	}
	if c.RateLimit != nil {
		f = append(f, "rate_limit")
	}
	if len(f) == 0 {
		f = append(f, "nothing")
	}
	return f
}

// DeleteAccount deletes an account and its MCP servers; their URLs stop
// working at once.
func (s *Service) DeleteAccount(ctx context.Context, id string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	deleted, err := s.db.DeleteAccount(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return notFoundf("no integrated account with this id")
	}
	if err != nil {
		return fmt.Errorf("delete account: %w", err)
	}
	s.dropAccount(ctx, id, deleted)
	for _, m := range deleted {
		s.dropGrants(ctx, m.ID, "account deleted")
	}
	s.audit(ctx, "account.delete", id, "", fmt.Sprintf("%d MCP servers deleted with it", len(deleted)))
	return nil
}
