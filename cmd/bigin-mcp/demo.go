package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

// demo runs the real server against an embedded sandbox Bigin:
// it connects an account through the admin API, exactly as an admin would,
// mints an MCP URL, and prints how to use it.
func demo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bigin-mcp demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envOr(getenv, "BIGIN_MCP_ADDR", "127.0.0.1:8080"), "listen address of the MCP server ($BIGIN_MCP_ADDR)")
	dataDir := fs.String("data-dir", "", "data directory (default: a fresh temporary directory, removed on exit)")
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

	// The sandbox Bigin: Zoho's accounts server and API on one loopback port.
	sb := sandbox.New(sandbox.Options{Location: "us"})
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
		"BIGIN_MCP_DATACENTERS":        fmt.Sprintf(`{"us":{"accounts_url":%q,"api_url":%q}}`, sandboxURL, sandboxURL),
		"BIGIN_MCP_ZOHO_CLIENT_ID":     sb.ClientID(),
		"BIGIN_MCP_ZOHO_CLIENT_SECRET": sb.ClientSecret(),
		"BIGIN_MCP_ADMIN_TOKEN":        "",
		// The demo serves plain HTTP on its own data; HTTPS settings of
		// the environment are for serve.
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

	setup := make(chan error, 1)
	err = serve(ctx, cfg, stderr, func(listen, adminToken string) {
		go func() { setup <- demoSetup(ctx, listen, cfg, sb, adminToken, stdout) }()
	})
	select {
	case serr := <-setup:
		if serr != nil && err == nil {
			err = serr
		}
	default:
	}
	return err
}

// demoSetup connects the sandbox account and mints a URL over the admin
// API, then prints the quick start.
func demoSetup(ctx context.Context, listen string, cfg *config, sb *sandbox.Sandbox, adminToken string, out io.Writer) error {
	base := "http://" + listen
	api := func(method, path string, body any, into any) error {
		b, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(b))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("%s %s: %s %s", method, path, resp.Status, strings.TrimSpace(string(data)))
		}
		return json.Unmarshal(data, into)
	}
	var account struct {
		ID  string `json:"id"`
		Org struct {
			Name string `json:"name"`
		} `json:"org"`
	}
	if err := api("POST", "/admin/integrated-accounts", map[string]any{
		"name": "Sandbox Bigin", "datacenter": "us", "refresh_token": sb.IssueRefreshToken(bigin.Scopes()...),
	}, &account); err != nil {
		return fmt.Errorf("demo: connect the sandbox account: %w", err)
	}
	var server struct {
		URL string `json:"url"`
	}
	if err := api("POST", "/admin/integrated-accounts/"+account.ID+"/mcp", map[string]any{"name": "demo", "config": map[string]any{}}, &server); err != nil {
		return fmt.Errorf("demo: mint an MCP URL: %w", err)
	}
	var link struct {
		URL string `json:"url"`
	}
	// The link's region is fixed to the sandbox's datacenter: the picker
	// would offer Zoho's real regions, which know nothing of the sandbox.
	if err := api("POST", "/admin/connect-links", map[string]any{"name": "Demo customer", "datacenter": "us", "expires_in_seconds": 86400}, &link); err != nil {
		return fmt.Errorf("demo: mint a connect link: %w", err)
	}
	printSandboxCredentials(out, listen, adminToken, sb)
	printQuickStart(out, listen, adminToken, account.ID, account.Org.Name, server.URL, link.URL)
	return nil
}

func printQuickStart(out io.Writer, listen string, adminToken, accountID, org, url, connectLink string) {
	type stdioServer struct {
		Command string   `json:"command"`
		Args    []string `json:"args"`
	}
	claude, _ := json.MarshalIndent(map[string]any{
		"mcpServers": map[string]stdioServer{"bigin": {Command: "npx", Args: []string{"-y", "mcp-remote", url}}},
	}, "", "  ")
	fmt.Fprintf(out, `
bigin-mcp demo is running against a sandbox Bigin (a fake Zoho with org %q).

  MCP URL (every tool):      %s
  Admin API token:            %s
  Integrated account id:      %s
  Admin API base:             http://%s/admin/
  Web UI:                     http://%s/ui/ (sign in with the admin API token)

Claude Desktop: add this to claude_desktop_config.json, then restart Claude
(Settings > Developer > Edit Config). mcp-remote bridges stdio to the URL:

%s

claude.ai and ChatGPT connect from their own servers, so they need a public
HTTPS URL: expose %s with a tunnel or reverse proxy and restart the
demo with --public-url https://<your-host>. Then:
  - claude.ai: Settings > Connectors > Add custom connector, paste the MCP URL.
  - ChatGPT: Settings > Apps & Connectors > Advanced > enable Developer mode,
    then Create connector: name "Bigin", MCP server URL = the MCP URL,
    authentication "No authentication" (the URL itself is the credential).

Try it from a shell:
  curl -s -X POST %s -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' \
    -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'

Connect flow: open this one-time link in a browser to connect a customer's
Bigin the way end customers do (the sandbox plays Zoho's consent screen and
approves at once):

  %s

Requests are logged to stderr as serve logs them. Press Ctrl-C to stop.
`, org, url, adminToken, accountID, listen, listen, claude, listen, url, connectLink)
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
