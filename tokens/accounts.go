package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/store"
)

// NewAccount is what creating an integrated account takes. ClientID and
// ClientSecret may be empty to use the server's default OAuth client.
type NewAccount struct {
	Name         string `json:"name"`
	Datacenter   string `json:"datacenter"`
	RefreshToken string `json:"refresh_token"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// verified is what proving an account's credentials with Zoho learned.
type verified struct {
	token   bigin.Token
	orgID   string
	orgName string
}

// CreateAccount proves the credentials with Zoho (one refresh, one org
// read) and stores the account, active, with the fresh access token so the
// first MCP call does not spend another refresh.
func (s *Service) CreateAccount(ctx context.Context, in NewAccount) (*store.Account, error) {
	name, err := checkName(in.Name, "name")
	if err != nil {
		return nil, err
	}
	dc := strings.ToLower(strings.TrimSpace(in.Datacenter))
	if dc == "" {
		return nil, invalidf("datacenter is required; valid datacenters: %s", strings.Join(s.opts.Datacenters.Keys(), ", "))
	}
	if _, err := s.opts.Datacenters.Get(dc); err != nil {
		return nil, invalidf("unknown datacenter %q; valid datacenters: %s", in.Datacenter, strings.Join(s.opts.Datacenters.Keys(), ", "))
	}
	if strings.TrimSpace(in.RefreshToken) == "" {
		return nil, invalidf("refresh_token is required")
	}
	if (in.ClientID == "") != (in.ClientSecret == "") {
		return nil, invalidf("client_id and client_secret go together: pass both, or neither to use the server's OAuth client")
	}
	own := bigin.Credentials{ClientID: in.ClientID, ClientSecret: in.ClientSecret, RefreshToken: strings.TrimSpace(in.RefreshToken)}
	creds, err := s.effective(own)
	if err != nil {
		return nil, err
	}
	v, err := s.verify(ctx, dc, creds)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	a := &store.Account{
		ID:           newID(),
		Name:         name,
		Datacenter:   dc,
		APIDomain:    v.token.APIDomain,
		OrgID:        v.orgID,
		OrgName:      v.orgName,
		Status:       store.StatusActive,
		CreatedAt:    now,
		UpdatedAt:    now,
		ClientID:     own.ClientID,
		ClientSecret: own.ClientSecret,
		RefreshToken: own.RefreshToken,
		AccessToken:  v.token.AccessToken,
		AccessExpiry: v.token.Expiry,
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.db.CreateAccount(ctx, a); err != nil {
		return nil, fmt.Errorf("store account: %w", err)
	}
	s.putAccount(a, true)
	s.audit(ctx, "account.create", a.ID, "", "datacenter "+dc+", org "+a.OrgID)
	return a, nil
}

// effective fills in the server's default OAuth client for an account
// without its own.
func (s *Service) effective(c bigin.Credentials) (bigin.Credentials, error) {
	if c.ClientID != "" {
		return c, nil
	}
	if s.opts.ZohoClientID == "" || s.opts.ZohoClientSecret == "" {
		return c, invalidf("no Zoho OAuth client: pass client_id and client_secret, or set BIGIN_MCP_ZOHO_CLIENT_ID and BIGIN_MCP_ZOHO_CLIENT_SECRET on the server")
	}
	c.ClientID, c.ClientSecret = s.opts.ZohoClientID, s.opts.ZohoClientSecret
	return c, nil
}

// verify proves credentials with Zoho: one refresh, then the org.
func (s *Service) verify(ctx context.Context, dc string, creds bigin.Credentials) (*verified, error) {
	c, err := bigin.NewClient(bigin.Options{
		Datacenters: s.opts.Datacenters,
		Datacenter:  dc,
		Credentials: creds,
		HTTPClient:  s.opts.HTTPClient,
		Now:         s.now,
	})
	if err != nil {
		if errors.Is(err, bigin.ErrUnknownDatacenter) {
			return nil, invalidf("unknown datacenter %q; valid datacenters: %s", dc, strings.Join(s.opts.Datacenters.Keys(), ", "))
		}
		return nil, &Error{Code: CodeInvalidArgument, Message: "the credentials cannot be used: " + err.Error(), Err: err}
	}
	tok, err := c.Refresh(ctx)
	if err != nil {
		return nil, verifyError(err, "refresh")
	}
	if tok.APIDomain == "" {
		tok.APIDomain = c.APIDomain()
	}
	raw, err := c.Org(ctx)
	if err != nil {
		return nil, verifyError(err, "org")
	}
	id, name, err := parseOrg(raw)
	if err != nil {
		return nil, &Error{Code: CodeUpstreamError, Message: "Zoho answered the org read with an unexpected body", Err: err}
	}
	return &verified{token: tok, orgID: id, orgName: name}, nil
}

// parseOrg reads the org record's id and company_name; it accepts the
// record itself or Zoho's {"org":[record]} envelope.
func parseOrg(raw json.RawMessage) (id, name string, err error) {
	var env struct {
		Org []json.RawMessage `json:"org"`
	}
	if json.Unmarshal(raw, &env) == nil && len(env.Org) > 0 {
		raw = env.Org[0]
	}
	var rec struct {
		ID          json.RawMessage `json:"id"`
		CompanyName *string         `json:"company_name"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return "", "", fmt.Errorf("decode org: %w", err)
	}
	var sid string
	if err := json.Unmarshal(rec.ID, &sid); err != nil {
		var n json.Number
		if err := json.Unmarshal(rec.ID, &n); err != nil || n == "" {
			return "", "", errors.New("org record has no id")
		}
		sid = n.String()
	}
	if sid == "" {
		return "", "", errors.New("org record has no id")
	}
	if rec.CompanyName != nil {
		name = *rec.CompanyName
	}
	return sid, name, nil
}

