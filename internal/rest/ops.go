package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/catalog"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
)

// The Bigin calls behind the unified and proxy APIs. Each returns the
// answer's body; a nil body means "no such record" (404). mapRec turns
// one of Zoho's records into what the API returns (nil: unchanged).

type mapper func(json.RawMessage) (any, error)

func mapAll(recs []json.RawMessage, m mapper) ([]any, error) {
	out := make([]any, 0, len(recs))
	for _, r := range recs {
		if m == nil {
			out = append(out, r)
			continue
		}
		v, err := m(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func envelope(result any, next string) ([]byte, error) {
	var cur any
	if next != "" {
		cur = next
	}
	return json.Marshal(map[string]any{"result": result, "next_cursor": cur})
}

// runFunc is what a route's operation runs against Bigin.
type runFunc = func(context.Context, *catalog.Call) ([]byte, error)

// usersPage lists one page of users of type typ, paged by Zoho.
func usersPage(typ string, m mapper) runFunc {
	return func(ctx context.Context, c *catalog.Call) ([]byte, error) {
		limit := c.PageSize()
		key := typ + "|" + strconv.Itoa(limit)
		page, err := c.Position(key)
		if err != nil {
			return nil, err
		}
		if page == 0 {
			page = 1
		}
		pg, err := c.Client.ListUsers(ctx, bigin.ListUsersParams{Type: typ, Page: page, PerPage: limit})
		if err != nil {
			return nil, err
		}
		next := ""
		if pg.Info.MoreRecords && len(pg.Records) > 0 {
			next = c.NextCursor(key, page+1)
		}
		items, err := mapAll(pg.Records, m)
		if err != nil {
			return nil, err
		}
		return envelope(items, next)
	}
}

// localPage pages a list Zoho returns whole (roles, profiles).
func localPage(fetch func(*bigin.Client) func(context.Context) ([]json.RawMessage, error), m mapper) runFunc {
	return func(ctx context.Context, c *catalog.Call) ([]byte, error) {
		limit := c.PageSize()
		key := strconv.Itoa(limit)
		offset, err := c.Position(key)
		if err != nil {
			return nil, err
		}
		all, err := fetch(c.Client)(ctx)
		if err != nil {
			return nil, err
		}
		offset = min(offset, len(all))
		end := min(offset+limit, len(all))
		next := ""
		if end < len(all) {
			next = c.NextCursor(key, end)
		}
		items, err := mapAll(all[offset:end], m)
		if err != nil {
			return nil, err
		}
		return envelope(items, next)
	}
}

// fromList finds the record with id in a list Zoho returns whole.
func fromList(fetch func(*bigin.Client) func(context.Context) ([]json.RawMessage, error), id string, m mapper) runFunc {
	return func(ctx context.Context, c *catalog.Call) ([]byte, error) {
		all, err := fetch(c.Client)(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range all {
			var head struct {
				ID json.RawMessage `json:"id"`
			}
			if json.Unmarshal(r, &head) != nil || idString(head.ID) != id {
				continue
			}
			items, err := mapAll([]json.RawMessage{r}, m)
			if err != nil {
				return nil, err
			}
			return envelope(items[0], "")
		}
		return nil, nil
	}
}

// idString reads an id Zoho sent as a string (or, defensively, a number).
func idString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func roles(c *bigin.Client) func(context.Context) ([]json.RawMessage, error) {
	return c.Roles
}

func profiles(c *bigin.Client) func(context.Context) ([]json.RawMessage, error) {
	return c.Profiles
}

// getUser returns one user.
func getUser(id string, m mapper) runFunc {
	return func(ctx context.Context, c *catalog.Call) ([]byte, error) {
		rec, err := c.Client.GetUser(ctx, id)
		if err != nil {
			return nil, err
		}
		items, err := mapAll([]json.RawMessage{rec}, m)
		if err != nil {
			return nil, err
		}
		return envelope(items[0], "")
	}
}

// deleteUser deletes one user.
func deleteUser(id string) runFunc {
	return func(ctx context.Context, c *catalog.Call) ([]byte, error) {
		if err := c.Client.DeleteUser(ctx, id); err != nil {
			return nil, err
		}
		return envelope(deleted{ID: id, Deleted: true}, "")
	}
}

// single returns a one-record resource (the org, the current user) as a
// one-element list, as the tools do.
func single(get func(*bigin.Client) func(context.Context) (json.RawMessage, error)) runFunc {
	return func(ctx context.Context, c *catalog.Call) ([]byte, error) {
		rec, err := get(c.Client)(ctx)
		if err != nil {
			return nil, err
		}
		return envelope([]json.RawMessage{rec}, "")
	}
}

// do runs op for the request's account and answers with its result.
func (a *API) do(w http.ResponseWriter, r *http.Request, surface, accountID string, op catalog.Operation, byID bool) error {
	account, err := a.account(r.Context(), accountID, "integrated_account_id")
	if err != nil {
		return err
	}
	httpx.Annotate(r.Context(), "operation", op.Name)
	return a.answer(w, a.exec.Do(r.Context(), op, account, caller(r.Context(), surface)), byID)
}
