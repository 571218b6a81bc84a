package admin_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAdminAuth(t *testing.T) {
	e := newTestEnv(t)
	acct := e.SeedAccount("a")
	tests := []struct {
		name   string
		header string
	}{
		{"none", ""},
		{"wrong scheme", "Basic " + e.Admin},
		{"unknown token", "Bearer " + tokens.NewAPIToken()},
		{"MCP URL token is not an API token", "Bearer " + tokens.NewMCPToken()},
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
				req, err := http.NewRequest(p.method, e.URL+p.path, nil)
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
		r := e.RequestAs("", "", "GET", "/admin/api-tokens", nil)
		assert.Equal(t, http.StatusUnauthorized, r.Status)
		code, _ := r.ErrCode(t)
		assert.Equal(t, tokens.CodeUnauthenticated, code)
		req, _ := http.NewRequest("GET", e.URL+"/admin/api-tokens", nil)
		req.Header.Set("Authorization", "bearer "+e.Admin)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusOK, res.StatusCode)
	})
}

func TestAdminRouting(t *testing.T) {
	e := newTestEnv(t)
	r := e.Request("GET", "/admin/no-such-endpoint", nil)
	assert.Equal(t, http.StatusNotFound, r.Status)
	code, msg := r.ErrCode(t)
	assert.Equal(t, tokens.CodeNotFound, code)
	assert.NotEmpty(t, msg)

	r = e.Request("PUT", "/admin/api-tokens", `{}`)
	assert.Equal(t, http.StatusMethodNotAllowed, r.Status)
	assert.Contains(t, r.Header.Get("Allow"), "GET")
	code, msg = r.ErrCode(t)
	assert.Equal(t, tokens.CodeMethodNotAllowed, code)
	assert.Contains(t, msg, "not allowed")
}

func TestBodyErrors(t *testing.T) {
	e := newTestEnv(t)
	acct := e.SeedAccount("a")
	big := `{"name":"` + strings.Repeat("x", 1<<20) + `"}`
	endpoints := []struct{ method, path string }{
		{"POST", "/admin/api-tokens"},
		{"POST", "/admin/integrated-accounts"},
		{"PATCH", "/admin/integrated-accounts/" + acct.ID},
		{"POST", "/admin/integrated-accounts/" + acct.ID + "/mcp"},
		{"POST", "/integrated-account/" + acct.ID + "/mcp"},
		{"PATCH", "/admin/integrated-accounts/" + acct.ID + "/mcp/" + apptest.NewID()},
	}
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		code        string
		msg         string
	}{
		{"form content type", "application/x-www-form-urlencoded", `name=x`, 415, tokens.CodeUnsupportedMediaType, "Content-Type must be application/json"},
		{"text content type", "text/plain", `{"name":"x"}`, 415, tokens.CodeUnsupportedMediaType, "application/json"},
		{"no content type", "", `{"name":"x"}`, 415, tokens.CodeUnsupportedMediaType, "application/json"},
		{"too large", "application/json", big, 413, tokens.CodeTooLarge, "1 MiB"},
		{"malformed", "application/json", `{"name": "x",`, 400, tokens.CodeInvalidArgument, "malformed JSON"},
		{"syntax", "application/json", `{"name" "x"}`, 400, tokens.CodeInvalidArgument, "malformed JSON at byte"},
		{"empty", "application/json", ``, 400, tokens.CodeInvalidArgument, "empty"},
		{"array", "application/json", `[]`, 400, tokens.CodeInvalidArgument, "must be a JSON object"},
		{"unknown field", "application/json", `{"name":"x","colour":"red"}`, 400, tokens.CodeInvalidArgument, `unknown field "colour"`},
		{"wrong type", "application/json", `{"name":42}`, 400, tokens.CodeInvalidArgument, `field "name" must be a string, not a number`},
		{"two objects", "application/json", `{"name":"x"} {"name":"y"}`, 400, tokens.CodeInvalidArgument, "exactly one JSON object"},
	}
	for _, ep := range endpoints {
		for _, tt := range tests {
			t.Run(ep.method+" "+ep.path+" "+tt.name, func(t *testing.T) {
				r := e.RequestAs(e.Admin, tt.contentType, ep.method, ep.path, tt.body)
				assert.Equal(t, tt.status, r.Status, "body: %.300s", r.Body)
				code, msg := r.ErrCode(t)
				assert.Equal(t, tt.code, code)
				assert.Contains(t, msg, tt.msg)
			})
		}
	}
	t.Run("too large, chunked", func(t *testing.T) {
		body := struct{ io.Reader }{strings.NewReader(big)}
		r := e.RequestAs(e.Admin, "application/json", "POST", "/admin/api-tokens", body)
		assert.Equal(t, http.StatusRequestEntityTooLarge, r.Status, "body: %.300s", r.Body)
		code, _ := r.ErrCode(t)
		assert.Equal(t, tokens.CodeTooLarge, code)
	})
	t.Run("too large after the object", func(t *testing.T) {
		r := e.Request("POST", "/admin/api-tokens", `{"name":"x"}`+strings.Repeat(" ", 1<<20))
		assert.Equal(t, http.StatusRequestEntityTooLarge, r.Status, "body: %.300s", r.Body)
	})
	t.Run("charset parameter is fine", func(t *testing.T) {
		r := e.RequestAs(e.Admin, "application/json; charset=utf-8", "POST", "/admin/api-tokens", `{"name":"ci"}`)
		assert.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	})
}