// AccountChange is a PATCH of an integrated account; nil fields are kept.
type AccountChange struct {
	Name         *string `json:"name"`
	RefreshToken *string `json:"refresh_token"`
	ClientID     *string `json:"client_id"`
	ClientSecret *string `json:"client_secret"`
}

func (c AccountChange) credentials() bool {
	return c.RefreshToken != nil || c.ClientID != nil || c.ClientSecret != nil
}

// UpdateAccount renames an account and/or replaces its credentials. New
// credentials are proved with Zoho as on create, must reach the same org,
// and reset the status to active.
func (s *Service) UpdateAccount(ctx context.Context, id string, ch AccountChange) (*store.Account, error) {
	var name string
	if ch.Name != nil {
		n, err := checkName(*ch.Name, "name")
		if err != nil {
			return nil, err
		}
		name = n
	}
	cur, err := s.db.Account(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFoundf("no integrated account with this id")
	}
	if err != nil {
		return nil, fmt.Errorf("load account: %w", err)
	}
	var v *verified
	own := bigin.Credentials{ClientID: cur.ClientID, ClientSecret: cur.ClientSecret, RefreshToken: cur.RefreshToken}
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
		if v, err = s.verify(ctx, cur.Datacenter, creds); err != nil {
			return nil, err
		}
		if cur.OrgID != "" && v.orgID != cur.OrgID {
			return nil, invalidf("these credentials reach Zoho org %s, not this account's org %s; create a new integrated account for another org", v.orgID, cur.OrgID)
		}
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	a, err := s.db.UpdateAccount(ctx, id, func(a *store.Account) error {
		if v != nil {
			if a.ClientID != cur.ClientID || a.ClientSecret != cur.ClientSecret || a.RefreshToken != cur.RefreshToken {
				return &Error{Code: CodeConflict, Message: "the account's credentials changed while these were being verified; send the request again"}
			}
			a.ClientID, a.ClientSecret, a.RefreshToken = own.ClientID, own.ClientSecret, own.RefreshToken
			a.AccessToken, a.AccessExpiry = v.token.AccessToken, v.token.Expiry
			a.APIDomain = v.token.APIDomain
			a.OrgID, a.OrgName = v.orgID, v.orgName
			a.Status = store.StatusActive
		}
		if ch.Name != nil {
			a.Name = name
		}
		a.UpdatedAt = s.now().UTC()
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFoundf("no integrated account with this id")
	}
	if err != nil {
		return nil, fmt.Errorf("update account: %w", err)
	}
	s.putAccount(a, v != nil)
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
	if errors.Is(err, store.ErrNotFound) {
		return notFoundf("no integrated account with this id")
	}
	if err != nil {
		return fmt.Errorf("delete account: %w", err)
	}
	s.dropAccount(id, deleted)
	s.audit(ctx, "account.delete", id, "", fmt.Sprintf("%d MCP servers deleted with it", len(deleted)))
	return nil
}

// --- HTTP ---

type accountView struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Datacenter string    `json:"datacenter"`
	APIDomain  string    `json:"api_domain"`
	Org        orgView   `json:"org"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

type orgView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func viewAccount(a *store.Account) accountView {
	return accountView{
		ID: a.ID, Name: a.Name, Datacenter: a.Datacenter, APIDomain: a.APIDomain,
		Org:    orgView{ID: a.OrgID, Name: a.OrgName},
		Status: a.Status, CreatedAt: utc(a.CreatedAt), UpdatedAt: utc(a.UpdatedAt),
	}
}

func (s *Service) handleCreateAccount(w http.ResponseWriter, r *http.Request) error {
	var in NewAccount
	if err := decodeBody(w, r, &in); err != nil {
		return err
	}
	a, err := s.CreateAccount(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, viewAccount(a))
	return nil
}

func (s *Service) handleListAccounts(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := listParams(r)
	if err != nil {
		return err
	}
	list, more, err := s.db.Accounts(r.Context(), after, limit)
	if err != nil {
		return fmt.Errorf("list accounts: %w", err)
	}
	views := make([]accountView, 0, len(list))
	last := ""
	for _, a := range list {
		views = append(views, viewAccount(a))
		last = a.ID
	}
	writeJSON(w, http.StatusOK, newPage(views, more, last))
	return nil
}

func (s *Service) handleGetAccount(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	a, err := s.db.Account(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFoundf("no integrated account with this id")
	}
	if err != nil {
		return fmt.Errorf("load account: %w", err)
	}
	writeJSON(w, http.StatusOK, viewAccount(a))
	return nil
}

func (s *Service) handlePatchAccount(w http.ResponseWriter, r *http.Request) error {
	var ch AccountChange
	if err := decodeBody(w, r, &ch); err != nil {
		return err
	}
	a, err := s.UpdateAccount(r.Context(), r.PathValue("id"), ch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewAccount(a))
	return nil
}

func (s *Service) handleDeleteAccount(w http.ResponseWriter, r *http.Request) error {
	if err := s.DeleteAccount(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
