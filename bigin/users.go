package bigin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// MaxPerPage is the largest page Zoho serves (and its default).
const MaxPerPage = 200

// UserTypes returns Zoho's user type filter values (AllUsers first).
func UserTypes() []string {
	return []string{
		"AllUsers", "ActiveUsers", "DeactiveUsers", "ConfirmedUsers", "NotConfirmedUsers",
		"DeletedUsers", "ActiveConfirmedUsers", "AdminUsers", "ActiveConfirmedAdmins", "CurrentUser",
	}
}

// ListUsersParams selects a page of users.
type ListUsersParams struct {
	Type    string // one of UserTypes(); "" means AllUsers
	Page    int    // 1-based; 0 means 1
	PerPage int    // 1..200; 0 means 200
}

// PageInfo is Zoho's "info" block.
type PageInfo struct {
	Page        int  `json:"page"`
	PerPage     int  `json:"per_page"`
	Count       int  `json:"count"`
	MoreRecords bool `json:"more_records"`
}

// Page is one page of records, each Zoho's JSON object unchanged.
type Page struct {
	Records []json.RawMessage
	Info    PageInfo
}

// ListUsers returns one page of users (a 204 is an empty page):
// GET /bigin/v2/users?type=&page=&per_page=.
func (c *Client) ListUsers(ctx context.Context, p ListUsersParams) (Page, error) {
	if p.Type == "" {
		p.Type = "AllUsers"
	}
	if !slices.Contains(UserTypes(), p.Type) {
		return Page{}, fmt.Errorf("bigin: %w: user type %q; valid types: %s", ErrInvalidArgument, clip(p.Type), strings.Join(UserTypes(), ", "))
	}
	if p.Page < 0 {
		return Page{}, fmt.Errorf("bigin: %w: page must be 1 or more, got %d", ErrInvalidArgument, p.Page)
	}
	if p.PerPage < 0 || p.PerPage > MaxPerPage {
		return Page{}, fmt.Errorf("bigin: %w: per_page must be 1 to %d, got %d", ErrInvalidArgument, MaxPerPage, p.PerPage)
	}
	if p.Page == 0 {
		p.Page = 1
	}
	if p.PerPage == 0 {
		p.PerPage = MaxPerPage
	}
	q := url.Values{"type": {p.Type}, "page": {strconv.Itoa(p.Page)}, "per_page": {strconv.Itoa(p.PerPage)}}
	a, err := c.call(ctx, http.MethodGet, "/users", q)
	if err != nil {
		return Page{}, err
	}
	empty := Page{Records: []json.RawMessage{}, Info: PageInfo{Page: p.Page, PerPage: p.PerPage}}
	if a.top == nil {
		return empty, nil
	}
	recs, err := a.records("users")
	if err != nil {
		return Page{}, err
	}
	pg := Page{Records: recs, Info: PageInfo{Page: p.Page, PerPage: p.PerPage, Count: len(recs)}}
	if _, ok := a.top["info"]; ok {
		if err := a.field("info", &pg.Info); err != nil {
			return Page{}, err
		}
	}
	return pg, nil
}

// maxPages bounds AllUsers against an answer that never ends (a million
// users at 200 a page).
const maxPages = 5000

// AllUsers returns every user of the type ("" means AllUsers), reading
// page after page of 200 while Zoho says there are more records.
func (c *Client) AllUsers(ctx context.Context, typ string) ([]json.RawMessage, error) {
	all := []json.RawMessage{}
	for page := 1; ; page++ {
		if page > maxPages {
			return nil, fmt.Errorf("bigin: Zoho still reports more users after %d pages", maxPages)
		}
		pg, err := c.ListUsers(ctx, ListUsersParams{Type: typ, Page: page, PerPage: MaxPerPage})
		if err != nil {
			return nil, fmt.Errorf("bigin: users page %d: %w", page, err)
		}
		all = append(all, pg.Records...)
		if !pg.Info.MoreRecords || len(pg.Records) == 0 {
			return all, nil
		}
	}
}

// GetUser returns one user's record: GET /bigin/v2/users/{id}. The id must
// be digits; anything else is refused before any call.
func (c *Client) GetUser(ctx context.Context, id string) (json.RawMessage, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	a, err := c.call(ctx, http.MethodGet, "/users/"+id, nil)
	if err != nil {
		return nil, err
	}
	if a.top == nil {
		// a well-formed but unknown id may get 204
		// (UNVERIFIED); report it as Zoho's unknown-id error.
		return nil, &APIError{Status: a.status, Code: "INVALID_DATA", Message: "no user has this id (Zoho answered 204 No Content)"}
	}
	return one(a, "users")
}

// DeleteUser deletes one user: DELETE /bigin/v2/users/{id}. It is never
// retried (except once after a 401 INVALID_TOKEN, which Zoho answers
// before acting). Zoho's refusals (primary user, already deleted, no
// permission) are APIErrors.
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	a, err := c.call(ctx, http.MethodDelete, "/users/"+id, nil)
	if err != nil {
		return err
	}
	if a.top == nil {
		return &APIError{Status: a.status, Code: CodeInvalidResponse, Message: "Zoho answered the delete with no body, so it is not known to have succeeded"}
	}
	var items []struct {
		Code   string `json:"code"`
		Status string `json:"status"`
	}
	if err := a.field("users", &items); err != nil {
		return err
	}
	if len(items) != 1 || items[0].Status != "success" {
		return &APIError{Status: a.status, Code: CodeInvalidResponse, Message: "Zoho's answer to the delete does not say it succeeded"}
	}
	return nil
}

// CurrentUser returns the record of the user the token belongs to:
// GET /bigin/v2/users?type=CurrentUser.
func (c *Client) CurrentUser(ctx context.Context) (json.RawMessage, error) {
	a, err := c.call(ctx, http.MethodGet, "/users", url.Values{"type": {"CurrentUser"}})
	if err != nil {
		return nil, err
	}
	if a.top == nil {
		return nil, &APIError{Status: a.status, Code: CodeInvalidResponse, Message: "Zoho returned no current user"}
	}
	return one(a, "users")
}

// one returns the first record under key; an empty list is an error.
func one(a *answer, key string) (json.RawMessage, error) {
	recs, err := a.records(key)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, &APIError{Status: a.status, Code: CodeInvalidResponse, Message: fmt.Sprintf("the answer's %q is empty", key)}
	}
	return recs[0], nil
}

// maxIDLen bounds a record id; Zoho's are about 18 digits.
const maxIDLen = 30

// checkID refuses a user id that is not 1 to 30 ASCII digits.
func checkID(id string) error { return checkRecordID("user", id) }

// checkRecordID refuses an id that is not 1 to 30 ASCII digits; what
// names the kind of id in the error ("user", "record").
func checkRecordID(what, id string) error {
	if id == "" || len(id) > maxIDLen || strings.Trim(id, "0123456789") != "" {
		return fmt.Errorf("bigin: %w: a %s id is 1 to %d digits, got %q", ErrInvalidArgument, what, maxIDLen, clip(id))
	}
	return nil
}
