package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
	"github.com/bigin-mcp/bigin-mcp/internal/connect"
)

// demo runs the real server against an embedded sandbox Bigin:
// it connects an account through the admin API, exactly as an admin would,
// mints MCP URLs, and prints how to use them. With --data-dir it keeps
// what it made, and a later run on the same directory uses it again.
func demo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bigin-mcp demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envOr(getenv, "BIGIN_MCP_ADDR", "127.0.0.1:8080"), "listen address of the MCP server ($BIGIN_MCP_ADDR)")
	dataDir := fs.String("data-dir", "", "data directory, kept: a later run on it uses the same admin token, account and URLs (default: a fresh temporary directory, removed on exit)")
	publicURL := fs.String("public-url", "", "public base URL, e.g. an HTTPS tunnel to --addr (default http://<addr>)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir := *dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "bigin-mcp-demo-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	state, err := loadDemoState(dir)
	if err != nil {
		return err
	}

	// The sandbox Bigin: Zoho's accounts server and API on one loopback
	// port, with a sign-in page on which the person picks who signs in.
	// Like a real Zoho client, its client sends sign-ins to registered
	// redirect URIs only: none until the server listens, then the
	// server's own callback.
	sb := sandbox.New(sandbox.Options{Location: "us", SignInPage: true})
	sb.SetRedirectURIs()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sandboxURL := "http://" + ln.Addr().String()
	sb.SetBaseURL(sandboxURL)
	sandboxSrv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	go sandboxSrv.Serve(ln)
	defer sandboxSrv.Close()

	env := map[string]string{
		"BIGIN_MCP_ADDR":               *addr,
		"BIGIN_MCP_DATA_DIR":           dir,
		"BIGIN_MCP_PUBLIC_URL":         *publicURL,
		"BIGIN_MCP_DATACENTERS":        fmt.Sprintf(`{"us":{"accounts_url":%q,"api_url":%q,"web_url":%q}}`, sandboxURL, sandboxURL, sandboxURL),
		"BIGIN_MCP_ZOHO_CLIENT_ID":     sb.ClientID(),
		"BIGIN_MCP_ZOHO_CLIENT_SECRET": sb.ClientSecret(),
		"BIGIN_MCP_ADMIN_TOKEN":        "",
		// The demo runs on its own data directory (bbolt, with its key
		// kept beside it) and serves plain HTTP; store, key and HTTPS
		// settings of the environment are for serve.
		"BIGIN_MCP_STORE":          "",
		"BIGIN_MCP_SECRET_KEY":     "",
		"BIGIN_MCP_TLS_CERT":       "",
		"BIGIN_MCP_TLS_KEY":        "",
		"BIGIN_MCP_ACME_DOMAINS":   "",
		"BIGIN_MCP_ACME_EMAIL":     "",
		"BIGIN_MCP_ACME_DIRECTORY": "",
		"BIGIN_MCP_HTTP_ADDR":      "",
	}
	cfg, err := parseConfig("bigin-mcp demo", nil, func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return getenv(k)
	}, stderr)
	if err != nil {
		return err
	}
	cfg.quietBootstrap = true // demo prints the token in its own summary

	// A setup that fails stops the server at once, and its error is the
	// demo's: the person sees it now, not at Ctrl-C.
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	setup := make(chan error, 1)
	err = serve(sctx, cfg, stderr, func(listen, adminToken string) {
		sb.SetRedirectURIs(cfg.PublicURL + connect.CallbackPath) // final now: serve has bound the address
		go func() {
			err := demoSetup(sctx, listen, cfg, sb, adminToken, dir, state, stdout)
			setup <- err
			if err != nil {
				stop()
			}
		}()
	})
	select {
	case serr := <-setup:
		if serr != nil && ctx.Err() == nil {
			return serr
		}
	default:
	}
	return err
}

// demoStateFile is what a demo keeps in its data directory so that a
// later run can use the same data: the admin token (the store keeps only
// its hash) and the demo's account and URLs. It holds credentials of the
// demo's own server, as the data directory's secret.key does, and is
// written with the same permissions.
const demoStateFile = "demo.json"

// demoState is the content of demoStateFile.
type demoState struct {
	AdminToken string `json:"admin_token"`
	AccountID  string `json:"account_id,omitempty"`
	// The URLs' paths (/mcp/bmcp_…), which hold on any address.
	MCPID        string `json:"mcp_id,omitempty"`
	MCPPath      string `json:"mcp_path,omitempty"`
	OAuthMCPID   string `json:"oauth_mcp_id,omitempty"`
	OAuthMCPPath string `json:"oauth_mcp_path,omitempty"`
}

