package tokens

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bigin-mcp/bigin-mcp/internal/clock"
)

// The OAuth front door of oauth MCP URLs: a person signs in with Zoho, is
// admitted only as an active user of the URL's Bigin org (and of its
// oauth_profiles), approves a client, and the client gets short-lived
// access tokens and rotating refresh tokens bound to the URL, the client
// and that person.

// Lifetimes of what a grant issues.
const (
	// OAuthCodeLifetime bounds the time between approval and exchange.
	OAuthCodeLifetime = 5 * time.Minute
	// OAuthAccessLifetime is an access token's lifetime.
	OAuthAccessLifetime = time.Hour
	// OAuthRefreshLifetime is how long a grant lives without a refresh;
	// every refresh starts it again.
	OAuthRefreshLifetime = 30 * 24 * time.Hour
	// MaxUsedRefreshHashes is how many rotated-away refresh tokens a grant
	// remembers for reuse detection.
	MaxUsedRefreshHashes = 64
	// OAuthRefreshGrace is how long after a refresh the refresh token it
	// rotated away still gets, from the same client, the pair that
	// refresh issued: the retry of a client whose answer was lost.
	OAuthRefreshGrace = time.Minute
)

// Token prefixes of the OAuth front door.
const (
	OAuthAccessPrefix  = "bmcp_at_"
	OAuthRefreshPrefix = "bmcp_rt_"
	OAuthCodePrefix    = "bmcp_code_"
	OAuthClientPrefix  = "bmcp_client_"
)

// OAuth error codes (RFC 6749 §5.2, RFC 8707) that the token endpoint
// answers with.
const (
	OAuthInvalidRequest     = "invalid_request"
	OAuthInvalidClient      = "invalid_client"
	OAuthInvalidGrant       = "invalid_grant"
	OAuthInvalidTarget      = "invalid_target"
	OAuthUnavailable        = "temporarily_unavailable"
	OAuthUnsupportedGrant   = "unsupported_grant_type"
	OAuthAccessDenied       = "access_denied"
	OAuthInvalidRedirectURI = "invalid_redirect_uri"
)

