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
	"github.com/bigin-mcp/bigin-mcp/internal/catalog"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/internal/tlsconf"
	"github.com/bigin-mcp/bigin-mcp/mcp"
	"github.com/bigin-mcp/bigin-mcp/store/etcdstore"
	"github.com/bigin-mcp/bigin-mcp/tokens"
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
	MaxResultChars   int
	// StructuredOnly (opt-in) leaves the text block out of successful
	// tool results for MCP clients on protocol 2026-07-28 or later.
	StructuredOnly bool
	// TLS selects HTTPS: a certificate pair or ACME (tlsconf validates it
	// when serve builds the manager); zero means plain HTTP.
	TLS tlsconf.Config
	// HTTPAddr is the plain-HTTP listener beside HTTPS (ACME HTTP-01
	// challenges and redirects to HTTPS); empty means none.
	HTTPAddr string
	// MetricsAddr is the Prometheus listener's address; "" turns metrics
	// off.
	MetricsAddr string
	// AuditRetention is how long audit entries are kept; negative keeps
	// them forever.
	AuditRetention time.Duration
	// CIMDAllowLoopback lets OAuth Client ID Metadata Documents be
	// fetched from loopback addresses: for test suites only (serve warns
	// when it is on).
	CIMDAllowLoopback bool

	// BodyTimeout, MaxSSEStreams and MaxSSEStreamsPerURL are the
	// server's resource limits (app.Limits).
	BodyTimeout         time.Duration
	MaxSSEStreams       int
	MaxSSEStreamsPerURL int

	// Store is "bbolt" (one process, the file in DataDir) or "etcd"
	// (any number of replicas sharing a cluster).
	Store        string
	Etcd         etcdstore.ClientConfig
	EtcdPrefix   string
	MaxStaleness time.Duration

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

