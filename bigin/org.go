package bigin

import (
	"context"
	"encoding/json"
	"net/http"
)

// Org returns the organization record: the one element of
// GET /bigin/v2/org's "org" array.
func (c *Client) Org(ctx context.Context) (json.RawMessage, error) {
	a, err := c.call(ctx, http.MethodGet, "/org", nil)
	if err != nil {
		return nil, err
	}
	if a.top == nil {
		return nil, &APIError{Status: a.status, Code: CodeInvalidResponse, Message: "Zoho returned no organization"}
	}
	return one(a, "org")
}
