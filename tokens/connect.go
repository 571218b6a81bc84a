package tokens

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Connect links: an admin mints a one-time link, the end
// customer follows it, picks their Zoho datacenter, consents at Zoho, and
// lands on /oauth/zoho/callback, which creates the integrated account.

// ConnectLinkPrefix starts every connect link token.
const ConnectLinkPrefix = "bmcp_link_"

// Connect link lifetimes.
const (
	DefaultConnectLinkLifetime = time.Hour
	MinConnectLinkLifetime     = time.Minute
	MaxConnectLinkLifetime     = 7 * 24 * time.Hour
)

// ConnectLinkLifetime converts a requested lifetime in seconds to the
// duration CreateConnectLink takes; a value it would refuse (negative, or
// too large to be a duration) stays out of range, so the refusal and its
// message are CreateConnectLink's.
func ConnectLinkLifetime(seconds int64) time.Duration {
	if seconds < 0 || seconds > int64(MaxConnectLinkLifetime.Seconds()) {
		return -1
	}
	return time.Duration(seconds) * time.Second
}

// CreateConnectLink mints a connect link and returns it with its URL, the
// only time the link's secret is shown.
func (s *Service) CreateConnectLink(ctx context.Context, name, datacenter string, lifetime time.Duration) (*ConnectLink, string, error) {
	return s.createConnectLink(ctx, name, datacenter, lifetime, "")
}

// CreateReconnectLink mints a connect link that repairs the integrated
// account accountID instead of creating one: completing it replaces the
// account's Zoho grant (with one of the server's OAuth client, for the
// same org) and sets it active again, so the account keeps its id and its
// MCP URLs. The link's datacenter is the account's: datacenter may be
// empty or must name that one. name defaults to the account's name.
func (s *Service) CreateReconnectLink(ctx context.Context, accountID, name, datacenter string, lifetime time.Duration) (*ConnectLink, string, error) {
	a, err := s.db.Account(ctx, accountID)
	if errors.Is(err, ErrNotFound) {
		return nil, "", invalidf("account_id: no integrated account has id %q", clipID(accountID))
	}
	if err != nil {
		return nil, "", fmt.Errorf("load account: %w", err)
	}
	if dc := strings.ToLower(strings.TrimSpace(datacenter)); dc != "" && dc != a.Datacenter {
		return nil, "", invalidf("a reconnect link's datacenter is its account's (%s); leave datacenter out", a.Datacenter)
	}
	if strings.TrimSpace(name) == "" {
		name = a.Name
	}
	return s.createConnectLink(ctx, name, a.Datacenter, lifetime, a.ID)
}

func (s *Service) createConnectLink(ctx context.Context, name, datacenter string, lifetime time.Duration, reconnect string) (*ConnectLink, string, error) {
	if s.opts.ZohoClientID == "" || s.opts.ZohoClientSecret == "" {
		return nil, "", invalidf("connect links need the server's Zoho OAuth client: set BIGIN_MCP_ZOHO_CLIENT_ID and BIGIN_MCP_ZOHO_CLIENT_SECRET")
	}
	name = strings.TrimSpace(name)
	if name != "" {
		var err error
		if name, err = checkName(name, "name"); err != nil {
			return nil, "", err
		}
	}
	dc := strings.ToLower(strings.TrimSpace(datacenter))
	if dc != "" {
		if err := s.checkDatacenter(datacenter); err != nil {
			return nil, "", err
		}
	}
	if lifetime < MinConnectLinkLifetime || lifetime > MaxConnectLinkLifetime {
		return nil, "", invalidf("expires_in_seconds must be between %d and %d", int(MinConnectLinkLifetime.Seconds()), int(MaxConnectLinkLifetime.Seconds()))
	}
	tok := newToken(ConnectLinkPrefix)
	now := s.now().UTC()
	l := &ConnectLink{
		ID:         newID(),
		Name:       name,
		Datacenter: dc,
		TokenHash:  HashToken(tok),
		ExpiresAt:  now.Add(lifetime).Truncate(time.Second),
		CreatedAt:  now,

		ReconnectAccountID: reconnect,
	}
	if err := s.db.CreateConnectLink(ctx, l); err != nil {
		return nil, "", fmt.Errorf("store connect link: %w", err)
	}
	if reconnect != "" {
		s.audit(ctx, "connect_link.create", reconnect, "", "link "+l.ID+", reconnects the account")
	} else {
		s.audit(ctx, "connect_link.create", "", "", "link "+l.ID)
	}
	return l, s.opts.PublicURL + "/connect/" + tok, nil
}