func (c *config) settings(raw func(flag string) *string) []setting {
	return []setting{
		{"BIGIN_MCP_ADDR", "addr", "127.0.0.1:8080", "listen address", raw("addr")},
		{"BIGIN_MCP_DATA_DIR", "data-dir", "./data", "directory for bigin-mcp.db and secret.key", raw("data-dir")},
		{"BIGIN_MCP_PUBLIC_URL", "public-url", "", "public base URL of minted MCP URLs (default http://<addr>)", raw("public-url")},
		{"BIGIN_MCP_ADMIN_TOKEN", "admin-token", "", "bootstrap admin API token", raw("admin-token")},
		{"BIGIN_MCP_SECRET_KEY", "secret-key", "", "base64 of 32 bytes, the AES-256-GCM key for secrets at rest", raw("secret-key")},
		{"BIGIN_MCP_ZOHO_CLIENT_ID", "zoho-client-id", "", "Zoho OAuth client id", raw("zoho-client-id")},
		{"BIGIN_MCP_ZOHO_CLIENT_SECRET", "zoho-client-secret", "", "Zoho OAuth client secret", raw("zoho-client-secret")},
		{"BIGIN_MCP_DATACENTERS", "datacenters", "", "JSON (inline or @file) overriding or adding datacenters", raw("datacenters")},
		{"BIGIN_MCP_ALLOWED_ORIGINS", "allowed-origins", "https://claude.ai,https://chatgpt.com", "comma-separated browser Origins accepted on MCP endpoints", raw("allowed-origins")},
		{"BIGIN_MCP_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", raw("log-level")},
		{"BIGIN_MCP_MAX_RESULT_CHARS", "max-result-chars", strconv.Itoa(catalog.DefaultMaxResultChars), "result budget: the most characters of result text a list tool returns per page", raw("max-result-chars")},
		{"BIGIN_MCP_STRUCTURED_ONLY", "structured-only", "false", "opt-in: send MCP clients on protocol 2026-07-28 or later a successful tool result as structuredContent alone, without the text block that repeats it (clients that read only content, such as the OpenAI Agents SDK, then get empty results)", raw("structured-only")},
		{tlsconf.EnvCert, "tls-cert", "", "PEM certificate chain to serve HTTPS with (reloaded when the file changes)", raw("tls-cert")},
		{tlsconf.EnvKey, "tls-key", "", "PEM private key of --tls-cert", raw("tls-key")},
		{tlsconf.EnvACMEDomains, "acme-domains", "", "comma-separated domains to get certificates for through ACME (Let's Encrypt)", raw("acme-domains")},
		{tlsconf.EnvACMEEmail, "acme-email", "", "contact address of the ACME account", raw("acme-email")},
		{tlsconf.EnvACMEDirectory, "acme-directory", "", "ACME directory URL (default Let's Encrypt)", raw("acme-directory")},
		{tlsconf.EnvACMECA, "acme-ca", "", "PEM file of the CA that signed a private ACME directory's HTTPS certificate (default: system roots)", raw("acme-ca")},
		{"BIGIN_MCP_HTTP_ADDR", "http-addr", "", "plain-HTTP listen address beside HTTPS, for ACME HTTP-01 and redirects to HTTPS (e.g. 0.0.0.0:80)", raw("http-addr")},
		{"BIGIN_MCP_METRICS_ADDR", "metrics-addr", "", "listen address of the Prometheus /metrics endpoint (off when empty)", raw("metrics-addr")},
		{"BIGIN_MCP_AUDIT_RETENTION", "audit-retention", "90d", "how long audit entries are kept: days (90d) or a Go duration (36h); 0 keeps them forever", raw("audit-retention")},
		{"BIGIN_MCP_CIMD_ALLOW_LOOPBACK", "cimd-allow-loopback", "false", "TESTS ONLY, never in production: fetch OAuth client metadata documents from loopback addresses too", raw("cimd-allow-loopback")},
		{"BIGIN_MCP_BODY_TIMEOUT", "body-timeout", httpx.DefaultBodyTimeout.String(), "how long a request body may take to arrive in full (slower: 408)", raw("body-timeout")},
		{"BIGIN_MCP_SSE_MAX_STREAMS", "sse-max-streams", strconv.Itoa(mcp.DefaultMaxSSEStreams), "open legacy SSE streams allowed in total (more: 429)", raw("sse-max-streams")},
		{"BIGIN_MCP_SSE_MAX_STREAMS_PER_URL", "sse-max-streams-per-url", strconv.Itoa(mcp.DefaultMaxSSEStreamsPerURL), "open legacy SSE streams allowed per MCP URL (more: 429)", raw("sse-max-streams-per-url")},
		{"BIGIN_MCP_STORE", "store", "bbolt", "bbolt (one process) or etcd (replicas sharing a cluster)", raw("store")},
		{"BIGIN_MCP_ETCD_ENDPOINTS", "etcd-endpoints", "", "comma-separated etcd client URLs", raw("etcd-endpoints")},
		{"BIGIN_MCP_ETCD_PREFIX", "etcd-prefix", etcdstore.DefaultPrefix, "key prefix of bigin-mcp's records in etcd", raw("etcd-prefix")},
		{"BIGIN_MCP_ETCD_CA", "etcd-ca", "", "PEM file of the CA that signed the etcd members' certificates", raw("etcd-ca")},
		{"BIGIN_MCP_ETCD_CERT", "etcd-cert", "", "PEM client certificate for etcd", raw("etcd-cert")},
		{"BIGIN_MCP_ETCD_KEY", "etcd-key", "", "PEM key of the etcd client certificate", raw("etcd-key")},
		{"BIGIN_MCP_ETCD_USERNAME", "etcd-username", "", "etcd user", raw("etcd-username")},
		{"BIGIN_MCP_ETCD_PASSWORD", "etcd-password", "", "etcd password", raw("etcd-password")},
		{"BIGIN_MCP_ETCD_MAX_STALENESS", "etcd-max-staleness", "10s", "how long a replica may go without confirming it is current before it fails closed", raw("etcd-max-staleness")},
	}
}

