package httpx

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"

	"github.com/google/uuid"
)

// Page is a list answer: {"result": [...], "next_cursor": "…" | null}.
type Page[T any] struct {
	Result     []T     `json:"result"`
	NextCursor *string `json:"next_cursor"`
}

// NewPage builds a Page whose cursor, when more follow, continues after
// lastID.
func NewPage[T any](items []T, more bool, lastID string) Page[T] {
	p := Page[T]{Result: items}
	if p.Result == nil {
		p.Result = []T{}
	}
	if more && lastID != "" {
		c := base64.RawURLEncoding.EncodeToString([]byte(lastID))
		p.NextCursor = &c
	}
	return p
}

// ListParams reads ?limit= (1–100, default 20) and ?next_cursor= (opaque:
// base64url of the last ID of the previous page).
func ListParams(r *http.Request) (after string, limit int, err error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "", 0, invalidf("the query string is malformed (check its %%-escapes)")
	}
	limit = 20
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return "", 0, invalidf("limit must be a whole number from 1 to 100")
		}
		limit = n
	}
	if c := q.Get("next_cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil {
			return "", 0, errBadCursor
		}
		if _, err := uuid.Parse(string(b)); err != nil {
			return "", 0, errBadCursor
		}
		after = string(b)
	}
	return after, limit, nil
}

var errBadCursor = invalidf("next_cursor is not one this server issued; pass the next_cursor of the previous page, or none for the first page")
