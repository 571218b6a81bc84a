package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/internal/ui"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// chromiumPath finds Debian's chromium (BIGIN_MCP_CHROMIUM overrides).
// .ci/run installs it; without it the browser test fails, saying how to
// install it, rather than pass without having run.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("BIGIN_MCP_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatal("chromium is not installed: apt-get install chromium (.ci/run does), or set BIGIN_MCP_CHROMIUM to a Chromium binary")
	return ""
}

// headless is one headless Chromium for a whole test, with a screenshot
// after each step that are written out only when the test fails.
type headless struct {
	t      *testing.T
	ctx    context.Context
	shots  [][]byte
	labels []string
}

func newHeadless(t *testing.T) *headless {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	// One deadline for the whole test: generous, for a slow, shared machine.
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	h := &headless{t: t, ctx: ctx}
	t.Cleanup(func() {
		if t.Failed() {
			h.writeShots()
		}
		cancelTimeout()
		cancelBrowser()
		cancelAlloc()
	})
	require.NoError(t, chromedp.Do(ctx), "start chromium")
	return h
}

// run runs actions and records a screenshot of the page after them.
func (h *headless) run(label string, actions ...chromedp.Action[chromedp.Void]) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, time.Minute) // a step that waits for what never comes fails alone
	defer cancel()
	var err error
	for i, a := range actions {
		if err = chromedp.Do(ctx, a); err != nil {
			err = fmt.Errorf("action %d of %d (%T): %w", i+1, len(actions), a, err)
			break
		}
	}
	sctx, scancel := context.WithTimeout(h.ctx, readTimeout)
	defer scancel()
	if shot, serr := chromedp.Run(sctx, chromedp.FullScreenshot(100)); serr == nil {
		h.shots, h.labels = append(h.shots, shot), append(h.labels, label)
	}
	require.NoError(h.t, err, "browser step %q", label)
}

func (h *headless) writeShots() {
	dir, err := os.MkdirTemp("", "bigin-mcp-ui-screens-")
	if err != nil {
		h.t.Logf("no screenshots: %v", err)
		return
	}
	for i, shot := range h.shots {
		name := fmt.Sprintf("%02d-%s.png", i, strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				return r
			}
			return '-'
		}, strings.ToLower(h.labels[i])))
		_ = os.WriteFile(filepath.Join(dir, name), shot, 0o644)
	}
	h.t.Logf("screenshots of each step: %s", dir)
}

// readTimeout bounds a read of the page, which waits for its node.
const readTimeout = 30 * time.Second

// html returns the current page's HTML.
func (h *headless) html() string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, readTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	require.NoError(h.t, err, "the page's HTML")
	return s
}

// text returns the text of the first node sel matches, once it is
// visible.
func (h *headless) text(sel string) string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, readTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	require.NoError(h.t, err, "text of %s (visible)", sel)
	return strings.TrimSpace(s)
}

