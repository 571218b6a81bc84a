package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/internal/oauth"
)

// TestDemoPrintsAWorkingURL runs `bigin-mcp demo` as the README's quick
// start does and uses what it prints: the MCP URL answers real tool calls
// and the Claude Desktop block is valid JSON naming mcp-remote and the URL.
func TestDemoPrintsAWorkingURL(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, logs := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	// The address comes from BIGIN_MCP_ADDR, as for serve.
	go func() {
		done <- run(ctx, []string{"demo"}, envOf(map[string]string{"BIGIN_MCP_ADDR": "127.0.0.1:0"}), out, logs)
	}()

	var mcpURL string
	require.Eventually(t, func() bool {
		m := demoURLRE.FindStringSubmatch(out.String())
		if m != nil {
			mcpURL = m[2]
		}
		return m != nil
	}, 15*time.Second, 20*time.Millisecond, "demo prints the MCP URL")
	assert.Regexp(t, `Admin API token:\s+bmcp_api_`, out.String())

	// The web UI's address is printed, and nothing is signed in by itself:
	// a fresh browser lands on the sign-in page.
	uiURL := regexp.MustCompile(`Web UI:\s+(http://\S+/ui/)`).FindStringSubmatch(out.String())
	require.NotNil(t, uiURL, "demo prints the web UI's address")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	uiResp, err := noRedirect.Get(uiURL[1] + "accounts")
	require.NoError(t, err)
	uiResp.Body.Close()
	assert.Equal(t, http.StatusSeeOther, uiResp.StatusCode)
	assert.Equal(t, "/ui/signin", uiResp.Header.Get("Location"))

	text := out.String()
	start := regexp.MustCompile(`(?s)\{\s*"mcpServers".*?\n\}`).FindString(text)
	var block struct {
		MCPServers map[string]struct {
			Command string   `json:"command"`
			Args    []string `json:"args"`
		} `json:"mcpServers"`
	}
	require.NoError(t, json.Unmarshal([]byte(start), &block), start)
	assert.Equal(t, "npx", block.MCPServers["bigin"].Command)
	assert.Equal(t, []string{"-y", "mcp-remote", mcpURL}, block.MCPServers["bigin"].Args)

	client := sdk.NewClient(&sdk.Implementation{Name: "demo-test", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: mcpURL, MaxRetries: -1}, nil)
	require.NoError(t, err)
	tools, err := cs.ListTools(ctx, nil)
	require.NoError(t, err)
	assert.Len(t, tools.Tools, len(apptest.AllTools()))
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "list_all_zohobigin_users", Arguments: map[string]any{"limit": 5}})
	require.NoError(t, err)
	require.False(t, res.IsError)
	assert.Len(t, res.StructuredContent.(map[string]any)["result"], 5)
	cs.Close()

	// The connect link it prints, opened as it is, leads to the sandbox's
	// sign-in page, and choosing its default (the org's administrator)
	// completes the whole OAuth flow against the sandbox, as a customer's
	// browser would: no region to pick, and no hop leaves loopback for a
	// real Zoho.
	linkRE := regexp.MustCompile(`(http://\S+/connect/bmcp_link_\S+)`)
	require.Eventually(t, func() bool { return linkRE.MatchString(out.String()) }, 5*time.Second, 20*time.Millisecond)
	b := &demoBrowser{t: t}
	status, page := b.open(linkRE.FindStringSubmatch(out.String())[1], "")
	require.NotEmpty(t, b.hops, "the link redirects to the sandbox's sign-in")
	for _, h := range b.hops {
		assert.True(t, strings.HasPrefix(h, "127.0.0.1:"), "hop to %s", h)
	}
	assert.Equal(t, 1, b.signInPages, "the sandbox's sign-in page is shown")
	assert.Equal(t, http.StatusOK, status, page)
	assert.Contains(t, page, "now connected")

	// The MCP URL is printed last, after the connect link and the
	// credentials, and requests are logged as serve logs them.
	text = out.String()
	assert.Less(t, strings.Index(text, "/connect/bmcp_link_"), strings.Index(text, "Press Ctrl-C to stop"))
	assert.Less(t, strings.Index(text, "refresh_token:"), strings.Index(text, "Press Ctrl-C to stop"))
	lines := strings.Split(strings.TrimSpace(text), "\n")
	assert.Regexp(t, `^\s*MCP URL \(all \d+ tools\):\s+`+regexp.QuoteMeta(mcpURL)+`$`, lines[len(lines)-1], "the URL is the last line")
	assert.Contains(t, logs.String(), `"msg":"http request"`)
	assert.Contains(t, logs.String(), `"route":"/mcp/{token}"`)

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err, "Ctrl-C stops the demo cleanly")
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop")
	}
}