// parseConfig reads the environment, then the flags in args. Every error
// is one line that names the variable.
func parseConfig(name string, args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	raw := map[string]*string{} // each flag's value, by flag name
	sets := c.settings(func(flag string) *string {
		p := new(string)
		raw[flag] = p
		return p
	})
	for _, s := range sets {
		fs.StringVar(s.dst, s.flag, s.def, s.usage+" ($"+s.env+")")
	}
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	// A flag wins over its variable. The variables are applied after
	// parsing so that --help never shows their values (secrets among them).
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, s := range sets {
		if v := getenv(s.env); v != "" && !given[s.flag] {
			*s.dst = v
		}
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
	if c.AdminToken != "" {
		if err := tokens.CheckBootstrapToken(c.AdminToken); err != nil {
			return nil, fmt.Errorf("BIGIN_MCP_ADMIN_TOKEN: %w", err)
		}
	}
	if err := c.LogLevel.UnmarshalText([]byte(*raw["log-level"])); err != nil {
		return nil, fmt.Errorf("BIGIN_MCP_LOG_LEVEL: %q is not one of debug, info, warn, error", *raw["log-level"])
	}
	n, err := strconv.Atoi(strings.TrimSpace(*raw["max-result-chars"]))
	if err != nil || !tokens.ValidResultBudget(n) {
		return nil, fmt.Errorf("BIGIN_MCP_MAX_RESULT_CHARS: %q is not a number of characters from %d to %d", *raw["max-result-chars"], tokens.MinResultChars, tokens.MaxResultChars)
	}
	c.MaxResultChars = n
	if c.MetricsAddr = strings.TrimSpace(*raw["metrics-addr"]); c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return nil, fmt.Errorf("BIGIN_MCP_METRICS_ADDR: %q is not host:port", c.MetricsAddr)
		}
	}
	if c.AuditRetention, err = parseRetention(*raw["audit-retention"]); err != nil {
		return nil, fmt.Errorf("BIGIN_MCP_AUDIT_RETENTION: %w", err)
	}
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
	if c.StructuredOnly, err = strconv.ParseBool(strings.TrimSpace(*raw["structured-only"])); err != nil {
		return nil, fmt.Errorf("BIGIN_MCP_STRUCTURED_ONLY: %q is not true or false", *raw["structured-only"])
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return nil, fmt.Errorf("BIGIN_MCP_ADDR: %q is not host:port", c.Addr)
	}
	if c.DataDir == "" {
		return nil, errors.New("BIGIN_MCP_DATA_DIR: must not be empty")
	}
	byEnv := map[string]string{}
	for _, s := range sets {
		byEnv[s.env] = *s.dst
	}
	c.TLS = tlsconf.ConfigFromEnv(func(k string) string { return byEnv[k] })
	c.HTTPAddr = strings.TrimSpace(*raw["http-addr"])
	if c.HTTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
			return nil, fmt.Errorf("BIGIN_MCP_HTTP_ADDR: %q is not host:port", c.HTTPAddr)
		}
		if !c.TLS.Enabled() {
			return nil, fmt.Errorf("BIGIN_MCP_HTTP_ADDR: only used with HTTPS (%s and %s, or %s)", tlsconf.EnvCert, tlsconf.EnvKey, tlsconf.EnvACMEDomains)
		}
	}
	if c.CIMDAllowLoopback, err = strconv.ParseBool(strings.TrimSpace(*raw["cimd-allow-loopback"])); err != nil {
		return nil, fmt.Errorf("BIGIN_MCP_CIMD_ALLOW_LOOPBACK: %q is not true or false", *raw["cimd-allow-loopback"])
	}
	if c.PublicURL == "" && unspecifiedHost(c.Addr) && len(c.TLS.ACMEDomains) == 0 {
		return nil, fmt.Errorf("BIGIN_MCP_PUBLIC_URL: must be set when BIGIN_MCP_ADDR (%s) listens on every interface, "+
			"or minted URLs would read %s/mcp/…, which no client can reach; set it to the URL clients use, e.g. https://mcp.example.com", c.Addr, "http://"+c.Addr)
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
		c.publicFromAddr = true
	} else if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("BIGIN_MCP_PUBLIC_URL: %q is not an absolute http(s) URL", c.PublicURL)
	}
	if err := c.parseStore(raw); err != nil {
		return nil, err
	}
	dcs, err := bigin.ParseDatacenters(c.DatacentersSpec)
	if err != nil {
		return nil, fmt.Errorf("BIGIN_MCP_DATACENTERS: %w", err)
	}
	c.Datacenters = dcs
	return c, nil
}

