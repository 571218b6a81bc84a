package ui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/internal/ui"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

func apiTokenNames(t *testing.T, e *apptest.Env) []string {
	t.Helper()
	list, _, err := e.Svc.APITokens(context.Background(), "", 100)
	require.NoError(t, err)
	var names []string
	for _, tok := range list {
		names = append(names, tok.Name)
	}
	return names
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{})
	t.Run("a wrong token does not sign in", func(t *testing.T) {
		b := newBrowser(t, e)
		for _, tok := range []string{"bmcp_api_" + strings.Repeat("x", 43), "", e.Admin + "x"} {
			a := b.post("/ui/signin", "/ui/signin", url.Values{"token": {tok}})
			assert.Equal(t, http.StatusUnauthorized, a.Status)
			assert.Contains(t, a.Body, "unknown or was deleted")
			if tok != "" {
				assert.NotContains(t, a.Body, tok, "the page never repeats what was typed")
			}
			assert.Equal(t, http.StatusSeeOther, b.get("/ui/accounts").Status, "still signed out")
		}
	})
	t.Run("a sign-in without the form's token is refused", func(t *testing.T) {
		b := newBrowser(t, e)
		b.get("/ui/signin")
		a := b.do(http.MethodPost, "/ui/signin", url.Values{"token": {e.Admin}, "csrf": {"forged"}})
		assert.Equal(t, http.StatusForbidden, a.Status)
		assert.Equal(t, http.StatusSeeOther, b.get("/ui/accounts").Status)
	})
	t.Run("the right token gives a strict, HttpOnly session cookie", func(t *testing.T) {
		b := newBrowser(t, e)
		b.get("/ui/signin")
		form := url.Values{"token": {e.Admin}, "csrf": {csrfOf(t, b.get("/ui/signin").Body)}}
		a := b.do(http.MethodPost, "/ui/signin", form)
		require.Equal(t, http.StatusSeeOther, a.Status)
		var session *http.Cookie
		for _, c := range (&http.Response{Header: a.Header}).Cookies() {
			if c.Name == "bigin_mcp_ui" {
				session = c
			}
		}
		require.NotNil(t, session)
		assert.True(t, session.HttpOnly)
		assert.Equal(t, http.SameSiteStrictMode, session.SameSite)
		assert.False(t, session.Secure, "plain HTTP on loopback")
		assert.Equal(t, "/ui/", session.Path)
		assert.Equal(t, http.StatusOK, b.get("/ui/accounts").Status)
	})
}

func TestSessionCookieIsSecureUnderHTTPS(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{PublicURL: "https://mcp.example.com"})
	b := newBrowser(t, e)
	b.hdr.Set("Origin", "https://mcp.example.com") // the browser's view behind a TLS proxy
	page := b.get("/ui/signin")
	a := b.do(http.MethodPost, "/ui/signin", url.Values{"token": {e.Admin}, "csrf": {csrfOf(t, page.Body)}})
	require.Equal(t, http.StatusSeeOther, a.Status, a.Body)
	var names []string
	for _, h := range []http.Header{page.Header, a.Header} {
		for _, c := range (&http.Response{Header: h}).Cookies() {
			names = append(names, c.Name)
			assert.True(t, c.Secure, "cookie %s", c.Name)
			assert.True(t, c.HttpOnly, "cookie %s", c.Name)
			assert.Equal(t, http.SameSiteStrictMode, c.SameSite, "cookie %s", c.Name)
		}
	}
	assert.Contains(t, names, "bigin_mcp_ui")
}

func TestCrossSitePostsAreRefused(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{})
	b := newBrowser(t, e)
	b.signIn(e.Admin)
	valid := csrfOf(t, b.get("/ui/api-tokens").Body)
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		csrf string
	}{
		{"no CSRF token", nil, ""},
		{"a wrong CSRF token", nil, "forged"},
		{"another site's Origin", map[string]string{"Origin": "https://evil.example"}, valid},
		{"Sec-Fetch-Site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}, valid},
		{"Sec-Fetch-Site same-site", map[string]string{"Sec-Fetch-Site": "same-site"}, valid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, e.URL+"/ui/api-tokens", strings.NewReader(url.Values{"name": {"evil"}, "csrf": {tc.csrf}}.Encode()))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tc.hdr {
				req.Header.Set(k, v)
			}
			res, err := b.c.Do(req)
			require.NoError(t, err)
			res.Body.Close()
			assert.Equal(t, http.StatusForbidden, res.StatusCode)
			assert.NotContains(t, apiTokenNames(t, e), "evil")
		})
	}
	t.Run("the same post from this origin works", func(t *testing.T) {
		b.hdr.Set("Origin", e.URL)
		b.hdr.Set("Sec-Fetch-Site", "same-origin")
		a := b.post("/ui/api-tokens", "/ui/api-tokens", url.Values{"name": {"good"}})
		assert.Equal(t, http.StatusCreated, a.Status, a.Body)
		assert.Contains(t, apiTokenNames(t, e), "good")
	})
}