// LinkState is whether a connect link can still be used, and if not, why.
type LinkState int

// The states of a connect link.
const (
	LinkUsable LinkState = iota
	LinkUnknown
	LinkUsed
	LinkExpired
	LinkRevoked
)

// String names the state as the admin API shows it.
func (st LinkState) String() string {
	switch st {
	case LinkUsable:
		return "usable"
	case LinkUsed:
		return "used"
	case LinkExpired:
		return "expired"
	case LinkRevoked:
		return "revoked"
	}
	return "unknown"
}

// ConnectLinkByToken returns the link a connect link token names and its
// state; an unknown or malformed token is LinkUnknown with a nil link.
func (s *Service) ConnectLinkByToken(ctx context.Context, tok string) (*ConnectLink, LinkState, error) {
	if !strings.HasPrefix(tok, ConnectLinkPrefix) || len(tok) != len(ConnectLinkPrefix)+randomChars {
		return nil, LinkUnknown, nil
	}
	l, err := s.db.ConnectLinkByHash(ctx, HashToken(tok))
	if errors.Is(err, ErrNotFound) {
		return nil, LinkUnknown, nil
	}
	if err != nil {
		return nil, LinkUnknown, fmt.Errorf("load connect link: %w", err)
	}
	return l, s.linkState(l), nil
}

// ConnectLinkByID returns a link by ID and its state; an unknown ID is
// LinkUnknown with a nil link.
func (s *Service) ConnectLinkByID(ctx context.Context, id string) (*ConnectLink, LinkState, error) {
	l, err := s.db.ConnectLink(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, LinkUnknown, nil
	}
	if err != nil {
		return nil, LinkUnknown, fmt.Errorf("load connect link: %w", err)
	}
	return l, s.linkState(l), nil
}

// ConnectLinkState returns whether l can still be used, and if not, why.
func (s *Service) ConnectLinkState(l *ConnectLink) LinkState { return s.linkState(l) }

func (s *Service) linkState(l *ConnectLink) LinkState {
	switch {
	case l.UsedAt != nil:
		return LinkUsed
	case l.RevokedAt != nil:
		return LinkRevoked
	case !s.now().Before(l.ExpiresAt):
		return LinkExpired
	}
	return LinkUsable
}

// ConnectLinks lists connect links in ID order after `after`, whatever
// their state.
func (s *Service) ConnectLinks(ctx context.Context, after string, limit int) ([]*ConnectLink, bool, error) {
	list, more, err := s.db.ConnectLinks(ctx, after, limit)
	if err != nil {
		return nil, false, fmt.Errorf("list connect links: %w", err)
	}
	return list, more, nil
}

// RevokeConnectLink withdraws a link that has not been used: from then on
// it answers like a used one and its OAuth callback creates nothing.
// Revoking it again is harmless; a used link cannot be revoked (the
// account it created is deleted instead).
func (s *Service) RevokeConnectLink(ctx context.Context, id string) (*ConnectLink, error) {
	l, err := s.db.RevokeConnectLink(ctx, id, s.now().UTC())
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, notFoundf("no connect link with this id")
	case errors.Is(err, ErrConflict):
		return nil, &Error{Code: CodeConflict, Message: "this connect link was already used; delete the integrated account it created instead", Err: err}
	case err != nil:
		return nil, fmt.Errorf("revoke connect link: %w", err)
	}
	s.audit(ctx, "connect_link.revoke", "", "", "link "+l.ID)
	return l, nil
}

// ErrWrongOrg is the cause of a reconnect refused because the consent at
// Zoho reached another org (or datacenter) than the account's; the
// *Error that wraps it says which, in words the customer can act on.
var ErrWrongOrg = errors.New("the Zoho grant reaches another org")

