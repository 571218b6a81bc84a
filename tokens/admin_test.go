package tokens

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAdminAuth(t *testing.T) {
	e := newTestEnv(t)
	acct := e.seedAccount("a")
	tests := []struct {
		name   string
		header string
	}{
		{"none", ""},
		{"wrong scheme", "Basic " + e.admin},
		{"unknown token", "Bearer " + NewAPIToken()},
		{"MCP URL token is not an API token", "Bearer " + NewMCPToken()},
		{"empty bearer", "Bearer "},
	}
	paths := []struct{ method, path string }{
		{"GET", "/admin/api-tokens"},
		{"POST", "/admin/integrated-accounts"},
		{"GET", "/admin/integrated-accounts/" + acct.ID + "/mcp"},
		{"GET", "/integrated-account/" + acct.ID + "/mcp"},
		{"GET", "/admin/no-such-endpoint"},
	}
	for _, tt := range tests {
		for _, p := range paths {
			t.Run(tt.name+" "+p.method+" "+p.path, func(t *testing.T) {
				req, err := http.NewRequest(p.method, e.srv.URL+p.path, nil)
				require.NoError(t, err)
				if tt.header != "" {
					req.Header.Set("Authorization", tt.header)
				}
				res, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				defer res.Body.Close()
				assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
				assert.Equal(t, `Bearer realm="bigin-mcp"`, res.Header.Get("WWW-Authenticate"))
				assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
			})
		}
	}
	t.Run("lowercase scheme works", func(t *testing.T) {
		r := e.requestAs("", "", "GET", "/admin/api-tokens", nil)
		assert.Equal(t, http.StatusUnauthorized, r.status)
		code, _ := r.errCode(t)
		assert.Equal(t, CodeUnauthenticated, code)
		req, _ := http.NewRequest("GET", e.srv.URL+"/admin/api-tokens", nil)
		req.Header.Set("Authorization", "bearer "+e.admin)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusOK, res.StatusCode)
	})
}

func TestAdminRouting(t *testing.T) {
	e := newTestEnv(t)
	r := e.request("GET", "/admin/no-such-endpoint", nil)
	assert.Equal(t, http.StatusNotFound, r.status)
	code, _ := r.errCode(t)
	assert.Equal(t, CodeNotFound, code)

	r = e.request("PUT", "/admin/api-tokens", `{}`)
	assert.Equal(t, http.StatusMethodNotAllowed, r.status)
	assert.Contains(t, r.header.Get("Allow"), "GET")
	_, msg := r.errCode(t)
	assert.Contains(t, msg, "not allowed")
}