func TestSessionEnds(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{})
	t.Run("at sign-out", func(t *testing.T) {
		b := newBrowser(t, e)
		b.signIn(e.Admin)
		a := b.post("/ui/accounts", "/ui/signout", nil)
		require.Equal(t, http.StatusSeeOther, a.Status)
		assert.Equal(t, "/ui/signin", b.get("/ui/accounts").Header.Get("Location"))
	})
	t.Run("after 12 hours idle, not before", func(t *testing.T) {
		b := newBrowser(t, e)
		b.signIn(e.Admin)
		e.Clock.Advance(ui.IdleTimeout - time.Second)
		require.Equal(t, http.StatusOK, b.get("/ui/accounts").Status, "a request keeps the session alive")
		e.Clock.Advance(ui.IdleTimeout - time.Second)
		require.Equal(t, http.StatusOK, b.get("/ui/accounts").Status)
		e.Clock.Advance(ui.IdleTimeout)
		a := b.get("/ui/accounts")
		assert.Equal(t, http.StatusSeeOther, a.Status)
		assert.Equal(t, "/ui/signin", a.Header.Get("Location"))
	})
	t.Run("when its API token is deleted", func(t *testing.T) {
		_, tok, err := e.Svc.CreateAPIToken(context.Background(), tokens.APITokenInput{Name: "short-lived"})
		require.NoError(t, err)
		b := newBrowser(t, e)
		b.signIn(tok)
		require.Equal(t, http.StatusOK, b.get("/ui/accounts").Status)
		id := ""
		list, _, err := e.Svc.APITokens(context.Background(), "", 100)
		require.NoError(t, err)
		for _, x := range list {
			if x.Name == "short-lived" {
				id = x.ID
			}
		}
		e.AdminCall("DELETE", "/admin/api-tokens/"+id, nil, http.StatusNoContent)
		assert.Equal(t, http.StatusSeeOther, b.get("/ui/accounts").Status)
	})
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{})
	b := newBrowser(t, e)
	for _, path := range []string{"/ui/signin", "/ui/static/ui.css", "/ui/static/ui.js", "/ui/nowhere"} {
		a := b.get(path)
		csp := a.Header.Get("Content-Security-Policy")
		assert.Contains(t, csp, "frame-ancestors 'none'", path)
		assert.Contains(t, csp, "script-src 'self';", path)
		assert.Contains(t, csp, "style-src 'self';", path)
		assert.NotContains(t, csp, "unsafe-inline", path)
		assert.Equal(t, "DENY", a.Header.Get("X-Frame-Options"), path)
		assert.Equal(t, "nosniff", a.Header.Get("X-Content-Type-Options"), path)
	}
	page := b.get("/ui/signin").Body
	assert.NotContains(t, page, "<style", "no inline style")
	assert.NotContains(t, page, "style=", "no inline style attribute")
	assert.NotRegexp(t, `<script>|<script [^>]*>[^<]`, page, "no inline script")
	assert.Equal(t, http.StatusNotFound, b.get("/ui/nowhere").Status)
}

