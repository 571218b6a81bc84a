package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
)

// TestRootAndUnknownPaths: a browser pointed at the server lands on the
// web UI, and a path nothing serves answers in the JSON error shape of
// every other answer, never Go's plain text; the surfaces that answer
// their own unknown paths keep their shapes.
func TestRootAndUnknownPaths(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{})
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(c *http.Client, method, path string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, e.URL+path, nil)
		require.NoError(t, err)
		res, err := c.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res, string(b)
	}

	t.Run("GET / goes to the UI", func(t *testing.T) {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			res, _ := do(noFollow, method, "/")
			assert.Equal(t, http.StatusFound, res.StatusCode, method)
			assert.Equal(t, "/ui/", res.Header.Get("Location"), method)
		}
		res, body := do(http.DefaultClient, http.MethodGet, "/")
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, "/ui/signin", res.Request.URL.Path, "a browser without a session ends on the sign-in page")
		assert.Contains(t, body, `id="signin-form"`)
	})

	jsonError := func(t *testing.T, res *http.Response, body string) (string, string) {
		t.Helper()
		assert.Equal(t, "application/json", res.Header.Get("Content-Type"), "body: %s", body)
		var out struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &out), "body: %s", body)
		return out.Error.Code, out.Error.Message
	}
	t.Run("unknown paths answer the JSON error shape", func(t *testing.T) {
		for _, tc := range []struct{ method, path string }{
			{"GET", "/nope"}, {"GET", "/favicon.ico"}, {"POST", "/nope"}, {"DELETE", "/nope/deeper"},
			{"GET", "/oauth/nope"}, {"GET", "/connect/"}, {"GET", "/connect"}, {"GET", "/healthz/x"},
		} {
			res, body := do(noFollow, tc.method, tc.path)
			assert.Equal(t, http.StatusNotFound, res.StatusCode, "%s %s", tc.method, tc.path)
			code, msg := jsonError(t, res, body)
			assert.Equal(t, "not_found", code, "%s %s", tc.method, tc.path)
			assert.Contains(t, msg, tc.method+" "+tc.path)
		}
	})
	t.Run("a path served for other methods is 405 with Allow", func(t *testing.T) {
		for _, tc := range []struct{ method, path, allow string }{
			{"POST", "/", "GET, HEAD"}, {"DELETE", "/healthz", "GET, HEAD"}, {"POST", "/readyz", "GET, HEAD"},
		} {
			res, body := do(noFollow, tc.method, tc.path)
			assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode, "%s %s", tc.method, tc.path)
			assert.Equal(t, tc.allow, res.Header.Get("Allow"), "%s %s", tc.method, tc.path)
			code, _ := jsonError(t, res, body)
			assert.Equal(t, "method_not_allowed", code)
		}
	})
	t.Run("surfaces keep their own answers", func(t *testing.T) {
		res, body := do(noFollow, "GET", "/admin/nope")
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
		code, _ := jsonError(t, res, body)
		assert.Equal(t, "unauthenticated", code)

		res, body = do(noFollow, "GET", "/.well-known/nope")
		assert.Equal(t, http.StatusNotFound, res.StatusCode)
		code, _ = jsonError(t, res, body)
		assert.Equal(t, "not_found", code)

		res, body = do(noFollow, "POST", "/mcp/nope")
		assert.Equal(t, http.StatusNotFound, res.StatusCode)
		assert.Contains(t, body, `"jsonrpc":"2.0"`, "MCP answers JSON-RPC")

		res, body = do(noFollow, "GET", "/ui/nope")
		assert.Equal(t, http.StatusNotFound, res.StatusCode)
		assert.True(t, strings.HasPrefix(res.Header.Get("Content-Type"), "text/html"), "the UI answers a page")
		assert.Contains(t, body, "There is no such page")

		res, _ = do(noFollow, "GET", "/ui")
		assert.Equal(t, http.StatusMovedPermanently, res.StatusCode)
		assert.Equal(t, "/ui/", res.Header.Get("Location"))
		res, _ = do(noFollow, "GET", "/admin")
		assert.Equal(t, http.StatusTemporaryRedirect, res.StatusCode, "ServeMux's redirect to the prefix")
		assert.Equal(t, "/admin/", res.Header.Get("Location"))
	})
}
