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
	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/catalog"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/internal/oauth"
	"github.com/bigin-mcp/bigin-mcp/internal/ratelimit"
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

	// BodyTimeout, MaxSSEStreams, MaxSSEStreamsPerURL,
	// MaxSSEAnswersInFlight and SSEWriteTimeout are the server's resource
	// limits (app.Limits).
	BodyTimeout           time.Duration
	MaxSSEStreams         int
	MaxSSEStreamsPerURL   int
	MaxSSEAnswersInFlight int
	SSEWriteTimeout       time.Duration

	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client; nil trusts none.
	TrustedProxies *httpx.TrustedProxies
	// CredentialFailures (0: no budget) and CredentialFailureRefill are
	// each client address's budget of failed credential checks;
	// RegistrationsPerAddress and CIMDFetchesPerAddress bound its OAuth
	// client registrations and metadata document fetches.
	CredentialFailures      int
	CredentialFailureRefill time.Duration
	RegistrationsPerAddress int
	CIMDFetchesPerAddress   int

	// Store is "bbolt" (one process, the file in DataDir) or "etcd"
	// (any number of replicas sharing a cluster).
	Store        string
	Etcd         etcdstore.ClientConfig
	EtcdPrefix   string
	MaxStaleness time.Duration

	Datacenters bigin.Datacenters
	// RecordURL is the template of a record's page in Bigin's web app
	// (the url of ChatGPT's search and fetch results).
	RecordURL catalog.RecordURL

	// quietBootstrap leaves printing a generated admin token to the caller.
	quietBootstrap bool
	// publicFromAddr: PublicURL was derived from Addr, so it follows the
	// address actually bound (port 0 picks a free port).
	publicFromAddr bool
}

// setting is one row of the configuration table: an environment
// variable, the flag of the same meaning, the default (as the help shows
// it), the help text, and read, which checks a value and stores it in the
// config. read's error describes the value alone; parseConfig prefixes it
// with the variable, so every error names the setting it is about.
type setting struct {
	env, flag, def, usage string
	read                  func(v string) error
}

