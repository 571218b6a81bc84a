package rest_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

func TestProxyListsZohoObjectsUnchanged(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	sb := s.Sandboxes["us"]
	q := "?integrated_account_id=" + s.account

	t.Run("users page across all users", func(t *testing.T) {
		ids := s.walk("/proxy/users" + q + "&limit=100")
		assert.ElementsMatch(t, sb.UserIDs("AllUsers"), ids)
		assert.Len(t, ids, sandbox.DefaultUsers)
	})
	t.Run("users of a type", func(t *testing.T) {
		assert.ElementsMatch(t, sb.UserIDs("DeletedUsers"), s.walk("/proxy/users"+q+"&type=DeletedUsers"))
	})
	t.Run("one user", func(t *testing.T) {
		u := sb.Users()[9]
		got := s.get("/proxy/users/"+u.ID+q, http.StatusOK)["result"]
		want, err := json.Marshal(u)
		require.NoError(t, err)
		have, err := json.Marshal(got)
		require.NoError(t, err)
		assert.JSONEq(t, string(want), string(have))
	})
	t.Run("roles and profiles", func(t *testing.T) {
		var roleIDs, profileIDs []string
		for _, r := range sb.Roles() {
			roleIDs = append(roleIDs, r.ID)
		}
		for _, p := range sb.Profiles() {
			profileIDs = append(profileIDs, p.ID)
		}
		assert.Equal(t, roleIDs, s.walk("/proxy/roles"+q+"&limit=2"))
		assert.Equal(t, profileIDs, s.walk("/proxy/profiles"+q+"&limit=1"))
		got := s.get("/proxy/roles/"+roleIDs[1]+q, http.StatusOK)["result"].(map[string]any)
		assert.Equal(t, sb.Roles()[1].Name, got["name"])
		assert.Contains(t, got, "reporting_to")
		got = s.get("/proxy/profiles/"+profileIDs[0]+q, http.StatusOK)["result"].(map[string]any)
		assert.Equal(t, sb.Profiles()[0].Name, got["name"])
	})
	t.Run("organization and me", func(t *testing.T) {
		org := s.get("/proxy/organization"+q, http.StatusOK)["result"].([]any)
		require.Len(t, org, 1)
		assert.Equal(t, sb.OrgID(), org[0].(map[string]any)["id"])
		me := s.get("/proxy/me"+q, http.StatusOK)["result"].([]any)
		require.Len(t, me, 1)
		assert.Equal(t, sb.PrimaryUserID(), me[0].(map[string]any)["id"])
	})
	t.Run("delete a user", func(t *testing.T) {
		uid := sb.UserIDs("ActiveUsers")[11]
		r := s.Request(http.MethodDelete, "/proxy/users/"+uid+q, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		assert.JSONEq(t, `{"result":{"id":"`+uid+`","deleted":true},"next_cursor":null}`, string(r.Body))
		u, _ := sb.User(uid)
		assert.Equal(t, "deleted", u.Status)
	})
}

func TestProxyRefusesWhatItDoesNotMap(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	q := "?integrated_account_id=" + s.account
	sb := s.Sandboxes["us"]
	sb.ResetCounts()
	tests := []struct {
		name, method, path string
		status             int
		code, msg          string
	}{
		{"unknown resource", "GET", "/proxy/contacts" + q, 404, "not_found", "the resources are users, roles, profiles, organization, me"},
		{"a Zoho path", "GET", "/proxy/settings/roles" + q, 404, "not_found", `no proxy resource "settings"`},
		{"deeper path", "GET", "/proxy/users/1/photo" + q, 404, "not_found", "no proxy endpoint"},
		{"query not allowed", "GET", "/proxy/roles" + q + "&type=AllUsers", 400, "invalid_argument", "allowed: integrated_account_id, limit, next_cursor"},
		{"query for a single record", "GET", "/proxy/organization" + q + "&limit=5", 400, "invalid_argument", "allowed: integrated_account_id"},
		{"bad user type", "GET", "/proxy/users" + q + "&type=Everyone", 400, "invalid_argument", "not one of Zoho's user types"},
		{"bad id", "GET", "/proxy/users/12ab" + q, 400, "invalid_argument", "not a user id"},
		{"unknown user", "GET", "/proxy/users/123456789012345678" + q, 404, "not_found", "INVALID_DATA"},
		{"unknown profile", "GET", "/proxy/profiles/123" + q, 404, "not_found", "no record"},
		{"organization by id", "GET", "/proxy/organization/1" + q, 404, "not_found", "one record"},
		{"delete a role", "DELETE", "/proxy/roles/1" + q, 405, "method_not_allowed", "only users"},
		{"post", "POST", "/proxy/users" + q, 405, "", "not allowed"},
		{"primary contact", "DELETE", "/proxy/users/" + sb.PrimaryUserID() + q, 502, "upstream_error", "INVALID_REQUEST"},
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
	for _, req := range sb.APIRequests() {
		assert.Contains(t, []string{"/bigin/v2/users/123456789012345678", "/bigin/v2/settings/profiles", "/bigin/v2/users/" + sb.PrimaryUserID()}, req.Path,
			"only mapped operations reach Zoho")
	}
}
