package ui_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
)

// generous bounds every wait on the server, for a slow, busy machine;
// none of them is a timing the tests assert.
const generous = 20 * time.Second

// The sign-in form refuses a body announced over its limit with 413 at
// once, without reading it, and cuts a slow body with 408; both close the
// connection and answer with a page.
func TestSignInFormBodies(t *testing.T) {
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	tests := []struct {
		name    string
		timeout time.Duration
		body    apptest.SlowBody
		status  int
	}{
		{"announced over the limit", time.Hour, apptest.SlowBody{Length: 10 << 20}, http.StatusRequestEntityTooLarge},
		{"slow", 500 * time.Millisecond, apptest.SlowBody{Length: 1000, Every: 50 * time.Millisecond}, http.StatusRequestTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := apptest.New(t, apptest.Options{Config: func(c *app.Config) { c.Limits.BodyTimeout = tt.timeout }})
			s := tt.body
			s.Method, s.Path, s.Header = "POST", "/ui/signin", form
			s.Start(t, e.URL)
			res, body, err := s.Response(generous)
			require.NoError(t, err, "answered without waiting for the body")
			assert.Equal(t, tt.status, res.StatusCode, "%s", body)
			assert.Contains(t, res.Header.Get("Content-Type"), "text/html")
			assert.True(t, s.ClosedByServer(generous), "the connection closes")
		})
	}
}

// TestSignInFailuresAreBudgetedPerAddress: wrong tokens at the sign-in
// form spend the address's failure budget; past it the form answers 429
// with Retry-After without checking the token (a right one too), until a
// failure comes back. Another address signs in meanwhile.
func TestSignInFailuresAreBudgetedPerAddress(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	from := func(ip string) *browser {
		b := newBrowser(t, e)
		b.c.Transport = apptest.ClientFrom(ip).Transport
		return b
	}
	guesser := from("127.0.0.2")
	wrong := url.Values{"token": {"bmcp_api_" + strings.Repeat("x", 43)}}
	budget := app.DefaultCredentialFailures.Requests
	for i := range budget {
		a := guesser.post("/ui/signin", "/ui/signin", wrong)
		require.Equal(t, http.StatusUnauthorized, a.Status, "failure %d", i+1)
	}
	refill := app.DefaultCredentialFailures.Per / time.Duration(budget)
	for _, tok := range []string{wrong.Get("token"), e.Admin} {
		a := guesser.post("/ui/signin", "/ui/signin", url.Values{"token": {tok}})
		assert.Equal(t, http.StatusTooManyRequests, a.Status)
		assert.Equal(t, strconv.Itoa(int(refill/time.Second)), a.Header.Get("Retry-After"))
		assert.Contains(t, a.Body, "Too many")
	}
	assert.Equal(t, http.StatusSeeOther, guesser.get("/ui/accounts").Status, "still signed out")

	other := from("127.0.0.3")
	other.signIn(e.Admin)
	assert.Equal(t, http.StatusOK, other.get("/ui/accounts").Status)

	e.Clock.Advance(refill)
	guesser.signIn(e.Admin)
	assert.Equal(t, http.StatusOK, guesser.get("/ui/accounts").Status, "a failure came back: the right token signs in")
}