func TestBadInputIsA4xxPage(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{})
	acc := e.ConnectAccount("us")
	b := newBrowser(t, e)
	b.signIn(e.Admin)
	for _, tc := range []struct {
		name, from, path string
		form             url.Values
		status           int
		says             string
	}{
		{"a lifetime that is not a number", "/ui/connect-links", "/ui/connect-links", url.Values{"lifetime": {"soon"}}, 400, "expires_in_seconds must be between"},
		{"a lifetime too long", "/ui/connect-links", "/ui/connect-links", url.Values{"lifetime": {"99999999999"}}, 400, "between"},
		{"an unknown region", "/ui/connect-links", "/ui/connect-links", url.Values{"lifetime": {"3600"}, "datacenter": {"mars"}}, 400, "mars"},
		{"an unknown method", "/ui/accounts/" + acc, "/ui/accounts/" + acc + "/mcp", url.Values{"name": {"x"}, "methods": {"bogus"}, "expiry": {"never"}}, 400, "unknown method"},
		{"a policy leaving no tool", "/ui/accounts/" + acc, "/ui/accounts/" + acc + "/mcp", url.Values{"name": {"x"}, "methods": {"delete"}, "tags": {"roles"}, "expiry": {"never"}}, 400, "allows no tool"},
		{"an expiry that does not parse", "/ui/accounts/" + acc, "/ui/accounts/" + acc + "/mcp", url.Values{"name": {"x"}, "expiry": {"at"}, "expires_at": {"tomorrow"}}, 400, "RFC 3339"},
		{"an expiry in the past", "/ui/accounts/" + acc, "/ui/accounts/" + acc + "/mcp", url.Values{"name": {"x"}, "expiry": {"at"}, "expires_at": {"2001-01-01T00:00:00Z"}}, 400, "60 seconds"},
		{"an unknown expiry choice", "/ui/accounts/" + acc, "/ui/accounts/" + acc + "/mcp", url.Values{"name": {"x"}, "expiry": {"-5h"}}, 400, "expiry options"},
		{"an unknown module", "/ui/accounts/" + acc, "/ui/accounts/" + acc + "/mcp", url.Values{"name": {"x"}, "expiry": {"never"}, "modules": {"Contacts", "Leads"}}, 400,
			`unknown module &#34;Leads&#34; in config.modules; valid modules (Zoho&#39;s API names): Contacts, Accounts (the app&#39;s Companies), Pipelines (the app&#39;s Deals)`},
		{"a budget that is not a number", "/ui/accounts/" + acc, "/ui/accounts/" + acc + "/mcp", url.Values{"name": {"x"}, "expiry": {"never"}, "max_result_chars": {"lots"}}, 400, "whole number"},
		{"a budget out of bounds", "/ui/accounts/" + acc, "/ui/accounts/" + acc + "/mcp", url.Values{"name": {"x"}, "expiry": {"never"}, "max_result_chars": {"3"}}, 400, "max_result_chars"},
		{"an empty URL name", "/ui/accounts/" + acc, "/ui/accounts/" + acc + "/mcp", url.Values{"name": {""}, "expiry": {"never"}}, 400, "name"},
		{"an unknown account", "/ui/accounts", "/ui/accounts/nope/mcp", url.Values{"name": {"x"}, "expiry": {"never"}}, 404, "no integrated account"},
		{"the last API token", "/ui/api-tokens", "/ui/api-tokens/" + onlyTokenID(t, e) + "/delete", nil, 409, "last API token"},
		{"a used-up or unknown link", "/ui/connect-links", "/ui/connect-links/nope/revoke", nil, 404, "no connect link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := b.post(tc.from, tc.path, tc.form)
			assert.Equal(t, tc.status, a.Status, a.Body)
			assert.Contains(t, a.Body, tc.says)
			assert.Equal(t, "text/html; charset=utf-8", a.Header.Get("Content-Type"))
		})
	}
	t.Run("a bad audit time", func(t *testing.T) {
		a := b.get("/ui/audit?since=yesterday")
		assert.Equal(t, http.StatusBadRequest, a.Status)
		assert.Contains(t, a.Body, "since must be a time")
	})
	t.Run("an unknown MCP URL", func(t *testing.T) {
		assert.Equal(t, http.StatusNotFound, b.get("/ui/accounts/"+acc+"/mcp/nope").Status)
	})
	t.Run("a form over the size limit", func(t *testing.T) {
		a := b.post("/ui/api-tokens", "/ui/api-tokens", url.Values{"name": {strings.Repeat("x", 100<<10)}})
		assert.Equal(t, http.StatusRequestEntityTooLarge, a.Status)
	})
}

func onlyTokenID(t *testing.T, e *apptest.Env) string {
	t.Helper()
	list, _, err := e.Svc.APITokens(context.Background(), "", 100)
	require.NoError(t, err)
	require.Len(t, list, 1)
	return list[0].ID
}

