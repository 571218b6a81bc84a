package rest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/catalog"
)

// The Unified User Directory schema. Each field's source in Zoho's user
// and role objects is documented in the README and the OpenAPI document.

// User statuses of the unified schema.
const (
	statusActive   = "active"
	statusInactive = "inactive"
	statusDeleted  = "deleted"
	statusInvited  = "invited"
)

// UnifiedUser is a directory user.
type UnifiedUser struct {
	ID         string          `json:"id"`
	FirstName  *string         `json:"first_name"`
	LastName   *string         `json:"last_name"`
	Name       *string         `json:"name"`
	Emails     []UnifiedEmail  `json:"emails"`
	Status     string          `json:"status"`
	Roles      []UnifiedRef    `json:"roles"`
	CreatedAt  *string         `json:"created_at"`
	UpdatedAt  *string         `json:"updated_at"`
	RemoteData json.RawMessage `json:"remote_data"`
}

// UnifiedEmail is one of a user's email addresses.
type UnifiedEmail struct {
	Email     string `json:"email"`
	Type      string `json:"type"`
	IsPrimary bool   `json:"is_primary"`
}

// UnifiedRef names a role a user has.
type UnifiedRef struct {
	ID   string  `json:"id"`
	Name *string `json:"name"`
}

// UnifiedRole is a directory role.
type UnifiedRole struct {
	ID           string          `json:"id"`
	Name         *string         `json:"name"`
	Description  *string         `json:"description"`
	ParentRoleID *string         `json:"parent_role_id"`
	RemoteData   json.RawMessage `json:"remote_data"`
}

// zohoRef is Zoho's {"name","id"} reference.
type zohoRef struct {
	ID   json.RawMessage `json:"id"`
	Name *string         `json:"name"`
}

// unifiedUser maps Zoho's user object.
func unifiedUser(raw json.RawMessage) (any, error) {
	var z struct {
		ID           json.RawMessage `json:"id"`
		FirstName    *string         `json:"first_name"`
		LastName     *string         `json:"last_name"`
		FullName     *string         `json:"full_name"`
		Email        *string         `json:"email"`
		Role         *zohoRef        `json:"role"`
		Status       *string         `json:"status"`
		Confirm      *bool           `json:"confirm"`
		CreatedTime  *string         `json:"created_time"`
		ModifiedTime *string         `json:"Modified_Time"`
	}
	if err := json.Unmarshal(raw, &z); err != nil {
		return nil, fmt.Errorf("rest: Zoho's user object: %w", err)
	}
	u := UnifiedUser{
		ID: idString(z.ID), FirstName: blankNil(z.FirstName), LastName: blankNil(z.LastName), Name: blankNil(z.FullName),
		Emails: []UnifiedEmail{}, Roles: []UnifiedRef{}, Status: userStatus(z.Status, z.Confirm),
		CreatedAt: timestamp(z.CreatedTime), UpdatedAt: timestamp(z.ModifiedTime), RemoteData: raw,
	}
	if u.Name == nil {
		var parts []string
		for _, p := range []*string{u.FirstName, u.LastName} {
			if p != nil {
				parts = append(parts, *p)
			}
		}
		if len(parts) > 0 {
			n := strings.Join(parts, " ")
			u.Name = &n
		}
	}
	if e := blankNil(z.Email); e != nil {
		u.Emails = append(u.Emails, UnifiedEmail{Email: *e, Type: "work", IsPrimary: true})
	}
	if z.Role != nil && idString(z.Role.ID) != "" {
		u.Roles = append(u.Roles, UnifiedRef{ID: idString(z.Role.ID), Name: z.Role.Name})
	}
	return u, nil
}

