package oauth_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/internal/oauth"
)

// generous bounds every wait on the server, for a slow, busy machine;
// none of them is a timing the tests assert.
const generous = 20 * time.Second

// fromPage is hdr as a browser sends it from a page of the server: with
// its Origin (which the consent form requires).
func fromPage(hdr http.Header, e *apptest.Env) http.Header {
	h := hdr.Clone()
	h.Set("Origin", e.Public)
	return h
}

// The OAuth forms refuse a body announced over their limit with 413 at
// once, without reading it, and cut a slow body with 408; both close the
// connection. The token and registration endpoints answer in OAuth's
// error shape, the consent form with a page.
func TestFormBodies(t *testing.T) {
	formType := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	jsonType := http.Header{"Content-Type": {"application/json"}}
	forms := []struct {
		name, path string
		header     http.Header
		oauthError string // the OAuth error code; "" for a page
	}{
		{"registration", oauth.RegisterPath, jsonType, "invalid_client_metadata"},
		{"token", oauth.TokenPath, formType, "invalid_request"},
		{"consent", oauth.ConsentPath, formType, ""},
	}
	check := func(t *testing.T, s *apptest.SlowBody, status int, oauthError string) {
		t.Helper()
		res, body, err := s.Response(generous)
		require.NoError(t, err, "answered without waiting for the body")
		assert.Equal(t, status, res.StatusCode, "%s", body)
		if oauthError != "" {
			var m map[string]string
			require.NoError(t, json.Unmarshal(body, &m), "%s", body)
			assert.Equal(t, oauthError, m["error"])
			assert.NotEmpty(t, m["error_description"])
		} else {
			assert.Contains(t, res.Header.Get("Content-Type"), "text/html")
		}
		assert.True(t, s.ClosedByServer(generous), "the connection closes")
	}
	t.Run("announced over the limit", func(t *testing.T) {
		e := apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.Limits.BodyTimeout = time.Hour }})
		for _, f := range forms {
			t.Run(f.name, func(t *testing.T) {
				s := (&apptest.SlowBody{Method: "POST", Path: f.path, Header: fromPage(f.header, e), Length: 10 << 20}).Start(t, e.URL)
				check(t, s, http.StatusRequestEntityTooLarge, f.oauthError)
			})
		}
	})
	t.Run("slow", func(t *testing.T) {
		e := apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.Limits.BodyTimeout = 500 * time.Millisecond }})
		for _, f := range forms {
			t.Run(f.name, func(t *testing.T) {
				s := (&apptest.SlowBody{Method: "POST", Path: f.path, Header: fromPage(f.header, e), Length: 1000, Every: 50 * time.Millisecond}).Start(t, e.URL)
				check(t, s, http.StatusRequestTimeout, f.oauthError)
			})
		}
	})
	t.Run("over the limit, unannounced", func(t *testing.T) {
		e := apptest.New(t, apptest.Options{})
		for _, f := range forms {
			t.Run(f.name, func(t *testing.T) {
				req, err := http.NewRequest("POST", e.URL+f.path, struct{ *strings.Reader }{strings.NewReader(strings.Repeat("a", 65<<10))})
				require.NoError(t, err)
				req.Header = fromPage(f.header, e)
				res, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				res.Body.Close()
				assert.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
			})
		}
	})
}