func TestAPITokens(t *testing.T) {
	e := newTestEnv(t)

	r := e.Request("POST", "/admin/api-tokens", map[string]any{"name": "ci"})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	created := r.JSON(t)
	tok := created["token"].(string)
	assert.Regexp(t, `^bmcp_api_[A-Za-z0-9_-]{43}$`, tok)
	assert.Equal(t, "ci", created["name"])
	assert.NotEmpty(t, created["id"])
	assert.NotEmpty(t, created["created_at"])

	// The new token works, and lists never show a token.
	r = e.RequestAs(tok, "", "GET", "/admin/api-tokens", nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.NotContains(t, string(r.Body), "bmcp_api_")
	assert.NotContains(t, string(r.Body), `"token"`)
	list := r.JSON(t)
	assert.Len(t, list["result"], 2)
	assert.Nil(t, list["next_cursor"])

	t.Run("name required", func(t *testing.T) {
		for _, body := range []string{`{}`, `{"name":"  "}`, `{"name":"a\u0000b"}`} {
			r := e.Request("POST", "/admin/api-tokens", body)
			assert.Equal(t, http.StatusBadRequest, r.Status, body)
		}
	})
	t.Run("delete unknown", func(t *testing.T) {
		r := e.Request("DELETE", "/admin/api-tokens/"+apptest.NewID(), nil)
		assert.Equal(t, http.StatusNotFound, r.Status)
		code, _ := r.ErrCode(t)
		assert.Equal(t, tokens.CodeNotFound, code)
	})

	// Deleting the first-start token with the new one: 204, and it stops
	// working at once.
	var firstID string
	for _, it := range list["result"].([]any) {
		if m := it.(map[string]any); m["id"] != created["id"] {
			firstID = m["id"].(string)
		}
	}
	r = e.RequestAs(tok, "", "DELETE", "/admin/api-tokens/"+firstID, nil)
	require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
	assert.Empty(t, r.Body)
	r = e.Request("GET", "/admin/api-tokens", nil)
	assert.Equal(t, http.StatusUnauthorized, r.Status)

	// The last one cannot be deleted.
	r = e.RequestAs(tok, "", "DELETE", "/admin/api-tokens/"+created["id"].(string), nil)
	assert.Equal(t, http.StatusConflict, r.Status)
	code, msg := r.ErrCode(t)
	assert.Equal(t, tokens.CodeConflict, code)
	assert.Contains(t, msg, "last API token")

	// Audited under the acting token, without the token itself.
	entries, _, err := e.DB.Audit(context.Background(), "", 100)
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
		r := e.Request("POST", "/admin/api-tokens", map[string]any{"name": "t" + string(rune('a'+i))})
		require.Equal(t, http.StatusCreated, r.Status)
	}
	acct := e.SeedAccount("paging")
	for range 5 {
		e.Mint(acct.ID, nil)
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
				r := e.Request("GET", q, nil)
				require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
				m := r.JSON(t)
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
			r := e.Request("GET", path, nil)
			assert.Len(t, r.JSON(t)["result"], 5, "default limit 20 holds all")
		})
	}
	t.Run("errors", func(t *testing.T) {
		for _, q := range []string{"?limit=0", "?limit=101", "?limit=x", "?limit=-1", "?next_cursor=%%%", "?next_cursor=garbage", "?next_cursor=bm90LWFuLWlk"} {
			r := e.Request("GET", "/admin/api-tokens"+q, nil)
			assert.Equal(t, http.StatusBadRequest, r.Status, q)
			code, msg := r.ErrCode(t)
			assert.Equal(t, tokens.CodeInvalidArgument, code)
			assert.NotEmpty(t, msg)
		}
	})
	t.Run("empty list", func(t *testing.T) {
		other := e.SeedAccount("empty")
		r := e.Request("GET", "/admin/integrated-accounts/"+other.ID+"/mcp", nil)
		require.Equal(t, http.StatusOK, r.Status)
		assert.JSONEq(t, `{"result":[],"next_cursor":null}`, string(r.Body))
	})
}