// TestBrowser drives the UI in a real headless Chromium against the real
// stack and the sandbox's Zoho, as an operator would.
func TestBrowser(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, apptest.Options{})
	b := newHeadless(t)
	base := e.URL + "/ui/"
	var secrets []string // every token and secret shown, to be sure no later page shows it

	b.run("a wrong token does not sign in",
		chromedp.Navigate(base+"accounts"),
		chromedp.WaitVisible(chromedp.CSS("#signin-form")),
		chromedp.SendKeys(chromedp.CSS("#token"), "bmcp_api_"+strings.Repeat("w", 43)),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#error")),
	)
	assert.Contains(t, b.text("#error"), "unknown or was deleted")
	assert.NotContains(t, b.html(), strings.Repeat("w", 43))

	b.run("sign in",
		chromedp.SendKeys(chromedp.CSS("#token"), e.Admin),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#signout")),
	)
	assert.Equal(t, "Accounts", b.text("h1"))

	// A connect link, completed through the sandbox's Zoho.
	b.run("create a connect link",
		chromedp.Navigate(base+"connect-links"),
		chromedp.SendKeys(chromedp.CSS("#link-name"), "Acme"),
		chromedp.SetValue(chromedp.CSS("#datacenter"), "us"),
		chromedp.SetValue(chromedp.CSS("#lifetime"), "86400"),
		chromedp.Click(chromedp.CSS("#create-link")),
		chromedp.WaitVisible(chromedp.CSS("#link-url")),
	)
	link := b.text("#link-url")
	require.True(t, strings.HasPrefix(link, e.Public+"/connect/"+tokens.ConnectLinkPrefix), link)
	secrets = append(secrets, strings.TrimPrefix(link, e.Public+"/connect/"))
	b.run("complete the link at the sandbox's Zoho",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS("main")),
	)
	assert.Contains(t, b.text("main"), "Org us is now connected")
	b.run("the link is used", chromedp.Navigate(base+"connect-links"), chromedp.WaitVisible(chromedp.CSS("#links")))
	assert.Equal(t, "used", b.text("#links .state"))

	accounts, _, err := e.Svc.Accounts(context.Background(), "", 10)
	require.NoError(t, err)
	require.Len(t, accounts, 1)
	acc := accounts[0]
	assert.Equal(t, "Acme", acc.Name, "the link's name")
	full, err := e.DB.Account(context.Background(), acc.ID)
	require.NoError(t, err)
	secrets = append(secrets, full.RefreshToken, full.AccessToken, e.Admin, e.Config.ZohoClientSecret)
	b.run("the account is listed",
		chromedp.Navigate(base+"accounts"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-account="`+acc.ID+`"]`)),
	)
	assert.Contains(t, b.text(`tr[data-account="`+acc.ID+`"]`), "Org us")

	// Mint a read-only URL; the live list follows the checkboxes.
	b.run("the mint form lists what read leaves",
		chromedp.Navigate(base+"accounts/"+acc.ID),
		chromedp.WaitVisible(chromedp.CSS("#mint-form")),
	)
	tools := b.text("#preview-tools")
	assert.Contains(t, tools, "list_all_zohobigin_users")
	assert.NotContains(t, tools, "delete_a_zohobigin_user_by_id")
	b.run("checking write adds the delete tool, live",
		chromedp.Click(chromedp.CSS(`#methods input[value="write"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#preview[data-ready]`)),
		chromedp.Poll[chromedp.Void](`document.getElementById("preview-tools").textContent.includes("delete_a_zohobigin_user_by_id")`, chromedp.WithPollingTimeout(30*time.Second)),
		chromedp.Click(chromedp.CSS(`#methods input[value="write"]`)),
		chromedp.Poll[chromedp.Void](`!document.getElementById("preview-tools").textContent.includes("delete_a_zohobigin_user_by_id")`, chromedp.WithPollingTimeout(30*time.Second)),
	)
	// Record modules narrow the record tools, and the live list says
	// which modules each tool takes.
	modulesOf := func(tool string) string {
		return `(document.querySelector('#preview-tools li[data-tool="` + tool + `"] .modules') || {}).textContent`
	}
	b.run("checking modules narrows the record tools, live",
		chromedp.Click(chromedp.CSS(`#modules input[value="Contacts"]`)),
		chromedp.Poll[chromedp.Void](modulesOf("list_zohobigin_records")+` === "(Contacts)"`, chromedp.WithPollingTimeout(30*time.Second)),
		chromedp.Click(chromedp.CSS(`#modules input[value="Pipelines"]`)),
		chromedp.Poll[chromedp.Void](modulesOf("list_zohobigin_records")+` === "(Contacts, Pipelines)"`, chromedp.WithPollingTimeout(30*time.Second)),
	)
	assert.Equal(t, "(Contacts, Pipelines)", b.text(`#preview-tools li[data-tool="list_zohobigin_related_records"] .modules`))
	assert.Equal(t, "list_all_zohobigin_users", b.text(`#preview-tools li[data-tool="list_all_zohobigin_users"]`), "a directory tool takes no module")
	assert.NotContains(t, b.text("#preview-tools"), "create_zohobigin_records", "read only")
	b.run("mint a read-only URL and copy it",
		chromedp.SendKeys(chromedp.CSS("#name"), "support bot"),
		chromedp.Click(chromedp.CSS("#mint")),
		chromedp.WaitVisible(chromedp.CSS("#mcp-url")),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			for _, name := range []string{"clipboard-read", "clipboard-write"} {
				if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
					Permission: &cdpbrowser.PermissionDescriptor{Name: name}, Setting: cdpbrowser.PermissionSettingGranted, Origin: e.URL,
				}); err != nil {
					return err
				}
			}
			return nil
		}),
		chromedp.Click(chromedp.CSS(`button[data-copy="mcp-url"]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[data-copy="mcp-url"][data-copied]`)),
	)
	copied, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	require.NoError(t, err, "read the clipboard")
	mcpURL := b.text("#mcp-url")
	assert.Equal(t, mcpURL, copied, "the copy button copies the URL")
	require.True(t, strings.HasPrefix(mcpURL, e.Public+"/mcp/"+tokens.MCPTokenPrefix), mcpURL)
	secrets = append(secrets, strings.TrimPrefix(mcpURL, e.Public+"/mcp/"))
	assert.Contains(t, b.text("#snippet-desktop"), `"mcp-remote"`)
	assert.Contains(t, b.text("#snippet-desktop"), mcpURL)
	assert.Equal(t, mcpURL, b.text("#snippet-claude"))
	assert.Equal(t, mcpURL, b.text("#snippet-chatgpt"))
	assert.Equal(t, "Contacts, Pipelines", b.text("#minted-modules"))
	assert.Equal(t, "(Contacts, Pipelines)", b.text(`#minted-tools li[data-tool="list_zohobigin_records"] .modules`))

	// The copied URL works with the go-sdk client, without the delete tool.
	cs := e.MustConnect(copied, "streamable")
	names := apptest.ToolNames(t, cs)
	assert.Contains(t, names, "list_all_zohobigin_users")
	assert.NotContains(t, names, "delete_a_zohobigin_user_by_id")
	res, _ := apptest.CallTool(t, cs, "list_all_zohobigin_users", map[string]any{})
	require.False(t, res.IsError)
	res, out := apptest.CallTool(t, cs, "list_zohobigin_records", map[string]any{"module": "Accounts"})
	require.True(t, res.IsError, "Accounts is not one of the URL's modules")
	assert.Equal(t, "module_not_allowed", out["error"].(map[string]any)["code"])

	servers, _, _, err := e.Svc.MCPServers(context.Background(), acc.ID, "", 10)
	require.NoError(t, err)
	require.Len(t, servers, 1)
	srv := servers[0]
	edit := base + "accounts/" + acc.ID + "/mcp/" + srv.ID
	b.run("the URL's page shows its modules",
		chromedp.Navigate(edit),
		chromedp.WaitVisible(chromedp.CSS("#edit-form")),
	)
	assert.Equal(t, "Contacts, Pipelines", b.text("#url-modules"))
	assert.Equal(t, "(Contacts, Pipelines)", b.text(`#current-tools li[data-tool="get_single_zohobigin_record_by_id"] .modules`))
	b.run("change the policy: add write, drop Pipelines",
		chromedp.Click(chromedp.CSS(`#methods input[value="write"]`)),
		// The live list grows and moves the button: click it once it has.
		chromedp.Poll[chromedp.Void](`document.getElementById("preview-tools").textContent.includes("delete_a_zohobigin_user_by_id")`, chromedp.WithPollingTimeout(30*time.Second)),
		chromedp.Click(chromedp.CSS(`#modules input[value="Pipelines"]`)),
		chromedp.Poll[chromedp.Void](modulesOf("create_zohobigin_records")+` === "(Contacts)"`, chromedp.WithPollingTimeout(30*time.Second)),
		chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS("#notice")),
	)
	assert.Contains(t, b.text("#current-tools"), "delete_a_zohobigin_user_by_id")
	assert.Equal(t, "Contacts", b.text("#url-modules"))
	assert.Equal(t, "(Contacts)", b.text(`#current-tools li[data-tool="create_zohobigin_records"] .modules`))
	assert.Contains(t, apptest.ToolNames(t, e.MustConnect(copied, "streamable")), "delete_a_zohobigin_user_by_id", "the new policy applies at once")

	// The call shows on the audit page, with its filters.
	e.App.Flush()
	b.run("the call is on the audit page",
		chromedp.Navigate(base+"audit"),
		chromedp.WaitVisible(chromedp.CSS("#audit-filter")),
		chromedp.SetValue(chromedp.CSS(`select[name="tool"]`), "list_all_zohobigin_users"),
		chromedp.SetValue(chromedp.CSS(`input[name="outcome"]`), "ok"),
		// The unfiltered page has an #audit too: mark it, to wait for the
		// filtered one.
		chromedp.Evaluate[chromedp.Void](`document.body.setAttribute("data-stale", "")`),
		chromedp.Click(chromedp.CSS("#filter")),
		chromedp.WaitVisible(chromedp.CSS("body:not([data-stale]) #audit")),
	)
	assert.Contains(t, b.text("#audit .tool"), "list_all_zohobigin_users")
	assert.Contains(t, b.text("#audit .action"), "tool_call")
	b.run("filtering by another URL hides it", chromedp.Navigate(base+"audit?url=nope"), chromedp.WaitVisible(chromedp.CSS("#audit-filter")))
	rows, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#audit tr.entry").length`))
	require.NoError(t, err)
	assert.Zero(t, rows)
	b.run("admin changes are there too",
		chromedp.Navigate(base+"audit?url="+srv.ID),
		chromedp.WaitVisible(chromedp.CSS("#audit")),
	)
	page := b.html()
	assert.Contains(t, page, "mcp_server.create")
	assert.Contains(t, page, "mcp_server.update")

	// An API token made here is shown once.
	b.run("create an API token",
		chromedp.Navigate(base+"api-tokens"),
		chromedp.SendKeys(chromedp.CSS("#token-name"), "ci bot"),
		chromedp.Click(chromedp.CSS("#create-token")),
		chromedp.WaitVisible(chromedp.CSS("#token-value")),
	)
	apiToken := b.text("#token-value")
	require.True(t, strings.HasPrefix(apiToken, tokens.APITokenPrefix))
	secrets = append(secrets, apiToken)

	// No page shows a token or secret after the moment it was created.
	for _, path := range []string{"accounts", "accounts/" + acc.ID, "accounts/" + acc.ID + "/mcp/" + srv.ID, "connect-links", "audit", "api-tokens", "signin"} {
		b.run("no secret on "+path, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS("h1")))
		page := b.html()
		for _, s := range secrets {
			require.NotEmpty(t, s)
			assert.NotContains(t, page, s, "page %s", path)
		}
	}

	b.run("delete the URL, after confirming",
		chromedp.Navigate(edit),
		chromedp.Click(chromedp.CSS("#delete-url")),
		chromedp.WaitVisible(chromedp.CSS("#confirm-delete")),
		chromedp.Click(chromedp.CSS("#confirm-delete")),
		chromedp.WaitVisible(chromedp.CSS("#mint-form")),
	)
	assert.NotContains(t, b.html(), srv.ID)
	resp, err := http.Post(copied, "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "a deleted URL answers 404")

	// A form posted from another site is refused.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/ui/api-tokens"><input name="name" value="evil"><input name="csrf" value="guess"><button id="go">go</button></form>`, e.URL)
	}))
	defer evil.Close()
	// localhost is another site than 127.0.0.1, where the UI is.
	b.run("a cross-site post is refused",
		chromedp.Navigate(strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)),
		chromedp.Click(chromedp.CSS("#go")),
		chromedp.WaitVisible(chromedp.CSS("#error")),
	)
	assert.Contains(t, b.text("#error"), "another site")
	assert.NotContains(t, apiTokenNames(t, e), "evil")

	// An API token limited to scopes and accounts, as the admin API makes
	// them; the list shows its limits.
	b.run("create an API token limited to tools and unified on Acme",
		chromedp.Navigate(base+"api-tokens"),
		chromedp.WaitVisible(chromedp.CSS("#token-form")),
		chromedp.SendKeys(chromedp.CSS("#token-name"), "acme reporting"),
		chromedp.Click(chromedp.CSS(`#token-scopes input[value="tools"]`)),
		chromedp.Click(chromedp.CSS(`#token-scopes input[value="unified"]`)),
		chromedp.Click(chromedp.CSS(`#token-accounts input[value="`+acc.ID+`"]`)),
		chromedp.Click(chromedp.CSS("#create-token")),
		chromedp.WaitVisible(chromedp.CSS("#token-value")),
	)
	scoped := b.text("#token-value")
	require.True(t, strings.HasPrefix(scoped, tokens.APITokenPrefix))
	assert.Contains(t, b.text("#created-token"), "It works for tools, unified on Acme only")
	assert.Contains(t, b.text("#created-token"), "cannot sign in here")
	scopedTok, err := e.Svc.AuthenticateAPIToken(context.Background(), scoped)
	require.NoError(t, err)
	assert.Equal(t, "acme reporting", scopedTok.Name)
	assert.Equal(t, []string{"tools", "unified"}, scopedTok.Scopes)
	assert.Equal(t, []string{acc.ID}, scopedTok.AccountIDs)
	b.run("the list shows the token's limits",
		chromedp.Navigate(base+"api-tokens"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-token="`+scopedTok.ID+`"]`)),
	)
	assert.Equal(t, "tools, unified", b.text(`tr[data-token="`+scopedTok.ID+`"] .scopes`))
	assert.Equal(t, "Acme", b.text(`tr[data-token="`+scopedTok.ID+`"] .accounts`))
	adminTok, err := e.Svc.AuthenticateAPIToken(context.Background(), e.Admin)
	require.NoError(t, err)
	assert.Equal(t, "all", b.text(`tr[data-token="`+adminTok.ID+`"] .scopes`), "a token without limits")
	assert.NotContains(t, b.html(), scoped, "the token is shown once")
	b.run("a token limited to accounts cannot have the admin scope",
		chromedp.SendKeys(chromedp.CSS("#token-name"), "too wide"),
		chromedp.Click(chromedp.CSS(`#token-scopes input[value="admin"]`)),
		chromedp.Click(chromedp.CSS(`#token-accounts input[value="`+acc.ID+`"]`)),
		chromedp.Click(chromedp.CSS("#create-token")),
		chromedp.WaitVisible(chromedp.CSS("#error")),
	)
	assert.Contains(t, b.text("#error"), "cannot have the admin scope")
	kept, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.querySelector('#token-scopes input[value="admin"]').checked && `+
		`document.querySelector('#token-accounts input[value="`+acc.ID+`"]').checked && document.getElementById("token-name").value === "too wide"`))
	require.NoError(t, err)
	assert.True(t, kept, "the form keeps what was chosen")
	assert.NotContains(t, apiTokenNames(t, e), "too wide")

	// Rate limits: the account's, and a URL's own on the mint and edit forms.
	b.run("set the account's rate limit",
		chromedp.Navigate(base+"accounts/"+acc.ID),
		chromedp.WaitVisible(chromedp.CSS("#account-rate-form")),
		chromedp.SendKeys(chromedp.CSS(`#account-rate-form input[name="rate_limit_requests"]`), "600"),
		chromedp.SendKeys(chromedp.CSS(`#account-rate-form input[name="rate_limit_per_seconds"]`), "3600"),
		chromedp.Click(chromedp.CSS("#save-account-rate")),
		chromedp.WaitVisible(chromedp.CSS("#notice")),
	)
	assert.Equal(t, "600 calls per 3600 s", b.text("#account-rate"))
	limited, err := e.Svc.Account(context.Background(), acc.ID)
	require.NoError(t, err)
	assert.Equal(t, &tokens.RateLimit{Requests: 600, PerSeconds: 3600}, limited.RateLimit)
	b.run("mint a URL with a rate limit of its own",
		chromedp.Navigate(base+"accounts/"+acc.ID),
		chromedp.WaitVisible(chromedp.CSS("#mint-form")),
		chromedp.SendKeys(chromedp.CSS("#name"), "limited bot"),
		chromedp.SendKeys(chromedp.CSS(`#mint-form input[name="rate_limit_requests"]`), "5"),
		chromedp.SendKeys(chromedp.CSS(`#mint-form input[name="rate_limit_per_seconds"]`), "60"),
		chromedp.Click(chromedp.CSS("#mint")),
		chromedp.WaitVisible(chromedp.CSS("#mcp-url")),
	)
	assert.Equal(t, "5 calls per 60 s", b.text("#minted-rate"))
	limitedURL := b.text("#mcp-url")
	servers, _, _, err = e.Svc.MCPServers(context.Background(), acc.ID, "", 10)
	require.NoError(t, err)
	var limitedSrv *tokens.MCPServer
	for _, m := range servers {
		if m.Name == "limited bot" {
			limitedSrv = m
		}
	}
	require.NotNil(t, limitedSrv)
	assert.Equal(t, &tokens.RateLimit{Requests: 5, PerSeconds: 60}, limitedSrv.Config.RateLimit)
	limitedEdit := base + "accounts/" + acc.ID + "/mcp/" + limitedSrv.ID
	b.run("the edit form shows the URL's rate limit",
		chromedp.Navigate(limitedEdit),
		chromedp.WaitVisible(chromedp.CSS("#edit-form")),
	)
	shown, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('#edit-form input[name="rate_limit_requests"]').value + "/" + `+
		`document.querySelector('#edit-form input[name="rate_limit_per_seconds"]').value`))
	require.NoError(t, err)
	assert.Equal(t, "5/60", shown)
	assert.Equal(t, "5 calls per 60 s", b.text("#url-rate-now"))
	b.run("emptying both fields removes the URL's rate limit",
		chromedp.SetValue(chromedp.CSS(`#edit-form input[name="rate_limit_requests"]`), ""),
		chromedp.SetValue(chromedp.CSS(`#edit-form input[name="rate_limit_per_seconds"]`), ""),
		chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS("#notice")),
	)
	assert.Equal(t, "none", b.text("#url-rate-now"))
	unlimited, err := e.Svc.MCPServer(context.Background(), acc.ID, limitedSrv.ID)
	require.NoError(t, err)
	assert.Nil(t, unlimited.Config.RateLimit)
	b.run("the account page lists each URL's rate limit",
		chromedp.Navigate(base+"accounts/"+acc.ID),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-url="`+limitedSrv.ID+`"]`)),
	)
	assert.Equal(t, "none", b.text(`tr[data-url="`+limitedSrv.ID+`"] .rate`))

	// The audit page at 1280 px: it fits, and names who acted.
	res, _ = apptest.CallTool(t, e.MustConnect(limitedURL, "streamable"), "list_all_zohobigin_current_organization", map[string]any{})
	require.False(t, res.IsError)
	e.App.Flush()
	b.run("the audit page fits 1280 px",
		chromedp.Navigate(base+"audit"),
		chromedp.WaitVisible(chromedp.CSS("#audit")),
	)
	fit, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => {
		const main = document.querySelector("main"), cs = getComputedStyle(main);
		const room = main.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
		const table = document.getElementById("audit").getBoundingClientRect().width;
		const page = document.documentElement;
		return (table <= room + 0.5 && page.scrollWidth <= page.clientWidth) ? "fits" :
			"table " + table + " px in " + room + " px; page " + page.scrollWidth + " px in " + page.clientWidth + " px";
	})()`))
	require.NoError(t, err)
	assert.Equal(t, "fits", fit)
	actors, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#audit tr.entry td.actor")).map(td => td.textContent + "|" + td.title)`))
	require.NoError(t, err)
	assert.Contains(t, actors, adminTok.Name+"|api_token:"+adminTok.ID, "an API token by its name, its id in the title")
	assert.Contains(t, actors, "MCP URL limited bot|mcp:"+limitedSrv.ID, "a URL's tool call by the URL's name")
	for _, a := range actors {
		assert.False(t, strings.HasPrefix(a, "api_token:"), "no API token shown as its id: %s", a)
	}
	urls, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#audit tr.entry td.url a")).map(a => a.textContent + "|" + a.title)`))
	require.NoError(t, err)
	assert.Contains(t, urls, "limited bot|"+limitedSrv.ID, "the MCP URL column names the URL too")

	// Connecting the same org again makes a second account, and says so.
	b.run("connect the org again with another link",
		chromedp.Navigate(base+"connect-links"),
		chromedp.WaitVisible(chromedp.CSS("#link-form")),
		chromedp.SendKeys(chromedp.CSS("#link-name"), "Acme again"),
		chromedp.SetValue(chromedp.CSS("#datacenter"), "us"),
		chromedp.Click(chromedp.CSS("#create-link")),
		chromedp.WaitVisible(chromedp.CSS("#link-url")),
	)
	b.run("the connect page says the org was already connected",
		chromedp.Navigate(b.text("#link-url")),
		chromedp.WaitVisible(chromedp.CSS("#same-org")),
	)
	assert.Contains(t, b.text("main"), "Org us is now connected")
	assert.Contains(t, b.text("#same-org"), "already connected")
	assert.Contains(t, b.text("#same-org"), acc.ID)
	assert.Contains(t, b.text("#same-org"), "reconnect link")
	accounts, _, err = e.Svc.Accounts(context.Background(), "", 10)
	require.NoError(t, err)
	require.Len(t, accounts, 2, "a second account all the same")
	newer := accounts[1]
	require.NotEqual(t, acc.ID, newer.ID)
	b.run("both accounts are flagged in the list",
		chromedp.Navigate(base+"accounts"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-account="`+newer.ID+`"]`)),
	)
	assert.Equal(t, "org connected more than once", b.text(`tr[data-account="`+acc.ID+`"] .same-org`))
	assert.Contains(t, b.text(`tr[data-account="`+newer.ID+`"]`), "also Acme")
	assert.Contains(t, b.text(`tr[data-account="`+acc.ID+`"]`), "also Acme again")
	b.run("the new account offers to reconnect the existing one instead",
		chromedp.Navigate(base+"accounts/"+newer.ID),
		chromedp.WaitVisible(chromedp.CSS("#same-org")),
		chromedp.Click(chromedp.CSS(`#same-org button[data-account="`+acc.ID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#created-link")),
	)
	assert.Contains(t, b.text("#created-link h2"), "Reconnect link for Acme")
	links, _, err := e.Svc.ConnectLinks(context.Background(), "", 10)
	require.NoError(t, err)
	require.NotEmpty(t, links)
	assert.Equal(t, acc.ID, links[len(links)-1].ReconnectAccountID, "a reconnect link for the existing account")
	b.run("the existing account's page offers the same",
		chromedp.Navigate(base+"accounts/"+acc.ID),
		chromedp.WaitVisible(chromedp.CSS("#same-org")),
	)
	assert.Contains(t, b.text("#same-org"), "Acme again (newer)")
	assert.Contains(t, b.text("#same-org"), "This is the oldest")
	assert.Equal(t, "Make a reconnect link for Acme", b.text(`#same-org button[data-account="`+acc.ID+`"]`))

	b.run("sign out",
		chromedp.Navigate(base+"accounts"),
		chromedp.Click(chromedp.CSS("#signout")),
		chromedp.WaitVisible(chromedp.CSS("#signin-form")),
		chromedp.Navigate(base+"api-tokens"),
		chromedp.WaitVisible(chromedp.CSS("#signin-form")),
	)

	b.run("sign in again, then idle",
		chromedp.SendKeys(chromedp.CSS("#token"), apiToken),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#signout")),
	)
	e.Clock.Advance(ui.IdleTimeout)
	b.run("after 12 idle hours the session is over",
		chromedp.Navigate(base+"accounts"),
		chromedp.WaitVisible(chromedp.CSS("#signin-form")),
	)
}