// OAuthError is a refusal in OAuth's terms: Code is one of the OAuth
// error codes above, Description says why without any token or secret.
type OAuthError struct {
	Code        string
	Description string
	Err         error
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

// Unwrap returns the cause.
func (e *OAuthError) Unwrap() error { return e.Err }

func oauthErr(code, format string, args ...any) *OAuthError {
	return &OAuthError{Code: code, Description: fmt.Sprintf(format, args...)}
}

// Member is a Bigin user as Zoho reports them.
type Member struct {
	UserID  string // the Bigin user id (org-scoped)
	ZUID    string // the Zoho account id
	Email   string
	Name    string
	Profile string // the Bigin profile's name
	Status  string // "active", "disabled", "deleted", …
	// Invited is set for a user the org invited who has not accepted the
	// invitation yet (Zoho's confirm: false).
	Invited bool
}

// Members reads an org's view of one of its users. The wiring implements
// it over the account's Bigin client.
type Members interface {
	// Member returns the user of the account's org with this id:
	// ErrNotFound when the org has no such user, another error when Zoho
	// could not be asked.
	Member(ctx context.Context, account *AccountInfo, userID string) (*Member, error)
}

// OAuthOptions configures NewOAuth.
type OAuthOptions struct {
	Service *Service // required
	Members Members  // required
	// Key (at least 32 bytes; derive it from the secret key, the same on
	// every replica) derives the pair a refresh issues from the refresh
	// token presented, so a retried refresh gets that same pair without
	// the pair being stored.
	Key    []byte
	Clock  clock.Clock
	Logger *slog.Logger
}

// OAuth is the policy of the OAuth front door: who may approve, what a
// grant is bound to, token rotation and reuse detection, and what ends a
// grant. It is safe for concurrent use.
type OAuth struct {
	svc     *Service
	db      Store
	members Members
	key     []byte
	now     func() time.Time
	logger  *slog.Logger
}

// NewOAuth returns the OAuth policy over the Service's store.
func NewOAuth(o OAuthOptions) (*OAuth, error) {
	if o.Service == nil || o.Members == nil {
		return nil, errors.New("tokens: NewOAuth needs a Service and Members")
	}
	if len(o.Key) < 32 {
		return nil, errors.New("tokens: NewOAuth needs a key of at least 32 bytes")
	}
	l := o.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &OAuth{svc: o.Service, db: o.Service.db, members: o.Members, key: slices.Clone(o.Key), now: clock.OrSystem(o.Clock).Now, logger: l}, nil
}

// Resolve resolves the MCP URL token of an OAuth resource: ErrNotFound
// when it is unknown, deleted, expired or not an oauth URL.
func (o *OAuth) Resolve(ctx context.Context, urlToken string) (*Resolved, error) {
	res, err := o.svc.Resolve(ctx, urlToken)
	if err != nil {
		return nil, err
	}
	if res.Server.Config.AuthMode() != AuthOAuth {
		return nil, ErrNotFound
	}
	return res, nil
}

// Admit decides whether the person who signed in with Zoho (signedIn, as
// their own token showed them) may approve connections to the URL: they
// must be an active user of the URL's org who has accepted the org's
// invitation, with one of its oauth_profiles when it has any. The org's own view of the user decides (read through
// Members with the account's credentials) and is returned. A refusal is a
// *Error with CodePermissionDenied whose message the person can read.
func (o *OAuth) Admit(ctx context.Context, res *Resolved, signedIn *Member) (*Member, error) {
	org := res.Account.OrgName
	if org == "" {
		org = res.Account.Name
	}
	denied := func(format string, args ...any) error {
		return &Error{Code: CodePermissionDenied, Message: fmt.Sprintf(format, args...)}
	}
	if signedIn == nil || signedIn.UserID == "" {
		return nil, denied("Zoho did not say which Bigin user signed in")
	}
	if !strings.EqualFold(signedIn.Status, "active") {
		return nil, denied("your Bigin user (%s) is not active, so it cannot approve connections", signedIn.Email)
	}
	m, err := o.members.Member(ctx, res.Account, signedIn.UserID)
	if errors.Is(err, ErrNotFound) {
		return nil, denied("you signed in as %s, who is not a user of the Bigin organization %q", signedIn.Email, org)
	}
	if err != nil {
		return nil, &Error{Code: CodeUpstreamError, Message: "could not ask Zoho whether you are a user of the organization; try again later", Err: err}
	}
	sameZUID := signedIn.ZUID != "" && m.ZUID != "" && signedIn.ZUID == m.ZUID
	sameEmail := signedIn.ZUID == "" && m.ZUID == "" && signedIn.Email != "" && strings.EqualFold(signedIn.Email, m.Email)
	if !sameZUID && !sameEmail {
		return nil, denied("you signed in as %s, who is not a user of the Bigin organization %q", signedIn.Email, org)
	}
	if !strings.EqualFold(m.Status, "active") {
		return nil, denied("your user in the Bigin organization %q is not active (%s)", org, m.Status)
	}
	// An invited user is listed, even as active, before they accept: the
	// org has not yet seen the Zoho account behind the invitation's
	// e-mail address sign in as its user, so it does not vouch for them.
	if m.Invited {
		return nil, denied("your user in the Bigin organization %q has not accepted the organization's invitation yet; accept it in Bigin, then try again", org)
	}
	if p := res.Server.Config.OAuthProfiles; len(p) > 0 && !slices.ContainsFunc(p, func(n string) bool { return strings.EqualFold(n, m.Profile) }) {
		return nil, denied("this MCP URL can only be approved by users with the Bigin profile %s; yours is %q", strings.Join(p, " or "), m.Profile)
	}
	return m, nil
}

// CodeRequest is an approved authorization request.
type CodeRequest struct {
	ClientID      string
	ClientName    string
	RedirectURI   string
	CodeChallenge string // PKCE S256 challenge
	Member        *Member
}

// IssueCode records the approval as a new grant and returns its
// authorization code (single use, OAuthCodeLifetime).
func (o *OAuth) IssueCode(ctx context.Context, res *Resolved, req CodeRequest) (string, error) {
	if req.Member == nil || req.ClientID == "" || req.RedirectURI == "" || req.CodeChallenge == "" {
		return "", errors.New("tokens: IssueCode needs a member, a client, a redirect URI and a code challenge")
	}
	now := o.now().UTC()
	code := newToken(OAuthCodePrefix)
	g := &OAuthGrant{
		ID:          newID(),
		MCPServerID: res.Server.ID,
		AccountID:   res.Server.AccountID,
		AuthEpoch:   res.Server.Config.AuthEpoch,
		ClientID:    req.ClientID,
		ClientName:  req.ClientName,
		UserID:      req.Member.UserID,
		ZUID:        req.Member.ZUID,
		Email:       req.Member.Email,
		Profile:     req.Member.Profile,

		CodeHash:      HashToken(code),
		CodeChallenge: req.CodeChallenge,
		RedirectURI:   req.RedirectURI,
		CodeExpiresAt: now.Add(OAuthCodeLifetime),
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	if err := o.db.CreateOAuthGrant(ctx, g); err != nil {
		return "", fmt.Errorf("store OAuth grant: %w", err)
	}
	o.svc.audit(WithCaller(ctx, &Caller{Grant: g}), "oauth_grant.create", g.AccountID, g.MCPServerID,
		fmt.Sprintf("grant %s, client %s, user %s", g.ID, clipClient(g.ClientID), g.Email))
	return code, nil
}

// Issued is what the token endpoint hands out.
type Issued struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration
	Grant        *OAuthGrant
}

// errTokenReused is what a grant update returns when the code or refresh
// token it was to spend has already been spent.
var errTokenReused = errors.New("code or refresh token already used")

// ExchangeCode trades an authorization code for tokens. resourceToken is
// the MCP URL token of the request's resource (required). A code used a
// second time revokes the grant it created.
func (o *OAuth) ExchangeCode(ctx context.Context, code, clientID, redirectURI, verifier, resourceToken string) (*Issued, error) {
	invalid := oauthErr(OAuthInvalidGrant, "the authorization code is unknown, expired, used or was issued for another client, redirect URI or resource")
	if !strings.HasPrefix(code, OAuthCodePrefix) {
		return nil, invalid
	}
	h := HashToken(code)
	g, err := o.db.OAuthGrantByHash(ctx, h)
	if errors.Is(err, ErrNotFound) {
		return nil, invalid
	}
	if err != nil {
		return nil, fmt.Errorf("load OAuth grant: %w", err)
	}
	if subtle.ConstantTimeCompare(g.CodeHash[:], h[:]) != 1 {
		return nil, invalid // a token of another kind
	}
	if g.CodeUsedAt != nil {
		o.revoke(ctx, g, "authorization code reused")
		return nil, invalid
	}
	now := o.now().UTC()
	if !now.Before(g.CodeExpiresAt) || g.ClientID != clientID || g.RedirectURI != redirectURI {
		return nil, invalid
	}
	if verifier == "" || !pkceMatches(g.CodeChallenge, verifier) {
		return nil, oauthErr(OAuthInvalidGrant, "code_verifier does not match the code_challenge (PKCE S256)")
	}
	if _, err := o.serverOf(ctx, g, resourceToken, true); err != nil {
		return nil, err
	}
	access, refresh := newToken(OAuthAccessPrefix), newToken(OAuthRefreshPrefix)
	return o.issue(ctx, g.ID, h, access, refresh, now, "authorization code reused", invalid, func(g *OAuthGrant) error {
		if g.CodeUsedAt != nil {
			return errTokenReused
		}
		g.CodeUsedAt = &now
		return nil
	})
}

// Refresh rotates a grant's refresh token: the old one stops working and
// presenting it again revokes the grant, except as the retry of a refresh
// whose answer was lost: the token just rotated away, presented by the
// same client within OAuthRefreshGrace, gets the pair that rotation
// issued. The person must still be an active member of the org (and of
// its oauth_profiles), or the grant ends. resourceToken, when not empty,
// must be the grant's URL.
func (o *OAuth) Refresh(ctx context.Context, refreshToken, clientID, resourceToken string) (*Issued, error) {
	invalid := oauthErr(OAuthInvalidGrant, "the refresh token is unknown, expired, revoked or was issued to another client")
	if !strings.HasPrefix(refreshToken, OAuthRefreshPrefix) {
		return nil, invalid
	}
	h := HashToken(refreshToken)
	g, err := o.db.OAuthGrantByHash(ctx, h)
	if errors.Is(err, ErrNotFound) {
		return nil, invalid
	}
	if err != nil {
		return nil, fmt.Errorf("load OAuth grant: %w", err)
	}
	now := o.now().UTC()
	access, refresh := o.refreshPair(refreshToken)
	if slices.Contains(g.UsedRefreshHashes, h) {
		if retried(g, h, refresh, clientID, now) {
			if _, err := o.serverOf(ctx, g, resourceToken, false); err != nil {
				return nil, err
			}
			return &Issued{AccessToken: access, RefreshToken: refresh, ExpiresIn: g.AccessExpiresAt.Sub(now), Grant: g}, nil
		}
		o.revoke(ctx, g, "refresh token reused")
		return nil, invalid
	}
	if subtle.ConstantTimeCompare(g.RefreshHash[:], h[:]) != 1 || g.ClientID != clientID {
		return nil, invalid
	}
	if !now.Before(g.RefreshExpiresAt) {
		o.revoke(ctx, g, "refresh token expired")
		return nil, invalid
	}
	res, err := o.serverOf(ctx, g, resourceToken, false)
	if err != nil {
		return nil, err
	}
	m, err := o.Admit(ctx, res, &Member{UserID: g.UserID, ZUID: g.ZUID, Email: g.Email, Status: "active"})
	if err != nil {
		var te *Error
		if errors.As(err, &te) && te.Code == CodePermissionDenied {
			o.revoke(ctx, g, "the user may no longer approve: "+te.Message)
			return nil, oauthErr(OAuthInvalidGrant, "%s; the grant has ended", te.Message)
		}
		o.logger.WarnContext(ctx, "OAuth refresh: membership check failed", "grant_id", g.ID, "err", err)
		return nil, &OAuthError{Code: OAuthUnavailable, Description: "could not check with Zoho that you are still a user of the organization; try again later", Err: err}
	}
	return o.issue(ctx, g.ID, h, access, refresh, now, "refresh token reused", invalid, func(g *OAuthGrant) error {
		if g.RefreshHash != h {
			if retried(g, h, refresh, clientID, now) {
				return errRetried // a concurrent refresh with the same token won
			}
			return errTokenReused
		}
		g.UsedRefreshHashes = append(g.UsedRefreshHashes, h)
		if n := len(g.UsedRefreshHashes); n > MaxUsedRefreshHashes {
			g.UsedRefreshHashes = slices.Clone(g.UsedRefreshHashes[n-MaxUsedRefreshHashes:])
		}
		g.Profile = m.Profile
		return nil
	})
}

// errRetried is what a grant update returns when the refresh token it was
// to spend was just spent by the same client's refresh (retried, or sent
// twice at once), which issued the pair this one would.
var errRetried = errors.New("refresh token just rotated by the same client")

// refreshPair returns the access and refresh tokens that a refresh with
// refreshToken issues: HMAC-SHA256 of it under the OAuth key, one label
// each. Deriving them, instead of drawing them at random, is what lets a
// retry of a refresh whose answer was lost get the same pair, on any
// replica, without the pair being stored anywhere: only its hashes are,
// as always, and only the holder of the refresh token can derive it.
func (o *OAuth) refreshPair(refreshToken string) (access, refresh string) {
	derive := func(prefix, label string) string {
		m := hmac.New(sha256.New, o.key)
		m.Write([]byte(label))
		m.Write([]byte{0})
		m.Write([]byte(refreshToken))
		return prefix + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	return derive(OAuthAccessPrefix, "bigin-mcp oauth access"), derive(OAuthRefreshPrefix, "bigin-mcp oauth refresh")
}

// retried reports whether the used refresh token with hash h, presented
// by clientID at now, is the retry of the grant's latest refresh: the
// same client, the token that refresh rotated away, within
// OAuthRefreshGrace of it, and the grant still holding the pair it
// issued (refresh is that pair's refresh token).
func retried(g *OAuthGrant, h [32]byte, refresh, clientID string, now time.Time) bool {
	n := len(g.UsedRefreshHashes)
	if n == 0 || g.UsedRefreshHashes[n-1] != h || g.ClientID != clientID {
		return false
	}
	want := HashToken(refresh)
	if subtle.ConstantTimeCompare(g.RefreshHash[:], want[:]) != 1 {
		return false
	}
	// A pair's refresh token expires OAuthRefreshLifetime after it was
	// issued (see issue), which dates the latest rotation.
	rotated := g.RefreshExpiresAt.Add(-OAuthRefreshLifetime)
	return now.Before(rotated.Add(OAuthRefreshGrace))
}

// issue stores the access and refresh token pair in grant id, after use
// has marked the presented code or refresh token (hash h) spent. use
// returns errTokenReused when a concurrent request spent it first: that is
// a replay, so the grant is revoked with reason and the request gets
// invalid, as does a grant that is gone. It returns errRetried when the
// same client's concurrent refresh issued this very pair: the pair is
// answered again.
func (o *OAuth) issue(ctx context.Context, id string, h [32]byte, access, refresh string, now time.Time, reason string, invalid error, use func(*OAuthGrant) error) (*Issued, error) {
	g, err := o.db.UpdateOAuthGrant(ctx, id, func(g *OAuthGrant) error {
		if err := use(g); err != nil {
			return err
		}
		g.AccessHash, g.AccessExpiresAt = HashToken(access), now.Add(OAuthAccessLifetime)
		g.RefreshHash, g.RefreshExpiresAt = HashToken(refresh), now.Add(OAuthRefreshLifetime)
		return nil
	})
	if errors.Is(err, errRetried) {
		cur, err := o.db.OAuthGrant(ctx, id)
		if err != nil {
			return nil, invalid
		}
		return &Issued{AccessToken: access, RefreshToken: refresh, ExpiresIn: cur.AccessExpiresAt.Sub(now), Grant: cur}, nil
	}
	if errors.Is(err, errTokenReused) {
		if cur, err := o.db.OAuthGrantByHash(ctx, h); err == nil {
			o.revoke(ctx, cur, reason)
		}
		return nil, invalid
	}
	if errors.Is(err, ErrNotFound) {
		return nil, invalid
	}
	if err != nil {
		return nil, fmt.Errorf("store OAuth grant: %w", err)
	}
	return &Issued{AccessToken: access, RefreshToken: refresh, ExpiresIn: OAuthAccessLifetime, Grant: g}, nil
}

// serverOf returns the live oauth URL a grant belongs to, checking the
// request's resource against it. A grant whose URL is gone, no longer
// oauth or in another auth epoch is revoked.
func (o *OAuth) serverOf(ctx context.Context, g *OAuthGrant, resourceToken string, required bool) (*Resolved, error) {
	if resourceToken == "" && required {
		return nil, oauthErr(OAuthInvalidTarget, "resource is required and must be the MCP URL")
	}
	res := o.svc.resolvedByID(g.AccountID, g.MCPServerID)
	if res == nil || pastExpiry(res.Server.ExpiresAt, o.now()) || res.Server.Config.AuthMode() != AuthOAuth || res.Server.Config.AuthEpoch != g.AuthEpoch {
		o.revoke(ctx, g, "the MCP URL was deleted, expired or no longer uses oauth")
		return nil, oauthErr(OAuthInvalidGrant, "the MCP URL of this grant was deleted, expired or no longer uses OAuth")
	}
	if resourceToken != "" {
		want := HashToken(resourceToken)
		if subtle.ConstantTimeCompare(want[:], res.Server.TokenHash[:]) != 1 {
			return nil, oauthErr(OAuthInvalidTarget, "resource is not the MCP URL this grant was issued for")
		}
	}
	return res, nil
}

// Authenticate checks an access token presented to an oauth URL and
// returns its grant: ErrUnauthenticated when it is unknown, expired,
// issued for another URL or from an earlier auth epoch.
func (o *OAuth) Authenticate(ctx context.Context, res *Resolved, accessToken string) (*OAuthGrant, error) {
	if !strings.HasPrefix(accessToken, OAuthAccessPrefix) || len(accessToken) != len(OAuthAccessPrefix)+randomChars {
		return nil, ErrUnauthenticated
	}
	h := HashToken(accessToken)
	g, err := o.db.OAuthGrantByHash(ctx, h)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, fmt.Errorf("load OAuth grant: %w", err)
	}
	if subtle.ConstantTimeCompare(g.AccessHash[:], h[:]) != 1 || !o.now().Before(g.AccessExpiresAt) ||
		g.MCPServerID != res.Server.ID || g.AuthEpoch != res.Server.Config.AuthEpoch || res.Server.Config.AuthMode() != AuthOAuth {
		return nil, ErrUnauthenticated
	}
	return g, nil
}

// revoke deletes a grant for reason, with an audit entry. A grant already
// gone is fine.
func (o *OAuth) revoke(ctx context.Context, g *OAuthGrant, reason string) {
	if _, err := o.db.DeleteOAuthGrant(ctx, g.ID); err != nil {
		if !errors.Is(err, ErrNotFound) {
			o.logger.ErrorContext(ctx, "revoke OAuth grant", "grant_id", g.ID, "err", err)
		}
		return
	}
	o.logger.InfoContext(ctx, "OAuth grant revoked", "grant_id", g.ID, "mcp_server_id", g.MCPServerID, "reason", reason)
	o.svc.audit(ctx, "oauth_grant.revoke", g.AccountID, g.MCPServerID, "grant "+g.ID+": "+reason)
}

// Grants lists the grants of one of the account's live MCP URLs.
func (o *OAuth) Grants(ctx context.Context, accountID, serverID, after string, limit int) ([]*OAuthGrant, bool, error) {
	if _, err := o.svc.MCPServer(ctx, accountID, serverID); err != nil {
		return nil, false, err
	}
	list, more, err := o.db.OAuthGrants(ctx, serverID, after, limit)
	if err != nil {
		return nil, false, fmt.Errorf("list OAuth grants: %w", err)
	}
	return list, more, nil
}

// RevokeGrant ends one grant of one of the account's MCP URLs: its access
// and refresh tokens stop working at once.
func (o *OAuth) RevokeGrant(ctx context.Context, accountID, serverID, grantID string) error {
	if _, err := o.svc.MCPServer(ctx, accountID, serverID); err != nil {
		return err
	}
	notFound := notFoundf("no OAuth grant with this id on this MCP server")
	g, err := o.db.OAuthGrant(ctx, grantID)
	if errors.Is(err, ErrNotFound) || (err == nil && g.MCPServerID != serverID) {
		return notFound
	}
	if err != nil {
		return fmt.Errorf("load OAuth grant: %w", err)
	}
	deleted, err := o.db.DeleteOAuthGrant(ctx, grantID)
	if errors.Is(err, ErrNotFound) {
		return notFound
	}
	if err != nil {
		return fmt.Errorf("delete OAuth grant: %w", err)
	}
	o.svc.audit(ctx, "oauth_grant.revoke", deleted.AccountID, deleted.MCPServerID, "grant "+deleted.ID+" revoked by an admin")
	return nil
}

// RegisterClient stores a dynamically registered public client and
// returns it with its new client_id.
func (o *OAuth) RegisterClient(ctx context.Context, name string, redirectURIs []string) (*OAuthClient, error) {
	c := &OAuthClient{
		ID:           OAuthClientPrefix + strings.ReplaceAll(newID(), "-", ""),
		Name:         name,
		RedirectURIs: slices.Clone(redirectURIs),
		CreatedAt:    o.now().UTC(),
	}
	if err := o.db.CreateOAuthClient(ctx, c); err != nil {
		return nil, fmt.Errorf("store OAuth client: %w", err)
	}
	return c, nil
}

// Client returns a registered client (ErrNotFound if none).
func (o *OAuth) Client(ctx context.Context, id string) (*OAuthClient, error) {
	if !strings.HasPrefix(id, OAuthClientPrefix) {
		return nil, ErrNotFound
	}
	return o.db.OAuthClient(ctx, id)
}

// pkceMatches checks an S256 code verifier (RFC 7636: 43 to 128
// characters) against its challenge.
func pkceMatches(challenge, verifier string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// clipClient shortens a client id (a URL for metadata-document clients)
// for the audit log, cutting between characters.
func clipClient(id string) string {
	if len(id) <= 120 {
		return id
	}
	cut := 120
	for cut > 0 && !utf8.RuneStart(id[cut]) {
		cut--
	}
	return id[:cut] + "…"
}

// OAuthClientIdleLifetime is how long a registered client that holds no
// grant is kept: one never used, or whose last grant ended. Dynamic
// Client Registration is open to anyone, so clients nobody uses must not
// pile up in the store.
const OAuthClientIdleLifetime = 24 * time.Hour

// SweepOAuthClients deletes the registered clients that hold no grant and
// are older than OAuthClientIdleLifetime (by the Service's clock), and
// reports how many. A deleted client gets invalid_client at the token
// endpoint and registers again.
func (s *Service) SweepOAuthClients(ctx context.Context) (int, error) {
	n, err := s.db.DeleteIdleOAuthClients(ctx, s.now().Add(-OAuthClientIdleLifetime))
	if err != nil {
		return n, fmt.Errorf("delete idle OAuth clients: %w", err)
	}
	if n > 0 {
		s.logger.InfoContext(ctx, "deleted idle OAuth clients", "count", n)
	}
	return n, nil
}

// dropGrants ends every grant of an MCP server (its URL was deleted,
// expired or changed auth). Grants are void by then anyway (the URL no
// longer resolves, or its auth epoch moved), so a failure here is logged,
// not returned.
func (s *Service) dropGrants(ctx context.Context, serverID, reason string) {
	n, err := s.db.DeleteOAuthGrantsOf(context.WithoutCancel(ctx), serverID)
	if err != nil {
		s.logger.WarnContext(ctx, "delete OAuth grants", "mcp_server_id", serverID, "err", err)
		return
	}
	if n > 0 {
		s.logger.InfoContext(ctx, "OAuth grants ended", "mcp_server_id", serverID, "count", n, "reason", reason)
	}
}

// resolvedByID returns the index entry of one of the account's servers,
// expired or not (nil if it is not indexed).
func (s *Service) resolvedByID(accountID, serverID string) *Resolved {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if ae := s.accounts[accountID]; ae != nil {
		return ae.servers[serverID]
	}
	return nil
}