// settings is the configuration table, in the order the values are read
// (BIGIN_MCP_STORE before the etcd settings that depend on it). The
// flags, their help, the variables and their defaults all come from it.
func (c *config) settings() []setting {
	return []setting{
		{"BIGIN_MCP_ADDR", "addr", "127.0.0.1:8080", "listen address", address(&c.Addr, true)},
		{"BIGIN_MCP_DATA_DIR", "data-dir", "./data", "directory for bigin-mcp.db and secret.key", nonEmpty(&c.DataDir)},
		{"BIGIN_MCP_PUBLIC_URL", "public-url", "", "public base URL of minted MCP URLs (default http://<addr>)", c.readPublicURL},
		{"BIGIN_MCP_ADMIN_TOKEN", "admin-token", "", "bootstrap admin API token (at least 32 random characters)", c.readAdminToken},
		{"BIGIN_MCP_SECRET_KEY", "secret-key", "", "base64 of 32 bytes, the AES-256-GCM key for secrets at rest", text(&c.SecretKey)},
		{"BIGIN_MCP_ZOHO_CLIENT_ID", "zoho-client-id", "", "Zoho OAuth client id", text(&c.ZohoClientID)},
		{"BIGIN_MCP_ZOHO_CLIENT_SECRET", "zoho-client-secret", "", "Zoho OAuth client secret", text(&c.ZohoClientSecret)},
		{"BIGIN_MCP_DATACENTERS", "datacenters", "", "JSON (inline or @file) overriding or adding datacenters", c.readDatacenters},
		{"BIGIN_MCP_RECORD_URL", "record-url", catalog.DefaultRecordURL, "template of a record's page in Bigin's web app, the url of ChatGPT's search and fetch results: {web} (the datacenter's web_url), {zgid} (the organization's zgid), {org_id}, {tab} (contacts, companies or deals), {module}, {id}", c.readRecordURL},
		{"BIGIN_MCP_ALLOWED_ORIGINS", "allowed-origins", "https://claude.ai,https://chatgpt.com", "comma-separated browser Origins accepted on MCP endpoints", list(&c.AllowedOrigins, checkOrigin)},
		{"BIGIN_MCP_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", c.readLogLevel},
		{"BIGIN_MCP_MAX_RESULT_CHARS", "max-result-chars", strconv.Itoa(catalog.DefaultMaxResultChars), "result budget: the most characters of result text a list tool returns per page", c.readResultBudget},
		{"BIGIN_MCP_STRUCTURED_ONLY", "structured-only", "false", "opt-in: send MCP clients on protocol 2026-07-28 or later a successful tool result as structuredContent alone, without the text block that repeats it (clients that read only content, such as the OpenAI Agents SDK, then get empty results)", boolean(&c.StructuredOnly)},
		{tlsconf.EnvCert, "tls-cert", "", "PEM certificate chain to serve HTTPS with (reloaded when the file changes)", text(&c.TLS.CertFile)},
		{tlsconf.EnvKey, "tls-key", "", "PEM private key of --tls-cert", text(&c.TLS.KeyFile)},
		{tlsconf.EnvACMEDomains, "acme-domains", "", "comma-separated domains to get certificates for through ACME (Let's Encrypt)", list(&c.TLS.ACMEDomains, nil)},
		{tlsconf.EnvACMEEmail, "acme-email", "", "contact address of the ACME account", text(&c.TLS.ACMEEmail)},
		{tlsconf.EnvACMEDirectory, "acme-directory", "", "ACME directory URL (default Let's Encrypt)", text(&c.TLS.ACMEDirectory)},
		{tlsconf.EnvACMECA, "acme-ca", "", "PEM file of the CA that signed a private ACME directory's HTTPS certificate (default: system roots)", text(&c.TLS.ACMECAFile)},
		{"BIGIN_MCP_HTTP_ADDR", "http-addr", "", "plain-HTTP listen address beside HTTPS, for ACME HTTP-01 and redirects to HTTPS (e.g. 0.0.0.0:80)", address(&c.HTTPAddr, false)},
		{"BIGIN_MCP_METRICS_ADDR", "metrics-addr", "", "listen address of the Prometheus /metrics endpoint (off when empty)", address(&c.MetricsAddr, false)},
		{"BIGIN_MCP_AUDIT_RETENTION", "audit-retention", "90d", "how long audit entries are kept: days (90d) or a Go duration (36h); 0 keeps them forever", c.readRetention},
		{"BIGIN_MCP_CIMD_ALLOW_LOOPBACK", "cimd-allow-loopback", "false", "TESTS ONLY, never in production: fetch OAuth client metadata documents from loopback addresses too", boolean(&c.CIMDAllowLoopback)},
		{"BIGIN_MCP_BODY_TIMEOUT", "body-timeout", httpx.DefaultBodyTimeout.String(), "how long a request body may take to arrive in full (slower: 408)", duration(&c.BodyTimeout, time.Nanosecond, "a positive duration like 10s")},
		{"BIGIN_MCP_SSE_MAX_STREAMS", "sse-max-streams", strconv.Itoa(mcp.DefaultMaxSSEStreams), "open legacy SSE streams allowed in total (more: 429)", atLeast(&c.MaxSSEStreams, 1)},
		{"BIGIN_MCP_SSE_MAX_STREAMS_PER_URL", "sse-max-streams-per-url", strconv.Itoa(mcp.DefaultMaxSSEStreamsPerURL), "open legacy SSE streams allowed per MCP URL (more: 429)", atLeast(&c.MaxSSEStreamsPerURL, 1)},
		{"BIGIN_MCP_SSE_MAX_ANSWERS_IN_FLIGHT", "sse-max-answers-in-flight", strconv.Itoa(mcp.DefaultMaxSSEAnswersInFlight), "requests a legacy SSE session may have whose answers its stream has not taken (more: 429)", atLeast(&c.MaxSSEAnswersInFlight, 1)},
		{"BIGIN_MCP_SSE_WRITE_TIMEOUT", "sse-write-timeout", mcp.DefaultSSEWriteTimeout.String(), "how long a legacy SSE stream's client may take to read one write before the stream and its session end", duration(&c.SSEWriteTimeout, time.Nanosecond, "a positive duration like 30s")},
		{"BIGIN_MCP_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated addresses or CIDR prefixes of the reverse proxies whose X-Forwarded-For names the client of a request (empty: no header is trusted)", c.readTrustedProxies},
		{"BIGIN_MCP_CREDENTIAL_FAILURES", "credential-failures", strconv.Itoa(app.DefaultCredentialFailures.Requests), "failed credential checks a client address may make before its requests with a token get 429 (0 turns the budget off)", between(&c.CredentialFailures, 0, maxCredentialFailures)},
		{"BIGIN_MCP_CREDENTIAL_FAILURE_REFILL", "credential-failure-refill", defaultFailureRefill.String(), "how often a client address gets one failed credential check back", durationBetween(&c.CredentialFailureRefill, time.Second, 24*time.Hour)},
		{"BIGIN_MCP_OAUTH_REGISTRATIONS_PER_ADDRESS", "oauth-registrations-per-address", strconv.Itoa(oauth.DefaultRegistrationsPerAddress), "OAuth clients one client address may register per 10 minutes (more: 429)", between(&c.RegistrationsPerAddress, 1, oauth.MaxRegistrations)},
		{"BIGIN_MCP_CIMD_FETCHES_PER_ADDRESS", "cimd-fetches-per-address", strconv.Itoa(oauth.DefaultCIMDFetchesPerAddress), "OAuth client metadata documents it does not remember that the server fetches per minute for one client address (more: refused)", atLeast(&c.CIMDFetchesPerAddress, 1)},
		{"BIGIN_MCP_STORE", "store", "bbolt", "bbolt (one process) or etcd (replicas sharing a cluster)", c.readStore},
		// The etcd settings are read only with BIGIN_MCP_STORE=etcd.
		{"BIGIN_MCP_ETCD_ENDPOINTS", "etcd-endpoints", "", "comma-separated etcd client URLs", c.ifEtcd(list(&c.Etcd.Endpoints, checkEndpoint))},
		{"BIGIN_MCP_ETCD_PREFIX", "etcd-prefix", etcdstore.DefaultPrefix, "key prefix of bigin-mcp's records in etcd", c.ifEtcd(trimmedNonEmpty(&c.EtcdPrefix))},
		{"BIGIN_MCP_ETCD_CA", "etcd-ca", "", "PEM file of the CA that signed the etcd members' certificates", c.ifEtcd(text(&c.Etcd.CAFile))},
		{"BIGIN_MCP_ETCD_CERT", "etcd-cert", "", "PEM client certificate for etcd", c.ifEtcd(text(&c.Etcd.CertFile))},
		{"BIGIN_MCP_ETCD_KEY", "etcd-key", "", "PEM key of the etcd client certificate", c.ifEtcd(text(&c.Etcd.KeyFile))},
		{"BIGIN_MCP_ETCD_USERNAME", "etcd-username", "", "etcd user", c.ifEtcd(text(&c.Etcd.Username))},
		{"BIGIN_MCP_ETCD_PASSWORD", "etcd-password", "", "etcd password", c.ifEtcd(verbatim(&c.Etcd.Password))},
		{"BIGIN_MCP_ETCD_MAX_STALENESS", "etcd-max-staleness", "10s", "how long a replica may go without confirming it is current before it fails closed", c.ifEtcd(duration(&c.MaxStaleness, time.Second, "a duration of at least 1s (like 10s)"))},
	}
}