// demoURLRE finds the MCP URL line of the demo's output: the tool count
// and the URL.
var demoURLRE = regexp.MustCompile(`MCP URL \(all (\d+) tools\):\s+(http://\S+/mcp/bmcp_\S+)`)

// demoRun is a demo running in the test.
type demoRun struct {
	out, logs *syncBuffer
	done      chan error
	cancel    context.CancelFunc
}

// startDemo runs `bigin-mcp demo` with args (and --addr 127.0.0.1:0)
// until stop is called or the test ends.
func startDemo(t *testing.T, args ...string) *demoRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &demoRun{out: &syncBuffer{}, logs: &syncBuffer{}, done: make(chan error, 1), cancel: cancel}
	go func() {
		d.done <- run(ctx, append([]string{"demo", "--addr", "127.0.0.1:0"}, args...), envOf(nil), d.out, d.logs)
	}()
	t.Cleanup(func() { d.stop(t) })
	return d
}

// printed waits for the demo's quick start and returns its output.
func (d *demoRun) printed(t *testing.T) string {
	t.Helper()
	require.Eventually(t, func() bool { return demoURLRE.MatchString(d.out.String()) }, 15*time.Second, 10*time.Millisecond,
		"the demo prints its MCP URL; stderr:\n%s", d.logs)
	return d.out.String()
}

// stop stops the demo as Ctrl-C does and returns its error.
func (d *demoRun) stop(t *testing.T) error {
	t.Helper()
	d.cancel()
	select {
	case err := <-d.done:
		d.done <- err // for a later stop
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not stop")
		return nil
	}
}

// field returns the value printed after label on a line of its own.
func field(t *testing.T, out, label string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(label) + `\s+(\S+)`).FindStringSubmatch(out)
	require.NotNil(t, m, "the demo prints %q:\n%s", label, out)
	return m[1]
}

// demoBrowser is a person's browser in the demo's flows: it follows
// redirects, and on the sandbox's sign-in page picks who signs in (the
// person whose line holds the words given, or the page's default) and
// signs in. It stops on any other page.
type demoBrowser struct {
	t           *testing.T
	hops        []string // the hosts it was redirected to
	signInPages int
}

var (
	signInAction = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	signInHidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	signInChoice = regexp.MustCompile(`<label><input type="radio" name="sandbox_user" value="([^"]+)"( checked)?>(.*?)</label>`)
)