// unspecifiedHost reports whether addr listens on every interface
// (0.0.0.0, ::, or no host at all).
func unspecifiedHost(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsUnspecified()
}

// parseRetention reads a retention: whole days ("90d"), a Go duration of
// at least an hour ("36h"), or 0 for forever (returned as -1).
func parseRetention(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "0" {
		return -1, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > 36500 {
			return 0, fmt.Errorf("%q is not a number of days from 1d to 36500d", v)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, fmt.Errorf("%q is not a retention such as 90d or 36h (0 keeps entries forever)", v)
		}
	}
	if d < time.Hour {
		return 0, fmt.Errorf("%q is shorter than an hour; use 0 to keep entries forever", v)
	}
	return d, nil
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

// parseStore reads the store settings. With etcd, the secret key must be
// given: replicas share it, so none may generate its own.
func (c *config) parseStore(raw map[string]*string) error {
	c.Store = strings.ToLower(strings.TrimSpace(*raw["store"]))
	switch c.Store {
	case "bbolt":
		return nil
	case "etcd":
	default:
		return fmt.Errorf("BIGIN_MCP_STORE: %q is not bbolt or etcd", c.Store)
	}
	for _, e := range strings.Split(*raw["etcd-endpoints"], ",") {
		if e = strings.TrimSpace(e); e != "" {
			u, err := url.Parse(e)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("BIGIN_MCP_ETCD_ENDPOINTS: %q is not a URL like https://etcd-1:2379", e)
			}
			c.Etcd.Endpoints = append(c.Etcd.Endpoints, e)
		}
	}
	if len(c.Etcd.Endpoints) == 0 {
		return errors.New("BIGIN_MCP_ETCD_ENDPOINTS: required with BIGIN_MCP_STORE=etcd")
	}
	if c.SecretKey == "" {
		return errors.New("BIGIN_MCP_SECRET_KEY: required with BIGIN_MCP_STORE=etcd (every replica must seal and open secrets with the same key; generate one with: openssl rand -base64 32)")
	}
	c.EtcdPrefix = strings.TrimSpace(*raw["etcd-prefix"])
	if c.EtcdPrefix == "" {
		return errors.New("BIGIN_MCP_ETCD_PREFIX: must not be empty")
	}
	c.Etcd.CAFile = strings.TrimSpace(*raw["etcd-ca"])
	c.Etcd.CertFile = strings.TrimSpace(*raw["etcd-cert"])
	c.Etcd.KeyFile = strings.TrimSpace(*raw["etcd-key"])
	if (c.Etcd.CertFile == "") != (c.Etcd.KeyFile == "") {
		return errors.New("BIGIN_MCP_ETCD_CERT: BIGIN_MCP_ETCD_CERT and BIGIN_MCP_ETCD_KEY go together")
	}
	c.Etcd.Username = strings.TrimSpace(*raw["etcd-username"])
	c.Etcd.Password = *raw["etcd-password"]
	d, err := time.ParseDuration(strings.TrimSpace(*raw["etcd-max-staleness"]))
	if err != nil || d < time.Second {
		return fmt.Errorf("BIGIN_MCP_ETCD_MAX_STALENESS: %q is not a duration of at least 1s (like 10s)", *raw["etcd-max-staleness"])
	}
	c.MaxStaleness = d
	return nil
}