func TestNeedsReauthAccountGetsAReconnectLink(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{})
	acc := e.SeedAccount("Acme")
	require.NoError(t, e.Svc.MarkNeedsReauth(context.Background(), acc.ID))
	b := newBrowser(t, e)
	b.signIn(e.Admin)
	page := b.get("/ui/accounts").Body
	assert.Contains(t, page, "needs reauthorization")
	assert.Contains(t, page, `action="/ui/accounts/`+acc.ID+`/reconnect"`)

	a := b.post("/ui/accounts", "/ui/accounts/"+acc.ID+"/reconnect", nil)
	require.Equal(t, http.StatusCreated, a.Status, a.Body)
	assert.Contains(t, a.Body, e.Public+"/connect/bmcp_link_")
	links, _, err := e.Svc.ConnectLinks(context.Background(), "", 10)
	require.NoError(t, err)
	require.Len(t, links, 1)
	assert.Equal(t, "Acme", links[0].Name)
	assert.Equal(t, "us", links[0].Datacenter, "fixed to the account's datacenter")
	assert.Equal(t, acc.ID, links[0].ReconnectAccountID, "a reconnect link: it repairs this account instead of creating one")
	assert.Contains(t, a.Body, "reconnects this same account")
	listed := b.get("/ui/connect-links").Body
	assert.NotContains(t, listed, "bmcp_link_", "the link is shown once")
	assert.Contains(t, listed, `reconnects <a href="/ui/accounts/`+acc.ID+`">`, "the list names the account it reconnects")

	entries, _, err := e.Svc.Audit(context.Background(), tokens.AuditFilter{}, "", 1)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "connect_link.create", entries[0].Action)
	assert.Equal(t, acc.ID, entries[0].AccountID, "audited against the account")
	assert.True(t, strings.HasPrefix(entries[0].Actor, "api_token:"), "changes made in the UI are the signed-in token's: %s", entries[0].Actor)
}

// An account connected before the record tools stays active, and its
// record tools tell the operator to reconnect it "on the account's page
// of the web UI": that page offers the reconnect link, though the
// account neither needs reauthorization nor shares its org.
func TestAccountPageOffersAReconnectLink(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{})
	acc := e.ConnectAccountWithScopes("us", sandbox.DirectoryScopes()...)
	out := e.AdminCall("POST", "/integrated-account/"+acc+"/tools/list_zohobigin_records", map[string]any{"module": "Contacts"}, http.StatusConflict)
	require.Contains(t, out["error"].(map[string]any)["message"], "Reconnect on the account's page of the web UI")

	b := newBrowser(t, e)
	b.signIn(e.Admin)
	page := b.get("/ui/accounts/" + acc).Body
	assert.Contains(t, page, `<form method="post" action="/ui/accounts/`+acc+`/reconnect" class="card" id="reconnect-form">`)
	assert.Equal(t, 1, strings.Count(page, `action="/ui/accounts/`+acc+`/reconnect"`), "one reconnect form for the account")

	a := b.post("/ui/accounts/"+acc, "/ui/accounts/"+acc+"/reconnect", nil)
	require.Equal(t, http.StatusCreated, a.Status, a.Body)
	assert.Contains(t, a.Body, e.Public+"/connect/bmcp_link_")
	links, _, err := e.Svc.ConnectLinks(context.Background(), "", 10)
	require.NoError(t, err)
	require.Len(t, links, 1)
	assert.Equal(t, acc, links[0].ReconnectAccountID, "the link repairs this account")
}