func (b *demoBrowser) open(u, who string) (int, string) {
	b.t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(b.t, err)
	for range 20 {
		resp, err := hc.Do(req)
		require.NoError(b.t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
			next, err := req.URL.Parse(loc)
			require.NoError(b.t, err)
			b.hops = append(b.hops, next.Host)
			req, err = http.NewRequest(http.MethodGet, next.String(), nil)
			require.NoError(b.t, err)
			continue
		}
		page := string(body)
		action := signInAction.FindStringSubmatch(page)
		if resp.StatusCode != http.StatusOK || action == nil || !signInChoice.MatchString(page) {
			return resp.StatusCode, page
		}
		b.signInPages++
		form := url.Values{"decision": {"accept"}}
		for _, h := range signInHidden.FindAllStringSubmatch(page, -1) {
			form.Add(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
		}
		picked := 0
		for _, c := range signInChoice.FindAllStringSubmatch(page, -1) {
			if (who == "" && c[2] != "") || (who != "" && strings.Contains(html.UnescapeString(c[3]), who)) {
				form.Set("sandbox_user", c[1])
				picked++
			}
		}
		require.Equal(b.t, 1, picked, "the sign-in page offers one person for %q:\n%s", who, page)
		target, err := req.URL.Parse(html.UnescapeString(action[1]))
		require.NoError(b.t, err)
		req, err = http.NewRequest(http.MethodPost, target.String(), strings.NewReader(form.Encode()))
		require.NoError(b.t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	b.t.Fatal("the flow took more than 20 steps")
	return 0, ""
}

// TestDemoOAuthURLShowsWhoTheFrontDoorAdmits: the demo prints an oauth
// URL for administrators, and the sandbox's sign-in page lets the person
// choose who signs in: the org's administrator reaches the consent page;
// a standard user, a deactivated user and a user of another org are each
// refused with the reason.
func TestDemoOAuthURLShowsWhoTheFrontDoorAdmits(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	out := d.printed(t)
	base := strings.TrimSuffix(field(t, out, "Admin API base:"), "/admin/")
	m := regexp.MustCompile(`(?s)OAuth front door:.*?\n\n  (http://\S+/mcp/bmcp_\S+)\n`).FindStringSubmatch(out)
	require.NotNil(t, m, "the demo prints the OAuth URL:\n%s", out)
	oauthURL := m[1]

	const redirect = "http://127.0.0.1:5000/cb"
	reg, err := http.Post(base+oauth.RegisterPath, "application/json",
		strings.NewReader(`{"client_name":"demo test","redirect_uris":["`+redirect+`"]}`))
	require.NoError(t, err)
	var client struct {
		ClientID string `json:"client_id"`
	}
	require.NoError(t, json.NewDecoder(reg.Body).Decode(&client))
	reg.Body.Close()
	require.Equal(t, http.StatusCreated, reg.StatusCode)
	sum := sha256.Sum256([]byte(strings.Repeat("verifier", 6)))
	authorize := base + oauth.AuthorizePath + "?" + url.Values{
		"client_id": {client.ClientID}, "redirect_uri": {redirect}, "response_type": {"code"}, "state": {"s"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "resource": {oauthURL},
	}.Encode()

	tests := []struct {
		who    string // words of the person's line on the sign-in page
		status int
		want   string
	}{
		{"Administrator of Zylker Traders", http.StatusOK, "Allow access to Zoho Bigin?"},
		{"Standard profile in Zylker Traders, active", http.StatusForbidden, "can only be approved by users with the Bigin profile Administrator"},
		{"deactivated", http.StatusForbidden, "is not active"},
		{"another organization", http.StatusForbidden, "who is not a user of the Bigin organization"},
	}
	for _, tt := range tests {
		b := &demoBrowser{t: t}
		status, page := b.open(authorize, tt.who)
		assert.Equal(t, 1, b.signInPages, "%s: the sandbox's sign-in page is shown", tt.who)
		assert.Equal(t, tt.status, status, "%s: %s", tt.who, page)
		assert.Contains(t, html.UnescapeString(page), tt.want, tt.who)
	}
}

// TestDemoKeepsItsDataDirectory: a second demo on the data directory of
// the first uses what the first made: the same admin token (shown as
// kept), the same MCP URL, which answers tool calls, and every account
// (the demo's own and one an admin added), re-pointed at the new run's
// sandbox, which knows nothing of the first's.
func TestDemoKeepsItsDataDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := startDemo(t, "--data-dir", dir)
	out := first.printed(t)
	token := field(t, out, "Admin API token:")
	base := strings.TrimSuffix(field(t, out, "Admin API base:"), "/admin/")
	firstURL := demoURLRE.FindStringSubmatch(out)[2]
	assert.NotContains(t, out, "kept from the first run")

	// An admin adds an account of their own, with the printed sandbox
	// credentials, and a URL on it.
	admin := func(base, method, path, body string, want int) map[string]any {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		require.Equal(t, want, resp.StatusCode, "%s %s: %v", method, path, m)
		return m
	}
	acme := admin(base, "POST", "/admin/integrated-accounts",
		`{"name":"Acme","datacenter":"us","refresh_token":"`+field(t, out, "refresh_token:")+`"}`, http.StatusCreated)
	acmeURL := admin(base, "POST", "/admin/integrated-accounts/"+acme["id"].(string)+"/mcp", `{"name":"acme"}`, http.StatusCreated)["url"].(string)
	require.NoError(t, first.stop(t))

	second := startDemo(t, "--data-dir", dir)
	out = second.printed(t)
	assert.Regexp(t, `Admin API token:\s+`+regexp.QuoteMeta(token)+`\s+\(kept from the first run\)`, out)
	assert.Contains(t, out, "2 integrated account(s), re-pointed at this run's sandbox")
	secondURL := demoURLRE.FindStringSubmatch(out)[2]
	pathOf := func(u string) string { return u[strings.Index(u, "/mcp/"):] }
	assert.Equal(t, pathOf(firstURL), pathOf(secondURL), "the same MCP URL")
	base = strings.TrimSuffix(field(t, out, "Admin API base:"), "/admin/")

	for _, u := range []string{secondURL, base + pathOf(acmeURL)} {
		cs, err := sdk.NewClient(&sdk.Implementation{Name: "demo-test", Version: "1"}, nil).
			Connect(context.Background(), &sdk.StreamableClientTransport{Endpoint: u, MaxRetries: -1}, nil)
		require.NoError(t, err)
		res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: "list_all_zohobigin_me", Arguments: map[string]any{}})
		require.NoError(t, err)
		assert.False(t, res.IsError, "a kept URL answers against the new sandbox: %v", res.Content)
		cs.Close()
	}
	assert.Equal(t, "active", admin(base, "GET", "/admin/integrated-accounts/"+acme["id"].(string), "", http.StatusOK)["status"])
}

// TestDemoReportsSetupErrorsAtOnce: a demo that cannot set itself up on
// a kept data directory stops at once with an error saying why and what
// to do, rather than listen in silence until Ctrl-C.
func TestDemoReportsSetupErrorsAtOnce(t *testing.T) {
	t.Parallel()
	stopsWith := func(t *testing.T, d *demoRun, want string) {
		t.Helper()
		select {
		case err := <-d.done:
			d.done <- err
			require.Error(t, err)
			assert.Contains(t, err.Error(), want)
			assert.Contains(t, err.Error(), "--data-dir")
		case <-time.After(15 * time.Second):
			t.Fatalf("the demo still runs after its setup failed; it printed:\n%s", d.out)
		}
		assert.NotRegexp(t, demoURLRE, d.out.String(), "no URL is printed")
	}

	t.Run("data without a kept admin token", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		first := startDemo(t, "--data-dir", dir)
		first.printed(t)
		require.NoError(t, first.stop(t))
		require.NoError(t, os.Remove(filepath.Join(dir, demoStateFile)), "as a data directory of serve, or of an older demo")
		stopsWith(t, startDemo(t, "--data-dir", dir), "already holds data")
	})

	t.Run("a kept admin token that was deleted", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		first := startDemo(t, "--data-dir", dir)
		out := first.printed(t)
		base := strings.TrimSuffix(field(t, out, "Admin API base:"), "/admin/")
		call := func(token, method, path, body string) map[string]any {
			req, err := http.NewRequest(method, base+path, strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, 2, resp.StatusCode/100, "%s %s: %s", method, path, resp.Status)
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			return m
		}
		demoToken := field(t, out, "Admin API token:")
		other := call(demoToken, "POST", "/admin/api-tokens", `{"name":"another admin"}`)
		for _, tok := range call(demoToken, "GET", "/admin/api-tokens", "")["result"].([]any) {
			if id := tok.(map[string]any)["id"].(string); id != other["id"] {
				call(other["token"].(string), "DELETE", "/admin/api-tokens/"+id, "")
			}
		}
		require.NoError(t, first.stop(t))
		stopsWith(t, startDemo(t, "--data-dir", dir), "no longer works")
	})
}