func TestBootstrap(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t) // generated a first-start token
	n, err := e.DB.CountAPITokens(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	// Tokens exist: nothing new.
	tok, err := e.Svc.Bootstrap(ctx, "")
	require.NoError(t, err)
	assert.Empty(t, tok)

	// The env token is registered once, across restarts.
	env := "my-admin-token-0123456789abcdefghijklmnopqrstuvwxyz"
	for range 2 {
		tok, err = e.Svc.Bootstrap(ctx, env)
		require.NoError(t, err)
		assert.Empty(t, tok)
		e.Reopen()
	}
	n, err = e.DB.CountAPITokens(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	r := e.RequestAs(env, "", "GET", "/admin/api-tokens", nil)
	require.Equal(t, http.StatusOK, r.Status)
	assert.Contains(t, string(r.Body), `"name":"bootstrap"`)

	// A new value replaces the old one.
	env2 := "rotated-admin-token-0123456789abcdefghijklmnopqrstuvwxyz"
	_, err = e.Svc.Bootstrap(ctx, env2)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, e.RequestAs(env, "", "GET", "/admin/api-tokens", nil).Status)
	assert.Equal(t, http.StatusOK, e.RequestAs(env2, "", "GET", "/admin/api-tokens", nil).Status)
	assert.Equal(t, http.StatusOK, e.Request("GET", "/admin/api-tokens", nil).Status, "the generated token is kept")

	_, err = e.Svc.Bootstrap(ctx, "short")
	assert.ErrorContains(t, err, "at least 32 random characters")
}

func TestBootstrapGeneratesOnEmptyStore(t *testing.T) {
	e := newTestEnv(t)
	assert.Regexp(t, `^bmcp_api_[A-Za-z0-9_-]{43}$`, e.Admin)
	assert.Equal(t, http.StatusOK, e.Request("GET", "/admin/api-tokens", nil).Status)
	_ = time.Second
}

// TestAdminErrorsReadAsWritten: error messages are JSON, not HTML, so
// "<api token>" is not written as \u003capi token\u003e.
func TestAdminErrorsReadAsWritten(t *testing.T) {
	e := newTestEnv(t)
	r := e.RequestAs("", "", "GET", "/admin/api-tokens", nil)
	assert.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Contains(t, string(r.Body), "Bearer <api token>")
	assert.NotContains(t, string(r.Body), `\u003c`)
}
