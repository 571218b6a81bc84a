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
	err := chromedp.Do(ctx, actions...)
	if shot, serr := chromedp.Run(h.ctx, chromedp.FullScreenshot(100)); serr == nil {
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

// html returns the current page's HTML.
func (h *headless) html() string {
	h.t.Helper()
	s, err := chromedp.Run(h.ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	require.NoError(h.t, err)
	return s
}

func (h *headless) text(sel string) string {
	h.t.Helper()
	s, err := chromedp.Run(h.ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	require.NoError(h.t, err, "text of %s", sel)
	return strings.TrimSpace(s)
}

// TestBrowser drives the UI in a real headless Chromium against the real
// stack and the sandbox's Zoho, as an operator would.
func TestBrowser(t *testing.T) {
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

	// The copied URL works with the go-sdk client, without the delete tool.
	cs := e.MustConnect(copied, "streamable")
	names := apptest.ToolNames(t, cs)
	assert.Contains(t, names, "list_all_zohobigin_users")
	assert.NotContains(t, names, "delete_a_zohobigin_user_by_id")
	res, _ := apptest.CallTool(t, cs, "list_all_zohobigin_users", map[string]any{})
	require.False(t, res.IsError)

	servers, _, _, err := e.Svc.MCPServers(context.Background(), acc.ID, "", 10)
	require.NoError(t, err)
	require.Len(t, servers, 1)
	srv := servers[0]
	edit := base + "accounts/" + acc.ID + "/mcp/" + srv.ID
	b.run("change the policy: add write",
		chromedp.Navigate(edit),
		chromedp.WaitVisible(chromedp.CSS("#edit-form")),
		chromedp.Click(chromedp.CSS(`#methods input[value="write"]`)),
		chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS("#notice")),
	)
	assert.Contains(t, b.text("#current-tools"), "delete_a_zohobigin_user_by_id")
	assert.Contains(t, apptest.ToolNames(t, e.MustConnect(copied, "streamable")), "delete_a_zohobigin_user_by_id", "the new policy applies at once")

	// The call shows on the audit page, with its filters.
	e.App.Flush()
	b.run("the call is on the audit page",
		chromedp.Navigate(base+"audit"),
		chromedp.WaitVisible(chromedp.CSS("#audit-filter")),
		chromedp.SetValue(chromedp.CSS(`select[name="tool"]`), "list_all_zohobigin_users"),
		chromedp.SetValue(chromedp.CSS(`input[name="outcome"]`), "ok"),
		chromedp.Click(chromedp.CSS("#filter")),
		chromedp.WaitVisible(chromedp.CSS("#audit")),
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
