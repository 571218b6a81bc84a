package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/mcp"
)

// config is the server's configuration: environment variables,
// each overridable by a flag of the same meaning.
type config struct {
	Addr             string
	DataDir          string
	PublicURL        string
	AdminToken       string
	SecretKey        string
	ZohoClientID     string
	ZohoClientSecret string
	DatacentersSpec  string
	AllowedOrigins   []string
	LogLevel         slog.Level

	// BodyTimeout, MaxSSEStreams and MaxSSEStreamsPerURL are the
	// server's resource limits (app.Limits).
	BodyTimeout         time.Duration
	MaxSSEStreams       int
	MaxSSEStreamsPerURL int

	Datacenters bigin.Datacenters

	// quietBootstrap leaves printing a generated admin token to the caller.
	quietBootstrap bool
	// publicFromAddr: PublicURL was derived from Addr, so it follows the
	// address actually bound (port 0 picks a free port).
	publicFromAddr bool
}

// setting is one configuration setting: its variable, flag and default.
type setting struct {
	env, flag, def, usage string
	dst                   *string
}

func (c *config) settings(raw map[string]*string) []setting {
	return []setting{
		{"BIGIN_MCP_ADDR", "addr", "127.0.0.1:8080", "listen address", raw["addr"]},
		{"BIGIN_MCP_DATA_DIR", "data-dir", "./data", "directory for bigin-mcp.db and secret.key", raw["data-dir"]},
		{"BIGIN_MCP_PUBLIC_URL", "public-url", "", "public base URL of minted MCP URLs (default http://<addr>)", raw["public-url"]},
		{"BIGIN_MCP_ADMIN_TOKEN", "admin-token", "", "bootstrap admin API token", raw["admin-token"]},
		{"BIGIN_MCP_SECRET_KEY", "secret-key", "", "base64 of 32 bytes, the AES-256-GCM key for secrets at rest", raw["secret-key"]},
		{"BIGIN_MCP_ZOHO_CLIENT_ID", "zoho-client-id", "", "Zoho OAuth client id", raw["zoho-client-id"]},
		{"BIGIN_MCP_ZOHO_CLIENT_SECRET", "zoho-client-secret", "", "Zoho OAuth client secret", raw["zoho-client-secret"]},
		{"BIGIN_MCP_DATACENTERS", "datacenters", "", "JSON (inline or @file) overriding or adding datacenters", raw["datacenters"]},
		{"BIGIN_MCP_ALLOWED_ORIGINS", "allowed-origins", "https://claude.ai,https://chatgpt.com", "comma-separated browser Origins accepted on MCP endpoints", raw["allowed-origins"]},
		{"BIGIN_MCP_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", raw["log-level"]},
		{"BIGIN_MCP_BODY_TIMEOUT", "body-timeout", httpx.DefaultBodyTimeout.String(), "how long a request body may take to arrive in full (slower: 408)", raw["body-timeout"]},
		{"BIGIN_MCP_SSE_MAX_STREAMS", "sse-max-streams", strconv.Itoa(mcp.DefaultMaxSSEStreams), "open legacy SSE streams allowed in total (more: 429)", raw["sse-max-streams"]},
		{"BIGIN_MCP_SSE_MAX_STREAMS_PER_URL", "sse-max-streams-per-url", strconv.Itoa(mcp.DefaultMaxSSEStreamsPerURL), "open legacy SSE streams allowed per MCP URL (more: 429)", raw["sse-max-streams-per-url"]},
	}
}

// parseConfig reads the environment, then the flags in args. Every error
// is one line that names the variable.
func parseConfig(name string, args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	raw := map[string]*string{}
	for _, k := range []string{"addr", "data-dir", "public-url", "admin-token", "secret-key", "zoho-client-id", "zoho-client-secret", "datacenters", "allowed-origins", "log-level", "body-timeout", "sse-max-streams", "sse-max-streams-per-url"} {
		raw[k] = new(string)
	}
	sets := c.settings(raw)
	for _, s := range sets {
		v := getenv(s.env)
		if v == "" {
			v = s.def
		}
		fs.StringVar(s.dst, s.flag, v, s.usage+" ($"+s.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.Addr = strings.TrimSpace(*raw["addr"])
	c.DataDir = *raw["data-dir"]
	c.PublicURL = strings.TrimRight(strings.TrimSpace(*raw["public-url"]), "/")
	c.AdminToken = strings.TrimSpace(*raw["admin-token"])
	c.SecretKey = strings.TrimSpace(*raw["secret-key"])
	c.ZohoClientID = strings.TrimSpace(*raw["zoho-client-id"])
	c.ZohoClientSecret = strings.TrimSpace(*raw["zoho-client-secret"])
	c.DatacentersSpec = strings.TrimSpace(*raw["datacenters"])
	for _, o := range strings.Split(*raw["allowed-origins"], ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
				return nil, fmt.Errorf("BIGIN_MCP_ALLOWED_ORIGINS: %q is not an origin like https://claude.ai", o)
			}
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
	}
	if err := c.LogLevel.UnmarshalText([]byte(*raw["log-level"])); err != nil {
		return nil, fmt.Errorf("BIGIN_MCP_LOG_LEVEL: %q is not one of debug, info, warn, error", *raw["log-level"])
	}
	var err error
	if c.BodyTimeout, err = time.ParseDuration(strings.TrimSpace(*raw["body-timeout"])); err != nil || c.BodyTimeout <= 0 {
		return nil, fmt.Errorf("BIGIN_MCP_BODY_TIMEOUT: %q is not a positive duration like 10s", *raw["body-timeout"])
	}
	for _, n := range []struct {
		env string
		raw *string
		dst *int
	}{
		{"BIGIN_MCP_SSE_MAX_STREAMS", raw["sse-max-streams"], &c.MaxSSEStreams},
		{"BIGIN_MCP_SSE_MAX_STREAMS_PER_URL", raw["sse-max-streams-per-url"], &c.MaxSSEStreamsPerURL},
	} {
		if *n.dst, err = strconv.Atoi(strings.TrimSpace(*n.raw)); err != nil || *n.dst < 1 {
			return nil, fmt.Errorf("%s: %q is not a whole number of at least 1", n.env, *n.raw)
		}
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return nil, fmt.Errorf("BIGIN_MCP_ADDR: %q is not host:port", c.Addr)
	}
	if c.DataDir == "" {
		return nil, errors.New("BIGIN_MCP_DATA_DIR: must not be empty")
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
		c.publicFromAddr = true
	} else if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("BIGIN_MCP_PUBLIC_URL: %q is not an absolute http(s) URL", c.PublicURL)
	}
	dcs, err := bigin.ParseDatacenters(c.DatacentersSpec)
	if err != nil {
		return nil, fmt.Errorf("BIGIN_MCP_DATACENTERS: %w", err)
	}
	c.Datacenters = dcs
	return c, nil
}

// checkDataDir creates the data directory (0700) and proves it writable.
func checkDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("BIGIN_MCP_DATA_DIR: cannot create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("BIGIN_MCP_DATA_DIR: %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