// TestDemoStateIsOwnerOnly: demo.json holds the demo server's admin
// token, so it is readable by its owner only, even when a file of that
// name was already there with wider permissions (copied in, or written
// by an older demo): writing it tightens them.
func TestDemoStateIsOwnerOnly(t *testing.T) {
	t.Parallel()
	for _, existing := range []os.FileMode{0, 0o644, 0o666} {
		t.Run(existing.String(), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, demoStateFile)
			if existing != 0 {
				require.NoError(t, os.WriteFile(path, []byte(`{"admin_token":"old"}`), existing))
				require.NoError(t, os.Chmod(path, existing)) // whatever the umask
			}
			require.NoError(t, demoState{AdminToken: "bmcp_api_new"}.save(dir))
			fi, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
			st, err := loadDemoState(dir)
			require.NoError(t, err)
			assert.Equal(t, "bmcp_api_new", st.AdminToken)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Len(t, entries, 1, "no temporary file is left behind")
		})
	}
}

// TestDemoSandboxSignsInOnlyForTheServer: the demo's sandbox Zoho has
// the demo server's callback as its client's one redirect URI, as a real
// Zoho client has, so its sign-in sends no one (and no code) to another
// address: the connect link's sign-in is shown, and the same sign-in
// naming another redirect URI is refused.
func TestDemoSandboxSignsInOnlyForTheServer(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	out := d.printed(t)
	link := regexp.MustCompile(`(http://\S+/connect/bmcp_link_\S+)`).FindStringSubmatch(out)
	require.NotNil(t, link, "the demo prints a connect link:\n%s", out)
	base := strings.TrimSuffix(field(t, out, "Admin API base:"), "/admin/")

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) (int, string) {
		resp, err := noRedirect.Get(u)
		require.NoError(t, err)
		defer resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	status, loc := get(link[1])
	require.Equal(t, http.StatusFound, status)
	signIn, err := url.Parse(loc)
	require.NoError(t, err)
	require.Equal(t, "/oauth/v2/auth", signIn.Path, "the link sends the browser to the sandbox's sign-in")
	q := signIn.Query()
	assert.Equal(t, base+"/oauth/zoho/callback", q.Get("redirect_uri"))
	status, _ = get(signIn.String())
	assert.Equal(t, http.StatusOK, status, "the sign-in for the server's own callback is shown")

	for _, other := range []string{"https://attacker.example/cb", base + "/elsewhere", strings.Replace(base, "127.0.0.1", "localhost", 1) + "/oauth/zoho/callback"} {
		q.Set("redirect_uri", other)
		signIn.RawQuery = q.Encode()
		status, loc = get(signIn.String())
		assert.Equal(t, http.StatusBadRequest, status, "redirect_uri %s: the sandbox refuses it (Location %q)", other, loc)
	}
}