// The mint and edit forms choose the record modules; the live list and
// the pages show which modules each tool takes.
func TestPolicyFormsChooseModules(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{})
	acc := e.ConnectAccount("us")
	b := newBrowser(t, e)
	b.signIn(e.Admin)
	page := b.get("/ui/accounts/" + acc).Body
	for _, m := range []string{"Contacts", "Accounts", "Pipelines", "Products", "Tasks", "Events", "Calls"} {
		assert.Contains(t, page, `<input type="checkbox" name="modules" value="`+m+`">`, "an unchecked box for %s", m)
	}
	assert.Contains(t, page, "Accounts (Companies)")
	assert.Contains(t, page, "Pipelines (Deals)")

	// The live list: what a policy leaves, each tool with its modules.
	live := func(q string) (out struct {
		Tools []struct {
			Name    string   `json:"name"`
			Modules []string `json:"modules"`
		} `json:"tools"`
		Error string `json:"error"`
	}) {
		t.Helper()
		a := b.get("/ui/tools?" + q)
		require.Equal(t, http.StatusOK, a.Status)
		require.NoError(t, json.Unmarshal([]byte(a.Body), &out), a.Body)
		return out
	}
	tasks := live("tags=records&modules=tasks")
	assert.Empty(t, tasks.Error)
	var names []string
	for _, tool := range tasks.Tools {
		names = append(names, tool.Name)
		assert.Equal(t, []string{"Tasks"}, tool.Modules, tool.Name)
	}
	assert.Equal(t, []string{"describe_zohobigin_module", "list_zohobigin_records", "get_single_zohobigin_record_by_id", "search_zohobigin_records",
		"query_zohobigin_records", "create_zohobigin_records", "update_zohobigin_records", "delete_zohobigin_records_by_ids"}, names,
		"Tasks have no related lists or notes")
	everything := live("")
	require.Len(t, everything.Tools, len(apptest.AllTools()))
	for _, tool := range everything.Tools {
		if tool.Name == "list_zohobigin_related_records" {
			assert.Equal(t, []string{"Contacts", "Accounts", "Pipelines", "Products"}, tool.Modules)
		}
		if tool.Name == "list_all_zohobigin_users" {
			assert.Nil(t, tool.Modules, "a directory tool takes no module")
		}
	}
	bad := live("modules=Leads")
	assert.Empty(t, bad.Tools)
	assert.Contains(t, bad.Error, `unknown module "Leads" in config.modules`)
	none := live("tags=notes&modules=Tasks")
	assert.Contains(t, none.Error, "config allows no tool")

	// Without JavaScript, the preview button posts the form.
	a := b.post("/ui/accounts/"+acc, "/ui/accounts/"+acc+"/mcp/preview", url.Values{"name": {"x"}, "tags": {"records"}, "modules": {"Contacts", "Pipelines"}, "expiry": {"never"}})
	require.Equal(t, http.StatusOK, a.Status)
	assert.Contains(t, a.Body, `<li data-tool="add_zohobigin_note">add_zohobigin_note <span class="modules">(Contacts, Pipelines)</span></li>`)
	assert.Contains(t, a.Body, `<input type="checkbox" name="modules" value="Pipelines" checked>`, "the form keeps what was checked")

	// Mint: the URL offers the modules chosen, and its pages say so.
	a = b.post("/ui/accounts/"+acc, "/ui/accounts/"+acc+"/mcp", url.Values{"name": {"contacts and deals"}, "modules": {"Pipelines", "contacts"}, "expiry": {"never"}})
	require.Equal(t, http.StatusCreated, a.Status, a.Body)
	assert.Contains(t, a.Body, `<span id="minted-modules">Contacts, Pipelines</span>`)
	assert.Contains(t, a.Body, `<li data-tool="list_zohobigin_records">list_zohobigin_records <span class="modules">(Contacts, Pipelines)</span></li>`)
	servers, _, _, err := e.Svc.MCPServers(context.Background(), acc, "", 10)
	require.NoError(t, err)
	require.Len(t, servers, 1)
	srv := servers[0]
	assert.Equal(t, []string{"Contacts", "Pipelines"}, srv.Config.Modules)
	assert.Contains(t, b.get("/ui/accounts/"+acc).Body, `<td class="modules">Contacts, Pipelines</td>`)

	edit := "/ui/accounts/" + acc + "/mcp/" + srv.ID
	page = b.get(edit).Body
	assert.Contains(t, page, `<span id="url-modules">Contacts, Pipelines</span>`)
	assert.Contains(t, page, `<input type="checkbox" name="modules" value="Contacts" checked>`)
	assert.Contains(t, page, `<input type="checkbox" name="modules" value="Accounts">`)
	assert.Contains(t, page, `<li data-tool="list_zohobigin_related_records">list_zohobigin_related_records <span class="modules">(Contacts, Pipelines)</span></li>`)

	// Edit: a bad module changes nothing; other modules apply; none is all.
	a = b.post(edit, edit, url.Values{"name": {"contacts and deals"}, "modules": {"Deals"}, "expiry": {"keep"}})
	assert.Equal(t, http.StatusBadRequest, a.Status)
	assert.Contains(t, a.Body, `unknown module &#34;Deals&#34;`)
	kept, err := e.Svc.MCPServer(context.Background(), acc, srv.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{"Contacts", "Pipelines"}, kept.Config.Modules)
	a = b.post(edit, edit, url.Values{"name": {"tasks"}, "modules": {"Tasks"}, "expiry": {"keep"}})
	require.Equal(t, http.StatusOK, a.Status, a.Body)
	assert.Contains(t, a.Body, `<span id="url-modules">Tasks</span>`)
	assert.NotContains(t, a.Body, `<li data-tool="add_zohobigin_note">`)
	changed, err := e.Svc.MCPServer(context.Background(), acc, srv.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{"Tasks"}, changed.Config.Modules)
	a = b.post(edit, edit, url.Values{"name": {"tasks"}, "expiry": {"keep"}})
	require.Equal(t, http.StatusOK, a.Status, a.Body)
	assert.Contains(t, a.Body, `<span id="url-modules">all</span>`)
	all, err := e.Svc.MCPServer(context.Background(), acc, srv.ID)
	require.NoError(t, err)
	assert.Nil(t, all.Config.Modules)
}
