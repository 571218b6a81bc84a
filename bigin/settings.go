package bigin

import (
	"context"
	"encoding/json"
	"net/http"
)

// Roles returns every role (Zoho does not paginate roles):
// GET /bigin/v2/settings/roles. A 204 is an empty list.
func (c *Client) Roles(ctx context.Context) ([]json.RawMessage, error) {
	return c.list(ctx, "/settings/roles", "roles")
}

// Profiles returns every profile (Zoho does not paginate profiles):
// GET /bigin/v2/settings/profiles. A 204 is an empty list.
func (c *Client) Profiles(ctx context.Context) ([]json.RawMessage, error) {
	return c.list(ctx, "/settings/profiles", "profiles")
}

func (c *Client) list(ctx context.Context, path, key string) ([]json.RawMessage, error) {
	a, err := c.call(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	if a.top == nil {
		return []json.RawMessage{}, nil
	}
	return a.records(key)
}