// rule is a check that involves more than one setting, run once every
// setting is read; its error is prefixed with env, the setting to change.
type rule struct {
	env   string
	check func() error
}

// rules are the configuration's checks across settings, in order.
func (c *config) rules() []rule {
	return []rule{
		{"BIGIN_MCP_HTTP_ADDR", c.checkHTTPAddr},
		{"BIGIN_MCP_METRICS_ADDR", c.checkMetricsAddr},
		{"BIGIN_MCP_PUBLIC_URL", c.defaultPublicURL},
		{"BIGIN_MCP_ETCD_ENDPOINTS", func() error {
			if c.Store == "etcd" && len(c.Etcd.Endpoints) == 0 {
				return errors.New("required with BIGIN_MCP_STORE=etcd")
			}
			return nil
		}},
		{"BIGIN_MCP_SECRET_KEY", func() error {
			if c.Store == "etcd" && c.SecretKey == "" {
				return errors.New("required with BIGIN_MCP_STORE=etcd (every replica must seal and open secrets with the same key; generate one with: openssl rand -base64 32)")
			}
			return nil
		}},
		{"BIGIN_MCP_ETCD_CERT", func() error {
			if (c.Etcd.CertFile == "") != (c.Etcd.KeyFile == "") {
				return errors.New("BIGIN_MCP_ETCD_CERT and BIGIN_MCP_ETCD_KEY go together")
			}
			return nil
		}},
	}
}

