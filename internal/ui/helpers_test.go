package ui_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
)

// browser is a plain HTTP client with a cookie jar that does not follow
// redirects, so tests see each answer.
type browser struct {
	t   testing.TB
	e   *apptest.Env
	c   *http.Client
	hdr http.Header // sent on every request
}

func newBrowser(t testing.TB, e *apptest.Env) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, e: e, hdr: http.Header{}, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type answer struct {
	Status int
	Header http.Header
	Body   string
}

func (b *browser) do(method, path string, form url.Values) answer {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.URL+path, body)
	require.NoError(b.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.hdr {
		req.Header[k] = v
	}
	res, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	return answer{Status: res.StatusCode, Header: res.Header, Body: string(raw)}
}

func (b *browser) get(path string) answer { return b.do(http.MethodGet, path, nil) }

// post sends a form with the CSRF token of the page at from.
func (b *browser) post(from, path string, form url.Values) answer {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", csrfOf(b.t, b.get(from).Body))
	return b.do(http.MethodPost, path, form)
}

// signIn signs in with token and requires it to work.
func (b *browser) signIn(token string) {
	b.t.Helper()
	a := b.post("/ui/signin", "/ui/signin", url.Values{"token": {token}})
	require.Equal(b.t, http.StatusSeeOther, a.Status, a.Body)
	require.Equal(b.t, "/ui/accounts", a.Header.Get("Location"))
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t testing.TB, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	require.NotNil(t, m, "no CSRF token in the page: %s", page)
	return m[1]
}