// userStatus maps Zoho's status and confirm: deleted stays deleted; a
// user who is not active (Zoho's "disabled" or any other value) is
// inactive; an active user who has not confirmed the invitation is
// invited; else active.
func userStatus(status *string, confirm *bool) string {
	s := ""
	if status != nil {
		s = strings.ToLower(*status)
	}
	switch {
	case s == "deleted":
		return statusDeleted
	case s != "active":
		return statusInactive
	case confirm != nil && !*confirm:
		return statusInvited
	}
	return statusActive
}

// unifiedRole maps Zoho's role object.
func unifiedRole(raw json.RawMessage) (any, error) {
	var z struct {
		ID           json.RawMessage `json:"id"`
		Name         *string         `json:"name"`
		DisplayLabel *string         `json:"display_label"`
		Description  *string         `json:"description"`
		ReportingTo  *zohoRef        `json:"reporting_to"`
	}
	if err := json.Unmarshal(raw, &z); err != nil {
		return nil, fmt.Errorf("rest: Zoho's role object: %w", err)
	}
	r := UnifiedRole{ID: idString(z.ID), Name: blankNil(z.DisplayLabel), Description: blankNil(z.Description), RemoteData: raw}
	if r.Name == nil {
		r.Name = blankNil(z.Name)
	}
	if z.ReportingTo != nil {
		if p := idString(z.ReportingTo.ID); p != "" {
			r.ParentRoleID = &p
		}
	}
	return r, nil
}

func blankNil(s *string) *string {
	if s == nil || strings.TrimSpace(*s) == "" {
		return nil
	}
	return s
}

// timestamp turns Zoho's ISO 8601 time with offset into RFC 3339 in UTC;
// an absent or unreadable time is null.
func timestamp(s *string) *string {
	if s == nil {
		return nil
	}
	t, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		return nil
	}
	v := t.UTC().Format(time.RFC3339)
	return &v
}

func (a *API) handleUnifiedUsers(w http.ResponseWriter, r *http.Request) error {
	return a.unifiedList(w, r, "GET /unified/user-directory/users", usersPage("AllUsers", unifiedUser))
}

func (a *API) handleUnifiedUser(w http.ResponseWriter, r *http.Request) error {
	return a.unifiedOne(w, r, "GET /unified/user-directory/users/{id}", "user", func(id string) runFunc { return getUser(id, unifiedUser) })
}

func (a *API) handleUnifiedDeleteUser(w http.ResponseWriter, r *http.Request) error {
	return a.unifiedOne(w, r, "DELETE /unified/user-directory/users/{id}", "user", deleteUser)
}

func (a *API) handleUnifiedRoles(w http.ResponseWriter, r *http.Request) error {
	return a.unifiedList(w, r, "GET /unified/user-directory/roles", localPage(roles, unifiedRole))
}

func (a *API) handleUnifiedRole(w http.ResponseWriter, r *http.Request) error {
	return a.unifiedOne(w, r, "GET /unified/user-directory/roles/{id}", "role", func(id string) runFunc { return fromList(roles, id, unifiedRole) })
}

// unifiedList answers a unified list route: the account and the page come
// from the query.
func (a *API) unifiedList(w http.ResponseWriter, r *http.Request, name string, run runFunc) error {
	q, err := query(r, "integrated_account_id", "limit", "next_cursor")
	if err != nil {
		return err
	}
	args, err := pageArgs(q)
	if err != nil {
		return err
	}
	return a.do(w, r, "unified", q.Get("integrated_account_id"), catalog.Operation{Name: name, Args: args, Run: run}, false)
}

// unifiedOne answers a unified route for the one record (a what) named by
// the path's id; the account comes from the query.
func (a *API) unifiedOne(w http.ResponseWriter, r *http.Request, name, what string, run func(id string) runFunc) error {
	q, err := query(r, "integrated_account_id")
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := checkID(id, what); err != nil {
		return err
	}
	return a.do(w, r, "unified", q.Get("integrated_account_id"), catalog.Operation{Name: name, Args: catalog.Args{ID: id}, Run: run(id)}, true)
}