// parseConfig reads the environment, then the flags in args. Every error
// is one line that names the variable.
func parseConfig(name string, args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	fs, resolve := configFlags(name, stderr, nil)
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	return resolve(getenv)
}

// configFlags returns a command's flag set holding a flag for each
// setting that flagged accepts (every one when flagged is nil; a command
// may add flags of its own before parsing), and resolve, which, once the
// flags are parsed, reads each setting from its flag, else its variable,
// else its default, then runs the rules.
func configFlags(name string, stderr io.Writer, flagged func(env string) bool) (*flag.FlagSet, func(getenv func(string) string) (*config, error)) {
	c := &config{}
	sets := c.settings()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	values := make([]*string, len(sets))
	for i, s := range sets {
		if flagged != nil && !flagged(s.env) {
			values[i] = &sets[i].def // no flag: the variable or the default
			continue
		}
		values[i] = fs.String(s.flag, s.def, s.usage+" ($"+s.env+")")
	}
	resolve := func(getenv func(string) string) (*config, error) {
		// A flag wins over its variable. The variables are applied after
		// parsing so that --help never shows their values (secrets among
		// them).
		given := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		for i, s := range sets {
			v := *values[i]
			if e := getenv(s.env); e != "" && !given[s.flag] {
				v = e
			}
			if err := s.read(v); err != nil {
				return nil, fmt.Errorf("%s: %w", s.env, err)
			}
		}
		for _, r := range c.rules() {
			if err := r.check(); err != nil {
				return nil, fmt.Errorf("%s: %w", r.env, err)
			}
		}
		return c, nil
	}
	return fs, resolve
}

// The readers of the table's values, by type. Each returns the read
// function of a row that stores into dst.

// text stores the value without surrounding space.
func text(dst *string) func(string) error {
	return func(v string) error { *dst = strings.TrimSpace(v); return nil }
}

// verbatim stores the value as given (a password may hold any character).
func verbatim(dst *string) func(string) error {
	return func(v string) error { *dst = v; return nil }
}

// nonEmpty stores the value as given, which must not be empty.
func nonEmpty(dst *string) func(string) error {
	return func(v string) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		*dst = v
		return nil
	}
}

// trimmedNonEmpty stores the value without surrounding space, which must
// leave something.
func trimmedNonEmpty(dst *string) func(string) error {
	return func(v string) error {
		if *dst = strings.TrimSpace(v); *dst == "" {
			return errors.New("must not be empty")
		}
		return nil
	}
}

// address stores a listen address (host:port); an empty one is allowed unless
// required (it then turns the listener off).
func address(dst *string, required bool) func(string) error {
	return func(v string) error {
		*dst = strings.TrimSpace(v)
		if *dst == "" && !required {
			return nil
		}
		if _, _, err := net.SplitHostPort(*dst); err != nil {
			return fmt.Errorf("%q is not host:port", *dst)
		}
		return nil
	}
}

// boolean stores true or false (also 1, 0, t, f and their capitals).
func boolean(dst *bool) func(string) error {
	return func(v string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*dst = b
		return nil
	}
}

// atLeast stores a whole number of at least floor.
func atLeast(dst *int, floor int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < floor {
			return fmt.Errorf("%q is not a whole number of at least %d", v, floor)
		}
		*dst = n
		return nil
	}
}