func TestBodyErrors(t *testing.T) {
	e := newTestEnv(t)
	acct := e.seedAccount("a")
	big := `{"name":"` + strings.Repeat("x", 1<<20) + `"}`
	endpoints := []struct{ method, path string }{
		{"POST", "/admin/api-tokens"},
		{"POST", "/admin/integrated-accounts"},
		{"PATCH", "/admin/integrated-accounts/" + acct.ID},
		{"POST", "/admin/integrated-accounts/" + acct.ID + "/mcp"},
		{"POST", "/integrated-account/" + acct.ID + "/mcp"},
		{"PATCH", "/admin/integrated-accounts/" + acct.ID + "/mcp/" + newID()},
	}
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		code        string
		msg         string
	}{
		{"form content type", "application/x-www-form-urlencoded", `name=x`, 415, CodeUnsupportedMediaType, "Content-Type must be application/json"},
		{"text content type", "text/plain", `{"name":"x"}`, 415, CodeUnsupportedMediaType, "application/json"},
		{"no content type", "", `{"name":"x"}`, 415, CodeUnsupportedMediaType, "application/json"},
		{"too large", "application/json", big, 413, CodeTooLarge, "1 MiB"},
		{"malformed", "application/json", `{"name": "x",`, 400, CodeInvalidArgument, "malformed JSON"},
		{"syntax", "application/json", `{"name" "x"}`, 400, CodeInvalidArgument, "malformed JSON at byte"},
		{"empty", "application/json", ``, 400, CodeInvalidArgument, "empty"},
		{"array", "application/json", `[]`, 400, CodeInvalidArgument, "must be a JSON object"},
		{"unknown field", "application/json", `{"name":"x","colour":"red"}`, 400, CodeInvalidArgument, `unknown field "colour"`},
		{"wrong type", "application/json", `{"name":42}`, 400, CodeInvalidArgument, `field "name" must be a string, not a number`},
		{"two objects", "application/json", `{"name":"x"} {"name":"y"}`, 400, CodeInvalidArgument, "exactly one JSON object"},
	}
	for _, ep := range endpoints {
		for _, tt := range tests {
			t.Run(ep.method+" "+ep.path+" "+tt.name, func(t *testing.T) {
				r := e.requestAs(e.admin, tt.contentType, ep.method, ep.path, tt.body)
				assert.Equal(t, tt.status, r.status, "body: %.300s", r.body)
				code, msg := r.errCode(t)
				assert.Equal(t, tt.code, code)
				assert.Contains(t, msg, tt.msg)
			})
		}
	}
	t.Run("too large, chunked", func(t *testing.T) {
		body := struct{ io.Reader }{strings.NewReader(big)}
		r := e.requestAs(e.admin, "application/json", "POST", "/admin/api-tokens", body)
		assert.Equal(t, http.StatusRequestEntityTooLarge, r.status, "body: %.300s", r.body)
		code, _ := r.errCode(t)
		assert.Equal(t, CodeTooLarge, code)
	})
	t.Run("too large after the object", func(t *testing.T) {
		r := e.request("POST", "/admin/api-tokens", `{"name":"x"}`+strings.Repeat(" ", 1<<20))
		assert.Equal(t, http.StatusRequestEntityTooLarge, r.status, "body: %.300s", r.body)
	})
	t.Run("charset parameter is fine", func(t *testing.T) {
		r := e.requestAs(e.admin, "application/json; charset=utf-8", "POST", "/admin/api-tokens", `{"name":"ci"}`)
		assert.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	})
}

