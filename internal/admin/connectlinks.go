package admin

import (
	"net/http"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

type connectLinkInput struct {
	Name             string `json:"name,omitempty" jsonschema:"Shown to the customer; a reconnect link's defaults to its account's."`
	Datacenter       string `json:"datacenter,omitempty" jsonschema:"Fixes the datacenter; absent lets the customer pick. A reconnect link's is its account's."`
	ExpiresInSeconds *int64 `json:"expires_in_seconds,omitempty" jsonschema:"The link's lifetime (default 3600)."`
	// AccountID, when set, makes a reconnect link for that account.
	AccountID *string `json:"account_id,omitempty" jsonschema:"Makes a reconnect link for this integrated account."`
}

// Link kinds as the API shows them.
const (
	kindConnect   = "connect"   // creates a new account
	kindReconnect = "reconnect" // repairs the account in account_id
)

type connectLinkView struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Kind       string    `json:"kind"`
	Datacenter *string   `json:"datacenter"`
	AccountID  *string   `json:"account_id"`
	URL        string    `json:"url"`
	ExpiresAt  time.Time `json:"expires_at"`
	CreatedAt  time.Time `json:"created_at"`
}

func (a *API) handleCreateConnectLink(w http.ResponseWriter, r *http.Request) error {
	var in connectLinkInput
	if err := httpx.DecodeBody(w, r, &in); err != nil {
		return err
	}
	lifetime := tokens.DefaultConnectLinkLifetime
	if in.ExpiresInSeconds != nil {
		lifetime = tokens.ConnectLinkLifetime(*in.ExpiresInSeconds)
	}
	var l *tokens.ConnectLink
	var u string
	var err error
	if in.AccountID != nil {
		l, u, err = a.svc.CreateReconnectLink(r.Context(), *in.AccountID, in.Name, in.Datacenter, lifetime)
	} else {
		l, u, err = a.svc.CreateConnectLink(r.Context(), in.Name, in.Datacenter, lifetime)
	}
	if err != nil {
		return err
	}
	v := connectLinkView{ID: l.ID, Name: l.Name, Kind: kindConnect, URL: u, ExpiresAt: l.ExpiresAt.UTC(), CreatedAt: l.CreatedAt.UTC()}
	if l.Datacenter != "" {
		v.Datacenter = &l.Datacenter
	}
	if l.ReconnectAccountID != "" {
		v.Kind, v.AccountID = kindReconnect, &l.ReconnectAccountID
	}
	httpx.WriteJSON(w, http.StatusCreated, v)
	return nil
}

// connectLinkListView is a link as the list shows it: its state and what
// became of it, never its token or URL (shown only when it is created).
type connectLinkListView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Kind       string     `json:"kind"` // connect or reconnect
	Datacenter *string    `json:"datacenter"`
	Status     string     `json:"status"` // usable, used, expired or revoked
	ExpiresAt  time.Time  `json:"expires_at"`
	CreatedAt  time.Time  `json:"created_at"`
	UsedAt     *time.Time `json:"used_at"`
	// AccountID is the account the link created, or the one a reconnect
	// link repairs (from its creation on).
	AccountID *string    `json:"account_id"`
	RevokedAt *time.Time `json:"revoked_at"`
}

func (a *API) viewConnectLink(l *tokens.ConnectLink) connectLinkListView {
	v := connectLinkListView{
		ID: l.ID, Name: l.Name, Kind: kindConnect, Status: a.svc.ConnectLinkState(l).String(),
		ExpiresAt: l.ExpiresAt.UTC(), CreatedAt: l.CreatedAt.UTC(),
	}
	if l.Datacenter != "" {
		v.Datacenter = &l.Datacenter
	}
	if l.UsedAt != nil {
		t := l.UsedAt.UTC()
		v.UsedAt = &t
	}
	if l.AccountID != "" {
		v.AccountID = &l.AccountID
	}
	if l.ReconnectAccountID != "" {
		v.Kind, v.AccountID = kindReconnect, &l.ReconnectAccountID
	}
	if l.RevokedAt != nil {
		t := l.RevokedAt.UTC()
		v.RevokedAt = &t
	}
	return v
}

func (a *API) handleListConnectLinks(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := httpx.ListParams(r)
	if err != nil {
		return err
	}
	list, more, err := a.svc.ConnectLinks(r.Context(), after, limit)
	if err != nil {
		return err
	}
	views := make([]connectLinkListView, 0, len(list))
	last := ""
	for _, l := range list {
		views = append(views, a.viewConnectLink(l))
		last = l.ID
	}
	httpx.WriteJSON(w, http.StatusOK, httpx.NewPage(views, more, last))
	return nil
}

func (a *API) handleRevokeConnectLink(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.svc.RevokeConnectLink(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
