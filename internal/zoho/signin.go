package zoho

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// SignIn completes a person's Zoho sign-in for the OAuth front door: it
// trades the code for a short-lived access token at the accounts server
// Zoho named, reads the current user with it, and drops the token (nothing
// of it is kept). It returns the user as their own token shows them.
func (z *Zoho) SignIn(ctx context.Context, creds tokens.Credentials, accountsServer, code, redirectURI string) (*tokens.Member, error) {
	tok, dc, err := bigin.SignInExchange(ctx, z.dcs, accountsServer, bigin.Credentials(creds), code, redirectURI, z.httpClient)
	if err != nil {
		return nil, fmt.Errorf("exchange sign-in code: %w", err)
	}
	c, err := bigin.NewTokenClient(z.dcs, dc.Key, tok, z.httpClient, nil)
	if err != nil {
		return nil, fmt.Errorf("sign-in client: %w", err)
	}
	raw, err := c.CurrentUser(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the current user: %w", err)
	}
	return parseMember(raw)
}

// Members implements tokens.Members over the accounts' shared clients.
type Members struct{ Clients *Clients }

var _ tokens.Members = Members{}

// Member reads one user of the account's org by id, with the account's
// own credentials. Zoho's unknown-id answer is tokens.ErrNotFound.
func (m Members) Member(ctx context.Context, acc *tokens.AccountInfo, userID string) (*tokens.Member, error) {
	c, err := m.Clients.Get(ctx, acc)
	if err != nil {
		return nil, err
	}
	raw, err := c.GetUser(ctx, userID)
	var ae *bigin.APIError
	if errors.Is(err, bigin.ErrInvalidArgument) || (errors.As(err, &ae) && ae.Code == "INVALID_DATA") {
		return nil, fmt.Errorf("user %s: %w", userID, tokens.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return parseMember(raw)
}

// parseMember reads the fields of a Zoho user record the front door
// needs; ids may be strings or numbers.
func parseMember(raw json.RawMessage) (*tokens.Member, error) {
	var u struct {
		ID       json.RawMessage `json:"id"`
		ZUID     json.RawMessage `json:"zuid"`
		Email    string          `json:"email"`
		FullName string          `json:"full_name"`
		Status   string          `json:"status"`
		Confirm  *bool           `json:"confirm"`
		Profile  struct {
			Name string `json:"name"`
		} `json:"profile"`
	}
	if err := json.Unmarshal(raw, &u); err != nil {
		return nil, fmt.Errorf("decode user: %w", err)
	}
	m := &tokens.Member{UserID: idString(u.ID), ZUID: idString(u.ZUID), Email: u.Email, Name: u.FullName, Profile: u.Profile.Name, Status: u.Status,
		Invited: u.Confirm != nil && !*u.Confirm}
	if m.UserID == "" {
		return nil, errors.New("the user record has no id")
	}
	return m, nil
}

func idString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}
