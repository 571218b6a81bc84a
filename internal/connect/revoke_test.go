package connect_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// linkByName returns the listed link named name.
func linkByName(t *testing.T, list []any, name string) map[string]any {
	t.Helper()
	for _, v := range list {
		if m := v.(map[string]any); m["name"] == name {
			return m
		}
	}
	t.Fatalf("no listed link named %q", name)
	return nil
}

// TestListConnectLinks: the admin list pages like every list, shows each
// link's state and what became of it, and never its token or URL.
func TestListConnectLinks(t *testing.T) {
	t.Parallel()
	z := newConnectEnv(t)
	used := z.mintLink(map[string]any{"name": "used"})
	status, page := z.callback(z.consent(used, "us"))
	require.Equal(t, http.StatusOK, status, page)
	usable := z.mintLink(map[string]any{"name": "usable", "datacenter": "eu"})
	expired := z.mintLink(map[string]any{"name": "expired", "expires_in_seconds": 60})
	z.Clock.Advance(61 * time.Second)

	var all []any
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5)
		path := "/admin/connect-links?limit=2"
		if cursor != "" {
			path += "&next_cursor=" + cursor
		}
		r := z.Request("GET", path, nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		for _, secret := range []string{used, usable, expired} {
			tok := strings.TrimPrefix(secret, "/connect/")
			assert.NotContains(t, string(r.Body), tok, "the list never shows a link's token")
		}
		assert.NotContains(t, string(r.Body), tokens.ConnectLinkPrefix)
		body := r.JSON(t)
		list := body["result"].([]any)
		assert.LessOrEqual(t, len(list), 2)
		all = append(all, list...)
		next, _ := body["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	require.Len(t, all, 3)
	for _, v := range all {
		assert.NotContains(t, v.(map[string]any), "url")
	}

	u := linkByName(t, all, "used")
	assert.Equal(t, "used", u["status"])
	assert.NotNil(t, u["used_at"])
	assert.NotEmpty(t, u["account_id"])
	assert.Nil(t, u["datacenter"])
	e := linkByName(t, all, "expired")
	assert.Equal(t, "expired", e["status"])
	assert.Nil(t, e["account_id"])
	ok := linkByName(t, all, "usable")
	assert.Equal(t, "usable", ok["status"])
	assert.Equal(t, "eu", ok["datacenter"])
	assert.Nil(t, ok["revoked_at"])

	r := z.Request("GET", "/admin/connect-links?limit=0", nil)
	assert.Equal(t, http.StatusBadRequest, r.Status)
	r = z.Request("GET", "/admin/connect-links?next_cursor=nope", nil)
	assert.Equal(t, http.StatusBadRequest, r.Status)
	r = z.RequestAs("", "", "GET", "/admin/connect-links", nil)
	assert.Equal(t, http.StatusUnauthorized, r.Status)
}

// TestRevokeConnectLink: a revoked link answers 410 like a used one, also
// for a customer who was at Zoho's consent page when it was revoked, and
// creates nothing.
func TestRevokeConnectLink(t *testing.T) {
	t.Parallel()
	z := newConnectEnv(t)
	link := z.mintLink(map[string]any{"name": "to revoke"})
	atZoho := z.mintLink(map[string]any{"name": "revoked while at Zoho"})
	q := z.consent(atZoho, "us")
	used := z.mintLink(map[string]any{"name": "used"})
	status, page := z.callback(z.consent(used, "us"))
	require.Equal(t, http.StatusOK, status, page)
	before := z.accountCount()

	list := z.Request("GET", "/admin/connect-links", nil).JSON(t)["result"].([]any)
	id := linkByName(t, list, "to revoke")["id"].(string)
	z.AdminCall("DELETE", "/admin/connect-links/"+id, nil, http.StatusNoContent)
	z.AdminCall("DELETE", "/admin/connect-links/"+id, nil, http.StatusNoContent) // again: harmless

	status, _, page = z.get(link + "?dc=us")
	assert.Equal(t, http.StatusGone, status)
	assert.Contains(t, page, "withdrawn")
	status, _, _ = z.get(link)
	assert.Equal(t, http.StatusGone, status, "the picker is not shown either")

	atZohoID := linkByName(t, list, "revoked while at Zoho")["id"].(string)
	z.AdminCall("DELETE", "/admin/connect-links/"+atZohoID, nil, http.StatusNoContent)
	status, page = z.callback(q)
	assert.Equal(t, http.StatusGone, status, page)
	assert.Contains(t, page, "withdrawn")
	assert.Equal(t, before, z.accountCount(), "a revoked link creates no account")

	list = z.Request("GET", "/admin/connect-links", nil).JSON(t)["result"].([]any)
	revoked := linkByName(t, list, "to revoke")
	assert.Equal(t, "revoked", revoked["status"])
	assert.NotNil(t, revoked["revoked_at"])

	usedID := linkByName(t, list, "used")["id"].(string)
	r := z.Request("DELETE", "/admin/connect-links/"+usedID, nil)
	assert.Equal(t, http.StatusConflict, r.Status)
	code, msg := r.ErrCode(t)
	assert.Equal(t, tokens.CodeConflict, code)
	assert.Contains(t, msg, "already used")

	r = z.Request("DELETE", "/admin/connect-links/"+tokens.ConnectLinkPrefix+"x", nil)
	assert.Equal(t, http.StatusNotFound, r.Status)

	entries, _, err := z.DB.Audit(context.Background(), "", 100)
	require.NoError(t, err)
	revokes := 0
	for _, e := range entries {
		if e.Action == "connect_link.revoke" {
			revokes++
			assert.True(t, strings.HasPrefix(e.Actor, "api_token:"), e.Actor)
		}
	}
	assert.Equal(t, 3, revokes, "each revocation is audited")
}
