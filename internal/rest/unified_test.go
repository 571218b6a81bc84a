package rest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

func TestUnifiedUsersPageAcrossAllUsers(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ids := s.walk("/unified/user-directory/users?limit=100&integrated_account_id=" + s.account)
	assert.Len(t, ids, sandbox.DefaultUsers)
	assert.ElementsMatch(t, s.Sandboxes["us"].UserIDs("AllUsers"), ids)
}

func TestUnifiedUserMapping(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	sb := s.Sandboxes["us"]
	q := "?integrated_account_id=" + s.account
	byStatus := map[string]sandbox.User{}
	for _, u := range sb.Users() {
		key := u.Status
		if u.Status == "active" && !u.Confirm {
			key = "invited"
		}
		if _, ok := byStatus[key]; !ok {
			byStatus[key] = u
		}
	}
	want := map[string]string{"active": "active", "disabled": "inactive", "deleted": "deleted", "invited": "invited"}
	for zoho, unified := range want {
		t.Run(zoho, func(t *testing.T) {
			u, ok := byStatus[zoho]
			require.True(t, ok, "the sandbox seeds a %s user", zoho)
			out := s.get("/unified/user-directory/users/"+u.ID+q, http.StatusOK)
			assert.Nil(t, out["next_cursor"])
			got := out["result"].(map[string]any)
			assert.Equal(t, u.ID, got["id"])
			assert.Equal(t, u.FirstName, got["first_name"])
			assert.Equal(t, u.LastName, got["last_name"])
			assert.Equal(t, u.FullName, got["name"])
			assert.Equal(t, []any{map[string]any{"email": u.Email, "type": "work", "is_primary": true}}, got["emails"])
			assert.Equal(t, unified, got["status"])
			assert.Equal(t, []any{map[string]any{"id": u.Role.ID, "name": u.Role.Name}}, got["roles"])
			created, err := time.Parse(time.RFC3339, u.CreatedTime)
			require.NoError(t, err)
			assert.Equal(t, created.UTC().Format(time.RFC3339), got["created_at"])
			modified, err := time.Parse(time.RFC3339, u.ModifiedTime)
			require.NoError(t, err)
			assert.Equal(t, modified.UTC().Format(time.RFC3339), got["updated_at"])
			remote := got["remote_data"].(map[string]any)
			assert.Equal(t, u.ID, remote["id"], "remote_data is Zoho's object")
			assert.Equal(t, u.ModifiedTime, remote["Modified_Time"], "unchanged")
		})
	}
}

func TestUnifiedDeleteUser(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	q := "?integrated_account_id=" + s.account
	uid := s.Sandboxes["us"].UserIDs("ActiveUsers")[7]
	r := s.Request(http.MethodDelete, "/unified/user-directory/users/"+uid+q, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.JSONEq(t, `{"result":{"id":"`+uid+`","deleted":true},"next_cursor":null}`, string(r.Body))
	got := s.get("/unified/user-directory/users/"+uid+q, http.StatusOK)["result"].(map[string]any)
	assert.Equal(t, "deleted", got["status"])

	r = s.Request(http.MethodDelete, "/unified/user-directory/users/"+uid+q, nil)
	require.Equal(t, http.StatusBadGateway, r.Status, "%s", r.Body)
	_, _, up := errorOf(t, r)
	assert.Equal(t, "ID_ALREADY_DELETED", up["code"])
}

func TestUnifiedRoles(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	q := "?integrated_account_id=" + s.account
	zohoRoles := s.Sandboxes["us"].Roles()
	ids := s.walk("/unified/user-directory/roles?limit=4&integrated_account_id=" + s.account)
	require.Len(t, ids, len(zohoRoles))
	for _, z := range zohoRoles {
		got := s.get("/unified/user-directory/roles/"+z.ID+q, http.StatusOK)["result"].(map[string]any)
		assert.Equal(t, z.ID, got["id"])
		assert.Equal(t, z.DisplayLabel, got["name"])
		assert.Equal(t, z.Description, got["description"])
		if z.ReportingTo == nil {
			assert.Nil(t, got["parent_role_id"])
		} else {
			assert.Equal(t, z.ReportingTo.ID, got["parent_role_id"])
		}
		assert.Equal(t, z.Name, got["remote_data"].(map[string]any)["name"])
	}
}

func TestUnifiedBadInput(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	q := "?integrated_account_id=" + s.account
	tests := []struct {
		name, method, path string
		status             int
		code, msg          string
	}{
		{"unknown user", "GET", "/unified/user-directory/users/999999999999999999" + q, 404, "not_found", "INVALID_DATA"},
		{"unknown role", "GET", "/unified/user-directory/roles/999999999999999999" + q, 404, "not_found", "no record with this id"},
		{"malformed user id", "GET", "/unified/user-directory/users/abc" + q, 400, "invalid_argument", `"abc" is not a user id`},
		{"malformed role id", "GET", "/unified/user-directory/roles/12x" + q, 400, "invalid_argument", "not a role id"},
		{"no account", "GET", "/unified/user-directory/users", 400, "invalid_argument", "integrated_account_id is required"},
		{"unknown account", "GET", "/unified/user-directory/users?integrated_account_id=nope", 404, "not_found", "integrated account"},
		{"unknown parameter", "GET", "/unified/user-directory/users" + q + "&page=2", 400, "invalid_argument", `unknown query parameter "page"`},
		{"bad limit", "GET", "/unified/user-directory/users" + q + "&limit=0", 400, "invalid_argument", "limit must be"},
		{"tampered cursor", "GET", "/unified/user-directory/users" + q + "&next_cursor=c1.xyz", 400, "invalid_argument", "next_cursor"},
		{"unknown model", "GET", "/unified/user-directory/groups" + q, 404, "not_found", "no unified endpoint"},
		{"delete a role", "DELETE", "/unified/user-directory/roles/1" + q, 405, "", "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Request(tt.method, tt.path, nil)
			require.Equal(t, tt.status, r.Status, "%s", r.Body)
			code, msg, _ := errorOf(t, r)
			if tt.code != "" {
				assert.Equal(t, tt.code, code)
			}
			assert.Contains(t, msg, tt.msg)
		})
	}
}