// TestDemoRecordExamplesWork runs the record examples the demo prints
// (a contact read by id, a COQL query over the deals) as printed, with
// bash and curl: each answers its tool's result from the sandbox's data.
func TestDemoRecordExamplesWork(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	require.NoError(t, err, "the printed examples are shell commands; this test needs bash on PATH")
	_, err = exec.LookPath("curl")
	require.NoError(t, err, "the printed examples call curl; install it (apt-get install curl) to run this test")

	out := startDemo(t).printed(t)
	section := regexp.MustCompile(`(?s)\nRead a contact, and query the biggest deals with COQL \(the record tools\):\n(.*?)\n\n`).FindStringSubmatch(out)
	require.NotNil(t, section, "the demo prints the record examples:\n%s", out)
	commands := regexp.MustCompile(`(?m)^  curl .*\\\n.*\\\n.*$`).FindAllString(section[1], -1)
	require.Len(t, commands, 2, "a record read and a COQL query:\n%s", section[1])

	call := func(command string) (tool string, result map[string]any) {
		t.Helper()
		tool = regexp.MustCompile(`"name":"(\w+)"`).FindStringSubmatch(command)[1]
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		raw, err := exec.CommandContext(ctx, bash, "--noprofile", "--norc", "-c", command).Output()
		require.NoError(t, err, "%s", command)
		var answer struct {
			Result struct {
				IsError           bool           `json:"isError"`
				StructuredContent map[string]any `json:"structuredContent"`
			} `json:"result"`
		}
		require.NoError(t, json.Unmarshal(raw, &answer), "%s answers JSON-RPC: %s", tool, raw)
		require.False(t, answer.Result.IsError, "%s: %s", tool, raw)
		return tool, answer.Result.StructuredContent
	}

	tool, got := call(commands[0])
	assert.Equal(t, "get_single_zohobigin_record_by_id", tool)
	contact, ok := got["result"].(map[string]any)
	require.True(t, ok, "a get answers {result: {record}}: %v", got)
	assert.Regexp(t, `^\d+$`, contact["id"])
	assert.NotEmpty(t, contact["Last_Name"])
	for k := range contact {
		assert.Contains(t, []string{"id", "First_Name", "Last_Name", "Email", "Account_Name"}, k, "only the fields asked for")
	}

	tool, got = call(commands[1])
	assert.Equal(t, "query_zohobigin_records", tool)
	rows, ok := got["result"].([]any)
	require.True(t, ok, "a query answers {result: [rows]}: %v", got)
	require.Len(t, rows, 5, "the query's own LIMIT")
	assert.Nil(t, got["next_cursor"])
	last := 0.0
	for i, r := range rows {
		row := r.(map[string]any)
		amount := row["Amount"].(float64)
		assert.Greater(t, amount, 50000.0)
		if i > 0 {
			assert.LessOrEqual(t, amount, last, "biggest first")
		}
		last = amount
		assert.NotEmpty(t, row["Deal_Name"])
		assert.NotEmpty(t, row["Stage"])
	}
}