// between stores a whole number from lo to hi.
func between(dst *int, lo, hi int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("%q is not a whole number from %d to %d", v, lo, hi)
		}
		*dst = n
		return nil
	}
}

// durationBetween stores a Go duration from lo to hi.
func durationBetween(dst *time.Duration, lo, hi time.Duration) func(string) error {
	return func(v string) error {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < lo || d > hi {
			return fmt.Errorf("%q is not a duration from %s to %s (like 30s)", v, lo, hi)
		}
		*dst = d
		return nil
	}
}

// duration stores a Go duration of at least floor; want describes one for
// the error.
func duration(dst *time.Duration, floor time.Duration, want string) func(string) error {
	return func(v string) error {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < floor {
			return fmt.Errorf("%q is not %s", v, want)
		}
		*dst = d
		return nil
	}
}

// list stores the comma-separated items, each without surrounding space,
// leaving out empty ones; check, when not nil, checks and may rewrite
// each item.
func list(dst *[]string, check func(string) (string, error)) func(string) error {
	return func(v string) error {
		*dst = nil
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item == "" {
				continue
			}
			if check != nil {
				var err error
				if item, err = check(item); err != nil {
					return err
				}
			}
			*dst = append(*dst, item)
		}
		return nil
	}
}

// ifEtcd reads the value only when the store is etcd.
func (c *config) ifEtcd(read func(string) error) func(string) error {
	return func(v string) error {
		if c.Store != "etcd" {
			return nil
		}
		return read(v)
	}
}

// The readers of one setting each.

// readPublicURL reads the base of minted URLs: scheme, host and an
// optional path, nothing a URL appended to it would break (a query or a
// fragment) or leak (user information, which the message never shows).
func (c *config) readPublicURL(v string) error {
	c.PublicURL = strings.TrimRight(strings.TrimSpace(v), "/")
	if c.PublicURL == "" {
		return nil // the rule defaultPublicURL fills it in
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", c.PublicURL)
	}
	const only = "; give the scheme, host and optional path that minted URLs start with, such as https://mcp.example.com"
	switch {
	case u.User != nil:
		shown := *u
		shown.User = nil
		return fmt.Errorf("%q has user information (…@)%s", strings.Replace(shown.String(), "://", "://…@", 1), only)
	case strings.Contains(c.PublicURL, "#"):
		return fmt.Errorf("%q has a fragment (#…)%s", c.PublicURL, only)
	case strings.Contains(c.PublicURL, "?"):
		return fmt.Errorf("%q has a query (?…)%s", c.PublicURL, only)
	}
	return nil
}

func (c *config) readAdminToken(v string) error {
	if c.AdminToken = strings.TrimSpace(v); c.AdminToken == "" {
		return nil
	}
	return tokens.CheckBootstrapToken(c.AdminToken)
}

func (c *config) readDatacenters(v string) error {
	dcs, err := bigin.ParseDatacenters(strings.TrimSpace(v))
	c.Datacenters = dcs
	return err
}

func (c *config) readLogLevel(v string) error {
	if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
		return fmt.Errorf("%q is not one of debug, info, warn, error", v)
	}
	return nil
}

func (c *config) readResultBudget(v string) error {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || !tokens.ValidResultBudget(n) {
		return fmt.Errorf("%q is not a number of characters from %d to %d", v, tokens.MinResultChars, tokens.MaxResultChars)
	}
	c.MaxResultChars = n
	return nil
}

func (c *config) readRecordURL(v string) (err error) {
	c.RecordURL, err = catalog.ParseRecordURL(v)
	return err
}

func (c *config) readRetention(v string) (err error) {
	c.AuditRetention, err = parseRetention(v)
	return err
}

func (c *config) readTrustedProxies(v string) (err error) {
	c.TrustedProxies, err = httpx.ParseTrustedProxies(strings.Split(v, ","))
	return err
}

// maxCredentialFailures bounds BIGIN_MCP_CREDENTIAL_FAILURES, so that a
// budget's full refill (count × BIGIN_MCP_CREDENTIAL_FAILURE_REFILL, at
// most 24 h) stays far inside a time.Duration.
const maxCredentialFailures = 10000

