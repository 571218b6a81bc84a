package sandbox_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

// signInForm is the sign-in page as a person sees it: the people offered
// (by user id, with their line of text), the default choice and the
// hidden fields the form posts back.
type signInForm struct {
	action  string
	hidden  url.Values
	choices map[string]string // user id → the label's text
	checked string
}

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	hiddenRE   = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	choiceRE   = regexp.MustCompile(`<label><input type="radio" name="sandbox_user" value="([^"]+)"( checked)?>(.*?)</label>`)
	tagRE      = regexp.MustCompile(`<[^>]+>`)
)

func parseSignIn(t *testing.T, page string) signInForm {
	t.Helper()
	m := formAction.FindStringSubmatch(page)
	require.NotNil(t, m, "a sign-in form:\n%s", page)
	f := signInForm{action: m[1], hidden: url.Values{}, choices: map[string]string{}}
	for _, h := range hiddenRE.FindAllStringSubmatch(page, -1) {
		f.hidden.Add(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	for _, c := range choiceRE.FindAllStringSubmatch(page, -1) {
		f.choices[c[1]] = html.UnescapeString(tagRE.ReplaceAllString(c[3], ""))
		if c[2] != "" {
			f.checked = c[1]
		}
	}
	return f
}

// TestSignInPageLetsAPersonPick: with SignInPage the sandbox's Zoho
// sign-in is a page offering an administrator, a standard user and a
// deactivated user of its org and a user of another org, the consent user
// chosen by default; the choice posted back signs that person in (their
// token reads them as the current user), Reject refuses, and
// sandbox_user=<id> in the request skips the page, as automated flows do.
func TestSignInPageLetsAPersonPick(t *testing.T) {
	const redirect = "http://127.0.0.1:9/cb"
	e := start(t, sandbox.Options{Users: 40, SignInPage: true})
	other := e.sb.OtherOrg()
	require.NotNil(t, other)
	params := url.Values{"scope": {"ZohoBigin.users.READ"}, "client_id": {e.sb.ClientID()}, "response_type": {"code"},
		"redirect_uri": {redirect}, "access_type": {"online"}, "state": {"st<&>"}}
	get := func(t *testing.T, q url.Values) answer {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, e.ts.URL+"/oauth/v2/auth?"+q.Encode(), nil)
		require.NoError(t, err)
		return e.do(t, req)
	}
	post := func(t *testing.T, action string, form url.Values) answer {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, e.ts.URL+action, strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return e.do(t, req)
	}
	callback := func(t *testing.T, a answer) url.Values {
		t.Helper()
		require.Equal(t, http.StatusFound, a.status, string(a.body))
		loc, err := url.Parse(a.header.Get("Location"))
		require.NoError(t, err)
		require.Equal(t, "127.0.0.1:9", loc.Host)
		return loc.Query()
	}
	currentUser := func(t *testing.T, cb url.Values) map[string]any {
		t.Helper()
		a := e.tokenForm(t, url.Values{"grant_type": {"authorization_code"}, "client_id": {e.sb.ClientID()},
			"client_secret": {e.sb.ClientSecret()}, "code": {cb.Get("code")}, "redirect_uri": {redirect}})
		require.Equal(t, http.StatusOK, a.status, string(a.body))
		at := a.json(t)["access_token"].(string)
		u := e.api(t, "GET", "/bigin/v2/users?type=CurrentUser", at)
		require.Equal(t, http.StatusOK, u.status, string(u.body))
		return u.json(t)["users"].([]any)[0].(map[string]any)
	}

	a := get(t, params)
	require.Equal(t, http.StatusOK, a.status, "a page, not a redirect")
	assert.Equal(t, "text/html; charset=utf-8", a.header.Get("Content-Type"))
	assert.Equal(t, "DENY", a.header.Get("X-Frame-Options"))
	form := parseSignIn(t, string(a.body))
	assert.Equal(t, "/oauth/v2/auth", form.action)
	assert.Equal(t, params, form.hidden, "the request's parameters are posted back as they were")

	primary, _ := e.sb.User(e.sb.PrimaryUserID())
	var standard, deactivated string
	for id := range form.choices {
		u, ok := e.sb.User(id)
		switch {
		case !ok:
		case u.Status == "disabled":
			deactivated = id
		case u.Status == "active" && u.Profile.Name == "Standard":
			standard = id
		}
	}
	otherPrimary, ok := other.User(other.PrimaryUserID())
	require.True(t, ok)
	require.Len(t, form.choices, 4, "%v", form.choices)
	require.NotEmpty(t, standard, "a standard user is offered")
	require.NotEmpty(t, deactivated, "a deactivated user is offered")
	assert.Contains(t, form.choices[primary.ID], "Administrator of "+e.sb.OrgName())
	assert.Contains(t, form.choices[otherPrimary.ID], "another organization, "+sandbox.OtherOrgName)
	assert.Equal(t, primary.ID, form.checked, "the consent user is the default")
	assert.NotEqual(t, primary.ZUID, otherPrimary.ZUID, "ZUIDs are Zoho-wide")

	for _, who := range []string{primary.ID, standard, deactivated} {
		f := url.Values{"sandbox_user": {who}, "decision": {"accept"}}
		for k, v := range form.hidden {
			f[k] = v
		}
		cb := callback(t, post(t, form.action, f))
		assert.Equal(t, "st<&>", cb.Get("state"))
		assert.Equal(t, who, currentUser(t, cb)["id"], "the person picked signed in")
	}

	t.Run("a user of another org", func(t *testing.T) {
		f := url.Values{"sandbox_user": {otherPrimary.ID}, "decision": {"accept"}}
		for k, v := range form.hidden {
			f[k] = v
		}
		cb := callback(t, post(t, form.action, f))
		assert.Equal(t, e.ts.URL, cb.Get("accounts-server"), "signed in at this datacenter's accounts server")
		me := currentUser(t, cb)
		assert.Equal(t, otherPrimary.ID, me["id"])
		assert.Equal(t, otherPrimary.ZUID, me["zuid"])

		// Their org's API answers them; this org does not know them.
		admin := e.accessToken(t, e.sb.IssueRefreshToken())
		zohoError(t, e.api(t, "GET", "/bigin/v2/users/"+otherPrimary.ID, admin), http.StatusBadRequest, "INVALID_DATA", "the id given seems to be invalid")
		rt := other.IssueRefreshToken()
		org := e.api(t, "GET", "/bigin/v2/org", e.accessToken(t, rt))
		require.Equal(t, http.StatusOK, org.status, string(org.body))
		assert.Equal(t, sandbox.OtherOrgName, org.json(t)["org"].([]any)[0].(map[string]any)["company_name"])
	})

	t.Run("reject", func(t *testing.T) {
		f := url.Values{"sandbox_user": {primary.ID}, "decision": {"reject"}}
		for k, v := range form.hidden {
			f[k] = v
		}
		cb := callback(t, post(t, form.action, f))
		assert.Equal(t, "access_denied", cb.Get("error"))
		assert.Empty(t, cb.Get("code"))
	})

	t.Run("sandbox_user skips the page", func(t *testing.T) {
		q := url.Values{"sandbox_user": {standard}}
		for k, v := range params {
			q[k] = v
		}
		assert.Equal(t, standard, currentUser(t, callback(t, get(t, q)))["id"])
	})

	t.Run("an unknown user", func(t *testing.T) {
		q := url.Values{"sandbox_user": {"42"}}
		for k, v := range params {
			q[k] = v
		}
		a := get(t, q)
		assert.Equal(t, http.StatusBadRequest, a.status)
		assert.Equal(t, "invalid_user", a.json(t)["error"])
	})

	t.Run("without the page, consent is at once", func(t *testing.T) {
		plain := start(t, sandbox.Options{Users: 40})
		req, err := http.NewRequest(http.MethodGet, plain.ts.URL+"/oauth/v2/auth?"+params.Encode(), nil)
		require.NoError(t, err)
		a := plain.do(t, req)
		assert.Equal(t, http.StatusFound, a.status, "no page: %s", a.body)
	})
}