func TestAPITokens(t *testing.T) {
	e := newTestEnv(t)

	r := e.request("POST", "/admin/api-tokens", map[string]any{"name": "ci"})
	require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	created := r.json(t)
	tok := created["token"].(string)
	assert.Regexp(t, `^bmcp_api_[A-Za-z0-9_-]{43}$`, tok)
	assert.Equal(t, "ci", created["name"])
	assert.NotEmpty(t, created["id"])
	assert.NotEmpty(t, created["created_at"])

	// The new token works, and lists never show a token.
	r = e.requestAs(tok, "", "GET", "/admin/api-tokens", nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.NotContains(t, string(r.body), "bmcp_api_")
	assert.NotContains(t, string(r.body), `"token"`)
	list := r.json(t)
	assert.Len(t, list["result"], 2)
	assert.Nil(t, list["next_cursor"])

	t.Run("name required", func(t *testing.T) {
		for _, body := range []string{`{}`, `{"name":"  "}`, `{"name":"a\u0000b"}`} {
			r := e.request("POST", "/admin/api-tokens", body)
			assert.Equal(t, http.StatusBadRequest, r.status, body)
		}
	})
	t.Run("delete unknown", func(t *testing.T) {
		r := e.request("DELETE", "/admin/api-tokens/"+newID(), nil)
		assert.Equal(t, http.StatusNotFound, r.status)
		code, _ := r.errCode(t)
		assert.Equal(t, CodeNotFound, code)
	})

	// Deleting the first-start token with the new one: 204, and it stops
	// working at once.
	var firstID string
	for _, it := range list["result"].([]any) {
		if m := it.(map[string]any); m["id"] != created["id"] {
			firstID = m["id"].(string)
		}
	}
	r = e.requestAs(tok, "", "DELETE", "/admin/api-tokens/"+firstID, nil)
	require.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
	assert.Empty(t, r.body)
	r = e.request("GET", "/admin/api-tokens", nil)
	assert.Equal(t, http.StatusUnauthorized, r.status)

	// The last one cannot be deleted.
	r = e.requestAs(tok, "", "DELETE", "/admin/api-tokens/"+created["id"].(string), nil)
	assert.Equal(t, http.StatusConflict, r.status)
	code, msg := r.errCode(t)
	assert.Equal(t, CodeConflict, code)
	assert.Contains(t, msg, "last API token")

	// Audited under the acting token, without the token itself.
	entries, _, err := e.db.Audit(context.Background(), "", 100)
	require.NoError(t, err)
	var actions []string
	for _, a := range entries {
		actions = append(actions, a.Action+" by "+a.Actor)
		assert.NotContains(t, a.Detail, "bmcp_")
	}
	assert.Contains(t, actions, "api_token.delete by api_token:"+created["id"].(string))
	assert.Contains(t, actions, "api_token.create by api_token:"+firstID)
}

func TestListPaging(t *testing.T) {
	e := newTestEnv(t)
	for i := range 4 {
		r := e.request("POST", "/admin/api-tokens", map[string]any{"name": "t" + string(rune('a'+i))})
		require.Equal(t, http.StatusCreated, r.status)
	}
	acct := e.seedAccount("paging")
	for range 5 {
		e.mint(acct.ID, nil)
	}
	for _, path := range []string{"/admin/api-tokens", "/admin/integrated-accounts/" + acct.ID + "/mcp", "/integrated-account/" + acct.ID + "/mcp"} {
		t.Run(path, func(t *testing.T) {
			var ids []string
			cursor := ""
			pages := 0
			for {
				q := path + "?limit=2"
				if cursor != "" {
					q += "&next_cursor=" + cursor
				}
				r := e.request("GET", q, nil)
				require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
				m := r.json(t)
				for _, it := range m["result"].([]any) {
					ids = append(ids, it.(map[string]any)["id"].(string))
				}
				pages++
				if m["next_cursor"] == nil {
					break
				}
				cursor = m["next_cursor"].(string)
			}
			assert.Len(t, ids, 5)
			assert.Equal(t, 3, pages)
			r := e.request("GET", path, nil)
			assert.Len(t, r.json(t)["result"], 5, "default limit 20 holds all")
		})
	}
	t.Run("errors", func(t *testing.T) {
		for _, q := range []string{"?limit=0", "?limit=101", "?limit=x", "?limit=-1", "?next_cursor=%%%", "?next_cursor=garbage", "?next_cursor=bm90LWFuLWlk"} {
			r := e.request("GET", "/admin/api-tokens"+q, nil)
			assert.Equal(t, http.StatusBadRequest, r.status, q)
			code, msg := r.errCode(t)
			assert.Equal(t, CodeInvalidArgument, code)
			assert.NotEmpty(t, msg)
		}
	})
	t.Run("empty list", func(t *testing.T) {
		other := e.seedAccount("empty")
		r := e.request("GET", "/admin/integrated-accounts/"+other.ID+"/mcp", nil)
		require.Equal(t, http.StatusOK, r.status)
		assert.JSONEq(t, `{"result":[],"next_cursor":null}`, string(r.body))
	})
}

func TestBootstrap(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t) // generated a first-start token
	n, err := e.db.CountAPITokens(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	// Tokens exist: nothing new.
	tok, err := e.svc.Bootstrap(ctx, "")
	require.NoError(t, err)
	assert.Empty(t, tok)

	// The env token is registered once, across restarts.
	env := "my-admin-token-0123456789"
	for range 2 {
		tok, err = e.svc.Bootstrap(ctx, env)
		require.NoError(t, err)
		assert.Empty(t, tok)
		e.reopen()
	}
	n, err = e.db.CountAPITokens(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	r := e.requestAs(env, "", "GET", "/admin/api-tokens", nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, string(r.body), `"name":"bootstrap"`)

	// A new value replaces the old one.
	env2 := "rotated-admin-token-0123456789"
	_, err = e.svc.Bootstrap(ctx, env2)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, e.requestAs(env, "", "GET", "/admin/api-tokens", nil).status)
	assert.Equal(t, http.StatusOK, e.requestAs(env2, "", "GET", "/admin/api-tokens", nil).status)
	assert.Equal(t, http.StatusOK, e.request("GET", "/admin/api-tokens", nil).status, "the generated token is kept")

	_, err = e.svc.Bootstrap(ctx, "short")
	assert.ErrorContains(t, err, "at least 16 characters")
}

func TestBootstrapGeneratesOnEmptyStore(t *testing.T) {
	e := newTestEnv(t)
	assert.Regexp(t, `^bmcp_api_[A-Za-z0-9_-]{43}$`, e.admin)
	assert.Equal(t, http.StatusOK, e.request("GET", "/admin/api-tokens", nil).status)
	_ = time.Second
}