// CompleteConnect creates the account that a connect link's consent at
// Zoho granted, marking the link used in the same transaction (ErrConflict
// when it was used or revoked meanwhile). The account uses the server's OAuth client,
// the one that minted its refresh token. name defaults to the org's.
//
// A reconnect link (ReconnectAccountID set) instead repairs its account:
// in one transaction it replaces the account's Zoho grant with this one
// (the server's OAuth client), sets it active and marks the link used.
// The grant must reach the account's org in its datacenter, else an
// *Error wrapping ErrWrongOrg and nothing changes (the link stays
// usable); a deleted account is a not_found *Error. The account keeps its
// id and its MCP URLs, which work with the new grant at once.
func (s *Service) CompleteConnect(ctx context.Context, l *ConnectLink, datacenter, refreshToken string, g *Grant) (*Account, error) {
	if l.ReconnectAccountID != "" {
		return s.completeReconnect(ctx, l, datacenter, refreshToken, g)
	}
	name := l.Name
	if name == "" {
		name = g.OrgName
	}
	if name == "" {
		name = "Zoho Bigin " + g.OrgID
	}
	now := s.now().UTC()
	a := &Account{
		ID:           newID(),
		Name:         name,
		Datacenter:   datacenter,
		APIDomain:    g.APIDomain,
		OrgID:        g.OrgID,
		OrgName:      g.OrgName,
		Status:       StatusActive,
		CreatedAt:    now,
		UpdatedAt:    now,
		RefreshToken: refreshToken,
		AccessToken:  g.AccessToken,
		AccessExpiry: g.Expiry,
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.db.UseConnectLink(ctx, l.ID, a); err != nil {
		return nil, err
	}
	s.putAccount(ctx, a, true)
	s.audit(WithCaller(ctx, &Caller{ConnectLinkID: l.ID}), "account.create", a.ID, "", "connect link, datacenter "+datacenter+", org "+g.OrgID)
	return a, nil
}

// completeReconnect replaces the Zoho grant of the account a reconnect
// link names with the one its consent gave (the server's OAuth client,
// refresh and access token), sets the account active and marks the link
// used, in one transaction. The grant must reach the account's org in
// its datacenter: otherwise an *Error wrapping ErrWrongOrg, and nothing
// changes (the link stays usable). The account keeps its id and MCP
// URLs, which the index re-issues with the new credentials at once.
func (s *Service) completeReconnect(ctx context.Context, l *ConnectLink, datacenter, refreshToken string, g *Grant) (*Account, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	a, err := s.db.UseConnectLinkToReconnect(ctx, l.ID, l.ReconnectAccountID, func(a *Account) error {
		if a.Datacenter != datacenter {
			return &Error{Code: CodeInvalidArgument, Err: ErrWrongOrg,
				Message: fmt.Sprintf("this link reconnects an account in Zoho's %s region, but the sign-in came back from %s", a.Datacenter, datacenter)}
		}
		if a.OrgID != "" && a.OrgID != g.OrgID {
			return &Error{Code: CodeInvalidArgument, Err: ErrWrongOrg,
				Message: fmt.Sprintf("this link reconnects the Zoho Bigin organization %q (id %s), but you signed in to %q (id %s)", a.OrgName, a.OrgID, g.OrgName, g.OrgID)}
		}
		a.ClientID, a.ClientSecret = "", ""
		a.RefreshToken = refreshToken
		a.AccessToken, a.AccessExpiry = g.AccessToken, g.Expiry
		a.APIDomain = g.APIDomain
		a.OrgID, a.OrgName = g.OrgID, g.OrgName
		a.Status = StatusActive
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil, &Error{Code: CodeNotFound, Message: "the integrated account this link reconnects was deleted", Err: err}
	}
	if err != nil {
		return nil, err
	}
	s.putAccount(ctx, a, true)
	s.audit(WithCaller(ctx, &Caller{ConnectLinkID: l.ID}), "account.reconnect", a.ID, "", "connect link, datacenter "+datacenter+", org "+g.OrgID)
	return a, nil
}
