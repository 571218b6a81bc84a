package mcp

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/store"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// clientPool keeps one Bigin client per integrated account (SPEC §7), so
// the access token cache and its single-flight refresh are shared by every
// URL and request of that account. A client is rebuilt when the account's
// credentials change.
type clientPool struct {
	db          AccountStore
	dcs         bigin.Datacenters
	clientID    string
	secret      string
	httpClient  *http.Client
	timeout     time.Duration
	logger      *slog.Logger
	persistWait time.Duration

	mu sync.Mutex
	m  map[string]*pooledClient
}

type pooledClient struct {
	version      int64
	client       *bigin.Client
	refreshToken string // the credentials it was built with
}

func (p *clientPool) get(ctx context.Context, acc *tokens.AccountInfo) (*bigin.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pc, ok := p.m[acc.ID]; ok && pc.version == acc.CredentialsVersion {
		return pc.client, nil
	}
	a, err := p.db.Account(ctx, acc.ID)
	if err != nil {
		return nil, fmt.Errorf("load account: %w", err)
	}
	creds := bigin.Credentials{ClientID: a.ClientID, ClientSecret: a.ClientSecret, RefreshToken: a.RefreshToken}
	if creds.ClientID == "" {
		creds.ClientID, creds.ClientSecret = p.clientID, p.secret
	}
	opts := bigin.Options{
		Datacenters: p.dcs,
		Datacenter:  a.Datacenter,
		Credentials: creds,
		APIDomain:   a.APIDomain,
		HTTPClient:  p.httpClient,
		Timeout:     p.timeout,
		OnToken:     p.persister(acc.ID),
	}
	if a.AccessToken != "" {
		opts.Token = &bigin.Token{AccessToken: a.AccessToken, Expiry: a.AccessExpiry, APIDomain: a.APIDomain}
	}
	c, err := bigin.NewClient(opts)
	if err != nil {
		return nil, fmt.Errorf("account %s: %w", acc.ID, err)
	}
	p.m[acc.ID] = &pooledClient{version: acc.CredentialsVersion, client: c, refreshToken: a.RefreshToken}
	return c, nil
}

// stillCurrent reports whether the client's refresh token is still the
// account's: a call that started before an admin replaced refused
// credentials must not mark the fixed account needs_reauth again.
func (p *clientPool) stillCurrent(ctx context.Context, accountID string, c *bigin.Client) bool {
	p.mu.Lock()
	pc := p.m[accountID]
	p.mu.Unlock()
	if pc == nil || pc.client != c {
		return false
	}
	a, err := p.db.Account(ctx, accountID)
	if err != nil {
		return false
	}
	return a.RefreshToken == pc.refreshToken
}

// persister stores each refreshed access token (sealed by the store), so a
// restart does not spend Zoho's refresh quota (10 per 10 minutes).
func (p *clientPool) persister(accountID string) func(bigin.Token) {
	return func(t bigin.Token) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := p.db.UpdateAccount(ctx, accountID, func(a *store.Account) error {
			a.AccessToken, a.AccessExpiry = t.AccessToken, t.Expiry
			if t.APIDomain != "" {
				a.APIDomain = t.APIDomain
			}
			return nil
		})
		if err != nil {
			p.logger.Warn("persist access token", "account_id", accountID, "err", err)
		}
	}
}