// loadDemoState reads the state a previous run kept in dir; none is the
// zero state.
func loadDemoState(dir string) (demoState, error) {
	var st demoState
	path := filepath.Join(dir, demoStateFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("demo: read what the last run kept: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("demo: %s is not what a demo writes (%v): remove it, or give the demo a new --data-dir", path, err)
	}
	return st, nil
}

// save writes the state to dir, readable by its owner only: through a
// new file (0600) renamed over the old, so a file that was already there
// with wider permissions does not keep them, and a crash midway leaves
// the old state whole.
func (st demoState) save(dir string) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := writeOwnerOnly(filepath.Join(dir, demoStateFile), append(b, '\n')); err != nil {
		return fmt.Errorf("demo: keep the admin token for the next run: %w", err)
	}
	return nil
}

// writeOwnerOnly replaces the file at path with data, mode 0600.
func writeOwnerOnly(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*") // created 0600
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // once renamed, there is nothing left to remove
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// demoAPI calls the demo server's admin API.
type demoAPI struct {
	ctx   context.Context
	base  string
	token string
}

// call sends body (nil: none) and decodes a 2xx answer into into (nil:
// discarded); another status is an error with the answer's words.
func (a demoAPI) call(method, path string, body, into any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(a.ctx, method, a.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %s %s", method, path, resp.Status, strings.TrimSpace(string(data)))
	}
	if into == nil {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, json.Unmarshal(data, into)
}

// demoAccount is an integrated account as the admin API shows it.
type demoAccount struct {
	ID  string `json:"id"`
	Org struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"org"`
}

// demoURL is an MCP URL as the admin API shows it (url only when minted).
type demoURL struct {
	ID    string   `json:"id"`
	URL   string   `json:"url"`
	Tools []string `json:"tools"`
}

// demoSetup readies the demo's data over the admin API, as an admin
// would: on a new data directory it connects the sandbox account and
// mints the URLs; on one a previous run kept, it re-points the kept
// accounts at this run's sandbox (which remembers nothing between runs)
// and uses the kept URLs. Then it prints the quick start.
func demoSetup(ctx context.Context, listen string, cfg *config, sb *sandbox.Sandbox, adminToken, dir string, st demoState, out io.Writer) error {
	kept := adminToken == ""
	switch {
	case !kept:
		// A new store: whatever an old demo.json said is gone with it.
		st = demoState{AdminToken: adminToken}
		if err := st.save(dir); err != nil {
			return err
		}
	case st.AdminToken == "":
		return fmt.Errorf("demo: %s already holds data (from serve, or from an older demo) and no admin API token the demo kept, "+
			"so it cannot set itself up: give the demo a new --data-dir, or run serve on that directory", dir)
	}
	api := demoAPI{ctx: ctx, base: "http://" + listen, token: st.AdminToken}

	var account demoAccount
	repointed := 0
	if kept {
		var err error
		if repointed, account, err = repointAccounts(api, sb, st.AccountID); err != nil {
			return err
		}
	}
	if account.ID == "" {
		if _, err := api.call("POST", "/admin/integrated-accounts", map[string]any{
			"name": "Sandbox Bigin", "datacenter": "us", "refresh_token": sb.IssueRefreshToken(bigin.Scopes()...),
		}, &account); err != nil {
			return fmt.Errorf("demo: connect the sandbox account: %w", err)
		}
		st.AccountID, st.MCPID, st.OAuthMCPID = account.ID, "", ""
	}
	full, err := keptOrMinted(api, account.ID, &st.MCPID, &st.MCPPath, map[string]any{"name": "demo", "config": map[string]any{}})
	if err != nil {
		return err
	}
	if _, err := keptOrMinted(api, account.ID, &st.OAuthMCPID, &st.OAuthMCPPath, map[string]any{
		"name": "demo (OAuth, administrators)", "config": map[string]any{"auth": "oauth", "oauth_profiles": []string{"Administrator"}},
	}); err != nil {
		return err
	}
	if err := st.save(dir); err != nil {
		return err
	}
	var link struct {
		URL string `json:"url"`
	}
	// The link's region is fixed to the sandbox's datacenter: the picker
	// would offer Zoho's real regions, which know nothing of the sandbox.
	if _, err := api.call("POST", "/admin/connect-links", map[string]any{"name": "Demo customer", "datacenter": "us", "expires_in_seconds": 86400}, &link); err != nil {
		return fmt.Errorf("demo: mint a connect link: %w", err)
	}
	q := quickStart{
		listen: listen, public: cfg.PublicURL, adminToken: st.AdminToken, accountID: account.ID, org: sb.OrgName(),
		url: cfg.PublicURL + st.MCPPath, tools: len(full.Tools), oauthURL: cfg.PublicURL + st.OAuthMCPPath, connectLink: link.URL,
		otherOrg: sb.OtherOrg().OrgName(),
	}
	if ids := sb.RecordIDs(bigin.ModuleContacts); len(ids) > 0 {
		q.contactID = ids[0]
	}
	if kept {
		q.keptDir, q.repointed = dir, repointed
	}
	printSandboxCredentials(out, listen, st.AdminToken, sb)
	printQuickStart(out, q)
	return nil
}

// repointAccounts gives every kept account a refresh token of this run's
// sandbox (its org's primary user's; the sandbox's two orgs are the same
// on every run), and returns how many there were and the demo's own
// account (zero when it is gone).
func repointAccounts(api demoAPI, sb *sandbox.Sandbox, ownID string) (int, demoAccount, error) {
	var own demoAccount
	n := 0
	cursor := ""
	for {
		var page struct {
			Result     []demoAccount `json:"result"`
			NextCursor *string       `json:"next_cursor"`
		}
		path := "/admin/integrated-accounts?limit=100"
		if cursor != "" {
			path += "&next_cursor=" + url.QueryEscape(cursor)
		}
		status, err := api.call("GET", path, nil, &page)
		if status == http.StatusUnauthorized {
			return 0, own, fmt.Errorf("demo: the admin API token the first run kept in %s no longer works (deleted through the API or the UI?): "+
				"give the demo a new --data-dir", demoStateFile)
		}
		if err != nil {
			return 0, own, fmt.Errorf("demo: list the kept accounts: %w", err)
		}
		for _, a := range page.Result {
			rt := sb.IssueRefreshToken(bigin.Scopes()...)
			if o := sb.OtherOrg(); a.Org.ID == o.OrgID() {
				rt = o.IssueRefreshToken(bigin.Scopes()...)
			}
			if _, err := api.call("PATCH", "/admin/integrated-accounts/"+a.ID, map[string]any{"refresh_token": rt}, nil); err != nil {
				return 0, own, fmt.Errorf("demo: re-point the kept account %s at this run's sandbox: %w", a.ID, err)
			}
			n++
			if a.ID == ownID {
				own = a
			}
		}
		if page.NextCursor == nil || *page.NextCursor == "" || len(page.Result) == 0 {
			return n, own, nil
		}
		cursor = *page.NextCursor
	}
}

// keptOrMinted returns the kept MCP URL *id of the account when it still
// exists, or mints one with body and records its id and path.
func keptOrMinted(api demoAPI, accountID string, id, path *string, body map[string]any) (demoURL, error) {
	var u demoURL
	if *id != "" && *path != "" {
		status, err := api.call("GET", "/admin/integrated-accounts/"+accountID+"/mcp/"+*id, nil, &u)
		if err == nil {
			return u, nil
		}
		if status != http.StatusNotFound {
			return u, fmt.Errorf("demo: read the kept MCP URL: %w", err)
		}
	}
	if _, err := api.call("POST", "/admin/integrated-accounts/"+accountID+"/mcp", body, &u); err != nil {
		return u, fmt.Errorf("demo: mint an MCP URL: %w", err)
	}
	p, err := url.Parse(u.URL)
	if err != nil {
		return u, fmt.Errorf("demo: the minted URL: %w", err)
	}
	*id, *path = u.ID, p.Path
	return u, nil
}

// quickStart is what printQuickStart prints.
type quickStart struct {
	listen, public, adminToken, accountID, org string
	url                                        string
	tools                                      int
	oauthURL, connectLink, otherOrg            string
	contactID                                  string // a contact of the sandbox, for the record example
	keptDir                                    string // the data directory, when this run uses what an earlier one kept
	repointed                                  int    // kept accounts re-pointed at this run's sandbox
}

// printQuickStart prints how to use the demo, the MCP URL last, where it
// stays in sight until the request log scrolls it away.
func printQuickStart(out io.Writer, q quickStart) {
	type stdioServer struct {
		Command string   `json:"command"`
		Args    []string `json:"args"`
	}
	claude, _ := json.MarshalIndent(map[string]any{
		"mcpServers": map[string]stdioServer{"bigin": {Command: "npx", Args: []string{"-y", "mcp-remote", q.url}}},
	}, "", "  ")
	fmt.Fprintf(out, `
bigin-mcp demo is running against a sandbox Bigin (a fake Zoho with org %q).
`, q.org)
	tokenNote := ""
	if q.keptDir != "" {
		tokenNote = "  (kept from the first run)"
		fmt.Fprintf(out, `
This run uses the data kept in %s: the admin API token, the MCP URLs and
%d integrated account(s), re-pointed at this run's sandbox (the sandbox
remembers nothing between runs, so each got a new refresh token of its
org's primary user).
`, q.keptDir, q.repointed)
	}
	fmt.Fprintf(out, `
Claude Desktop: add this to claude_desktop_config.json, then restart Claude
(Settings > Developer > Edit Config). mcp-remote bridges stdio to the URL:

%[1]s

claude.ai and ChatGPT connect from their own servers, so they need a public
HTTPS URL: expose %[2]s with a tunnel or reverse proxy and restart the
demo with --public-url https://<your-host>. Then:
  - claude.ai: Settings > Connectors > Add custom connector, paste the MCP URL.
  - ChatGPT: Settings > Apps & Connectors > Advanced > enable Developer mode,
    then Create connector: name "Bigin", MCP server URL = the MCP URL,
    authentication "No authentication" (the URL itself is the credential).

Try it from a shell:
  curl -s -X POST %[3]s -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' \
    -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
%[7]s
Connect flow: open this one-time link in a browser to connect a customer's
Bigin the way end customers do; the sandbox's sign-in page stands in for
Zoho's and lets you pick who signs in:

  %[4]s

OAuth front door: this URL makes its AI client sign in (auth "oauth", for
users with the Administrator profile). Add it to a client that signs in
(npx -y mcp-remote <the URL>, or claude.ai through a public URL) and pick
who signs in at the sandbox's sign-in page: its administrator is let in;
a standard user, a deactivated user and a user of another org (%[5]s)
are each refused with the reason.

  %[6]s

Requests are logged to stderr as serve logs them. Press Ctrl-C to stop.

`, claude, q.listen, q.url, q.connectLink, q.otherOrg, q.oauthURL, recordExamples(q.url, q.contactID))
	for _, row := range [][2]string{
		{"Web UI:", q.public + "/ui/ (sign in with the admin API token)"},
		{"Admin API base:", q.public + "/admin/"},
		{"Integrated account id:", q.accountID},
		{"Admin API token:", q.adminToken + tokenNote},
		{fmt.Sprintf("MCP URL (all %d tools):", q.tools), q.url},
	} {
		fmt.Fprintf(out, "  %-28s%s\n", row[0], row[1])
	}
}

// recordExamples are the quick start's record tool calls: one contact of
// the sandbox read by id, and a COQL query over the deals (no quoted
// string in it, so that it fits the shell's single quotes).
func recordExamples(mcpURL, contactID string) string {
	type params struct {
		Name      string `json:"name"`
		Arguments any    `json:"arguments"`
	}
	type request struct {
		JSONRPC string `json:"jsonrpc"`
		ID      int    `json:"id"`
		Method  string `json:"method"`
		Params  params `json:"params"`
	}
	call := func(id int, tool string, args any) string {
		var body bytes.Buffer
		enc := json.NewEncoder(&body)
		enc.SetEscapeHTML(false) // the query's ">" as it is
		_ = enc.Encode(request{JSONRPC: "2.0", ID: id, Method: "tools/call", Params: params{Name: tool, Arguments: args}})
		return fmt.Sprintf(`  curl -s -X POST %s -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' \
    -d '%s'
`, mcpURL, bytes.TrimSpace(body.Bytes()))
	}
	var b strings.Builder
	b.WriteString("\nRead a contact, and query the biggest deals with COQL (the record tools):\n")
	if contactID != "" {
		b.WriteString(call(2, "get_single_zohobigin_record_by_id", struct {
			Module string   `json:"module"`
			ID     string   `json:"id"`
			Fields []string `json:"fields"`
		}{bigin.ModuleContacts, contactID, []string{"First_Name", "Last_Name", "Email", "Account_Name"}}))
	}
	b.WriteString(call(3, "query_zohobigin_records", map[string]string{
		"select_query": "select Deal_Name, Stage, Amount from Pipelines where Amount > 50000 order by Amount desc limit 5"}))
	return b.String()
}

// printSandboxCredentials prints a fresh sandbox refresh token and the
// sandbox's OAuth client, so the README's create-account example can be
// tried as written. They are the sandbox's, worthless anywhere else.
func printSandboxCredentials(out io.Writer, listen, adminToken string, sb *sandbox.Sandbox) {
	refresh := sb.IssueRefreshToken(bigin.Scopes()...)
	body, _ := json.Marshal(map[string]string{
		"name": "Acme", "datacenter": "us", "refresh_token": refresh,
		"client_id": sb.ClientID(), "client_secret": sb.ClientSecret(),
	})
	fmt.Fprintf(out, `
Sandbox credentials for the "Integrated accounts" example of docs/admin-api.md (the
sandbox is datacenter "us" in this demo):

  refresh_token:  %s
  client_id:      %s
  client_secret:  %s

  curl -s -X POST http://%s/admin/integrated-accounts -H "Authorization: Bearer %s" \
    -H 'Content-Type: application/json' \
    -d '%s'
`, refresh, sb.ClientID(), sb.ClientSecret(), listen, adminToken, body)
}
