package admin

import (
	"net/http"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

type connectLinkInput struct {
	Name             string `json:"name"`
	Datacenter       string `json:"datacenter"`
	ExpiresInSeconds *int64 `json:"expires_in_seconds"`
}

type connectLinkView struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Datacenter *string   `json:"datacenter"`
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
		lifetime = time.Duration(*in.ExpiresInSeconds) * time.Second
		if *in.ExpiresInSeconds < 0 || *in.ExpiresInSeconds > int64(tokens.MaxConnectLinkLifetime.Seconds()) {
			lifetime = -1
		}
	}
	l, u, err := a.svc.CreateConnectLink(r.Context(), in.Name, in.Datacenter, lifetime)
	if err != nil {
		return err
	}
	v := connectLinkView{ID: l.ID, Name: l.Name, URL: u, ExpiresAt: l.ExpiresAt.UTC(), CreatedAt: l.CreatedAt.UTC()}
	if l.Datacenter != "" {
		v.Datacenter = &l.Datacenter
	}
	httpx.WriteJSON(w, http.StatusCreated, v)
	return nil
}