// defaultFailureRefill is BIGIN_MCP_CREDENTIAL_FAILURE_REFILL's default:
// the interval of app.DefaultCredentialFailures.
var defaultFailureRefill = app.DefaultCredentialFailures.Per / time.Duration(app.DefaultCredentialFailures.Requests)

// credentialFailures is the budget of BIGIN_MCP_CREDENTIAL_FAILURES and
// BIGIN_MCP_CREDENTIAL_FAILURE_REFILL: the count, one back every refill.
// It is invalid when the count is 0 (the budget is off).
func (c *config) credentialFailures() ratelimit.Limit {
	return ratelimit.Limit{Requests: c.CredentialFailures, Per: time.Duration(c.CredentialFailures) * c.CredentialFailureRefill}
}

func (c *config) readStore(v string) error {
	c.Store = strings.ToLower(strings.TrimSpace(v))
	if c.Store != "bbolt" && c.Store != "etcd" {
		return fmt.Errorf("%q is not bbolt or etcd", c.Store)
	}
	return nil
}

// checkOrigin accepts a browser Origin (scheme and host; a final slash is
// dropped).
func checkOrigin(o string) (string, error) {
	o = strings.TrimRight(o, "/")
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("%q is not an origin like https://claude.ai", o)
	}
	return o, nil
}

// checkEndpoint accepts an etcd client URL.
func checkEndpoint(e string) (string, error) {
	u, err := url.Parse(e)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not a URL like https://etcd-1:2379", e)
	}
	return e, nil
}

// The rules.

// checkHTTPAddr: the plain-HTTP listener exists only beside HTTPS, on an
// address of its own.
func (c *config) checkHTTPAddr() error {
	if c.HTTPAddr == "" {
		return nil
	}
	if !c.TLS.Enabled() {
		return fmt.Errorf("only used with HTTPS (%s and %s, or %s)", tlsconf.EnvCert, tlsconf.EnvKey, tlsconf.EnvACMEDomains)
	}
	if sameListener(c.HTTPAddr, c.Addr) {
		return fmt.Errorf("%s is also the address of BIGIN_MCP_ADDR (%s); the plain-HTTP listener needs an address of its own", c.HTTPAddr, c.Addr)
	}
	return nil
}

// checkMetricsAddr: the metrics listener has an address of its own.
func (c *config) checkMetricsAddr() error {
	for _, o := range []struct{ env, addr string }{{"BIGIN_MCP_ADDR", c.Addr}, {"BIGIN_MCP_HTTP_ADDR", c.HTTPAddr}} {
		if c.MetricsAddr != "" && sameListener(c.MetricsAddr, o.addr) {
			return fmt.Errorf("%s is also the address of %s (%s); the metrics need an address of their own", c.MetricsAddr, o.env, o.addr)
		}
	}
	return nil
}

// defaultPublicURL fills in the public URL from the listen address, which
// no client can reach when it listens on every interface.
func (c *config) defaultPublicURL() error {
	if c.PublicURL != "" {
		return nil
	}
	if unspecifiedHost(c.Addr) && len(c.TLS.ACMEDomains) == 0 {
		return fmt.Errorf("must be set when BIGIN_MCP_ADDR (%s) listens on every interface, "+
			"or minted URLs would read %s/mcp/…, which no client can reach; set it to the URL clients use, e.g. https://mcp.example.com", c.Addr, "http://"+c.Addr)
	}
	c.PublicURL = "http://" + c.Addr
	c.publicFromAddr = true
	return nil
}

// sameListener reports whether two listen addresses would compete for
// one port: the same port (not 0, which picks a free one) on the same
// host, or on every interface and any host.
func sameListener(a, b string) bool {
	ha, pa, err := net.SplitHostPort(a)
	if err != nil {
		return false
	}
	hb, pb, err := net.SplitHostPort(b)
	if err != nil || pa != pb || pa == "0" {
		return false
	}
	return ha == hb || unspecifiedHost(a) || unspecifiedHost(b)
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
