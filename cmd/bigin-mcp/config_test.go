package main

import (
	"bytes"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/catalog"
	"github.com/bigin-mcp/bigin-mcp/internal/ratelimit"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseConfigDefaultsAndOverrides(t *testing.T) {
	t.Parallel()
	c, err := parseConfig("t", nil, envOf(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8080", c.Addr)
	assert.Equal(t, "./data", c.DataDir)
	assert.Equal(t, "http://127.0.0.1:8080", c.PublicURL)
	assert.Equal(t, []string{"https://claude.ai", "https://chatgpt.com"}, c.AllowedOrigins)
	assert.Equal(t, slog.LevelInfo, c.LogLevel)
	assert.Equal(t, 40000, c.MaxResultChars)
	assert.False(t, c.CIMDAllowLoopback, "client metadata documents never come from loopback unless asked")
	assert.Equal(t, 10*time.Second, c.BodyTimeout)
	assert.Equal(t, 1000, c.MaxSSEStreams)
	assert.Equal(t, 32, c.MaxSSEStreamsPerURL)
	assert.False(t, c.StructuredOnly, "every client gets the text block and structuredContent by default")
	assert.Nil(t, c.TrustedProxies, "no forwarding header is trusted by default")
	assert.Equal(t, ratelimit.Limit{Requests: 20, Per: 10 * time.Minute}, c.credentialFailures(), "20 failures, one back every 30 s")
	assert.Equal(t, 20, c.RegistrationsPerAddress)
	assert.Equal(t, 20, c.CIMDFetchesPerAddress)
	_, err = c.Datacenters.Get("ca")
	assert.NoError(t, err, "built-in datacenters are loaded")

	c, err = parseConfig("t", []string{"--addr", "0.0.0.0:9000", "--log-level", "debug", "--sse-max-streams", "50"},
		envOf(map[string]string{"BIGIN_MCP_ADDR": "127.0.0.1:1", "BIGIN_MCP_PUBLIC_URL": "https://mcp.example.com/", "BIGIN_MCP_MAX_RESULT_CHARS": "20000",
			"BIGIN_MCP_BODY_TIMEOUT": "30s", "BIGIN_MCP_SSE_MAX_STREAMS": "10", "BIGIN_MCP_SSE_MAX_STREAMS_PER_URL": "4"}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 20000, c.MaxResultChars, "from the variable")
	assert.Equal(t, "0.0.0.0:9000", c.Addr, "a flag wins over the variable")
	assert.Equal(t, 30*time.Second, c.BodyTimeout)
	assert.Equal(t, 50, c.MaxSSEStreams, "a flag wins over the variable")
	assert.Equal(t, 4, c.MaxSSEStreamsPerURL)
	assert.Equal(t, "https://mcp.example.com", c.PublicURL)
	assert.Equal(t, slog.LevelDebug, c.LogLevel)

	c, err = parseConfig("t", []string{"--max-result-chars", "120000"}, envOf(map[string]string{"BIGIN_MCP_MAX_RESULT_CHARS": "20000"}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 120000, c.MaxResultChars, "the flag wins")

	c, err = parseConfig("t", nil, envOf(map[string]string{"BIGIN_MCP_CIMD_ALLOW_LOOPBACK": "true"}), io.Discard)
	require.NoError(t, err)
	assert.True(t, c.CIMDAllowLoopback, "from the variable")
	c, err = parseConfig("t", []string{"--cimd-allow-loopback=false"}, envOf(map[string]string{"BIGIN_MCP_CIMD_ALLOW_LOOPBACK": "true"}), io.Discard)
	require.NoError(t, err)
	assert.False(t, c.CIMDAllowLoopback, "the flag wins")
	c, err = parseConfig("t", []string{"--cimd-allow-loopback", "1"}, envOf(nil), io.Discard)
	require.NoError(t, err)
	assert.True(t, c.CIMDAllowLoopback, "from the flag")
	assert.Equal(t, catalog.DefaultRecordURL, c.RecordURL.String(), "the default record URL")
	c, err = parseConfig("t", []string{"--record-url", "https://bigin.zoho.eu/bigin/org20096296201/Home#/{tab}/{id}"}, envOf(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "https://bigin.zoho.eu/bigin/org20096296201/Home#/{tab}/{id}", c.RecordURL.String(), "from the flag")
	c, err = parseConfig("t", nil, envOf(map[string]string{"BIGIN_MCP_STRUCTURED_ONLY": "true"}), io.Discard)
	require.NoError(t, err)
	assert.True(t, c.StructuredOnly, "from the variable")
	c, err = parseConfig("t", []string{"--structured-only=false"}, envOf(map[string]string{"BIGIN_MCP_STRUCTURED_ONLY": "true"}), io.Discard)
	require.NoError(t, err)
	assert.False(t, c.StructuredOnly, "the flag wins")
}

func TestParseConfigErrorsNameTheVariable(t *testing.T) {
	t.Parallel()
	dcFile := filepath.Join(t.TempDir(), "dcs.json")
	require.NoError(t, os.WriteFile(dcFile, []byte(`{"us":`), 0o600))
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad datacenters JSON", map[string]string{"BIGIN_MCP_DATACENTERS": `{"us":`}, "BIGIN_MCP_DATACENTERS"},
		{"bad datacenters file", map[string]string{"BIGIN_MCP_DATACENTERS": "@" + dcFile}, "BIGIN_MCP_DATACENTERS"},
		{"missing datacenters file", map[string]string{"BIGIN_MCP_DATACENTERS": "@/nonexistent/dcs.json"}, "BIGIN_MCP_DATACENTERS"},
		{"bad datacenter URL", map[string]string{"BIGIN_MCP_DATACENTERS": `{"us":{"accounts_url":"not a url","api_url":"https://x"}}`}, "BIGIN_MCP_DATACENTERS"},
		{"bad log level", map[string]string{"BIGIN_MCP_LOG_LEVEL": "loud"}, "BIGIN_MCP_LOG_LEVEL"},
		{"bad addr", map[string]string{"BIGIN_MCP_ADDR": "8080"}, "BIGIN_MCP_ADDR"},
		{"bad public URL", map[string]string{"BIGIN_MCP_PUBLIC_URL": "mcp.example.com"}, "BIGIN_MCP_PUBLIC_URL"},
		{"public URL with a fragment", map[string]string{"BIGIN_MCP_PUBLIC_URL": "https://mcp.example.com/#top"},
			`BIGIN_MCP_PUBLIC_URL: "https://mcp.example.com/#top" has a fragment (#…)`},
		{"public URL with an empty fragment", map[string]string{"BIGIN_MCP_PUBLIC_URL": "https://mcp.example.com#"},
			`BIGIN_MCP_PUBLIC_URL: "https://mcp.example.com#" has a fragment (#…)`},
		{"public URL with a query", map[string]string{"BIGIN_MCP_PUBLIC_URL": "https://mcp.example.com/?x=1"},
			`BIGIN_MCP_PUBLIC_URL: "https://mcp.example.com/?x=1" has a query (?…)`},
		{"public URL with an empty query", map[string]string{"BIGIN_MCP_PUBLIC_URL": "https://mcp.example.com?"},
			`BIGIN_MCP_PUBLIC_URL: "https://mcp.example.com?" has a query (?…)`},
		{"public URL with user information", map[string]string{"BIGIN_MCP_PUBLIC_URL": "https://ops:hunter2@mcp.example.com"},
			`BIGIN_MCP_PUBLIC_URL: "https://…@mcp.example.com" has user information (…@)`},
		{"bad origin", map[string]string{"BIGIN_MCP_ALLOWED_ORIGINS": "claude.ai"}, "BIGIN_MCP_ALLOWED_ORIGINS"},
		{"result budget not a number", map[string]string{"BIGIN_MCP_MAX_RESULT_CHARS": "40k"}, `BIGIN_MCP_MAX_RESULT_CHARS: "40k" is not a number of characters from 500 to 1000000`},
		{"result budget too small", map[string]string{"BIGIN_MCP_MAX_RESULT_CHARS": "40"}, "BIGIN_MCP_MAX_RESULT_CHARS"},
		{"result budget too large", map[string]string{"BIGIN_MCP_MAX_RESULT_CHARS": "2000000"}, "BIGIN_MCP_MAX_RESULT_CHARS"},
		{"loopback CIMD not a boolean", map[string]string{"BIGIN_MCP_CIMD_ALLOW_LOOPBACK": "yes please"}, `BIGIN_MCP_CIMD_ALLOW_LOOPBACK: "yes please" is not true or false`},
		{"bad body timeout", map[string]string{"BIGIN_MCP_BODY_TIMEOUT": "10"}, "BIGIN_MCP_BODY_TIMEOUT"},
		{"zero body timeout", map[string]string{"BIGIN_MCP_BODY_TIMEOUT": "0s"}, "BIGIN_MCP_BODY_TIMEOUT"},
		{"bad SSE cap", map[string]string{"BIGIN_MCP_SSE_MAX_STREAMS": "many"}, "BIGIN_MCP_SSE_MAX_STREAMS"},
		{"zero SSE cap per URL", map[string]string{"BIGIN_MCP_SSE_MAX_STREAMS_PER_URL": "0"}, "BIGIN_MCP_SSE_MAX_STREAMS_PER_URL"},
		{"unknown store", map[string]string{"BIGIN_MCP_STORE": "redis"}, "BIGIN_MCP_STORE"},
		{"etcd without endpoints", map[string]string{"BIGIN_MCP_STORE": "etcd", "BIGIN_MCP_SECRET_KEY": "k"}, "BIGIN_MCP_ETCD_ENDPOINTS"},
		{"etcd bad endpoint", map[string]string{"BIGIN_MCP_STORE": "etcd", "BIGIN_MCP_ETCD_ENDPOINTS": "etcd-1:2379", "BIGIN_MCP_SECRET_KEY": "k"}, "BIGIN_MCP_ETCD_ENDPOINTS"},
		{"etcd without a key", map[string]string{"BIGIN_MCP_STORE": "etcd", "BIGIN_MCP_ETCD_ENDPOINTS": "http://127.0.0.1:2379"}, "BIGIN_MCP_SECRET_KEY"},
		{"etcd cert without key", map[string]string{"BIGIN_MCP_STORE": "etcd", "BIGIN_MCP_ETCD_ENDPOINTS": "http://127.0.0.1:2379", "BIGIN_MCP_SECRET_KEY": "k", "BIGIN_MCP_ETCD_CERT": "c.pem"}, "BIGIN_MCP_ETCD_CERT"},
		{"etcd bad staleness", map[string]string{"BIGIN_MCP_STORE": "etcd", "BIGIN_MCP_ETCD_ENDPOINTS": "http://127.0.0.1:2379", "BIGIN_MCP_SECRET_KEY": "k", "BIGIN_MCP_ETCD_MAX_STALENESS": "10ms"}, "BIGIN_MCP_ETCD_MAX_STALENESS"},
		{"trusted proxy not an address", map[string]string{"BIGIN_MCP_TRUSTED_PROXIES": "10.0.0.0/8, proxy.internal"}, `BIGIN_MCP_TRUSTED_PROXIES: "proxy.internal" is not an IP address or CIDR prefix`},
		{"trusted proxy prefix too long", map[string]string{"BIGIN_MCP_TRUSTED_PROXIES": "10.0.0.0/33"}, `BIGIN_MCP_TRUSTED_PROXIES: "10.0.0.0/33"`},
		{"credential failures negative", map[string]string{"BIGIN_MCP_CREDENTIAL_FAILURES": "-1"}, `BIGIN_MCP_CREDENTIAL_FAILURES: "-1" is not a whole number from 0 to 10000`},
		{"credential failures not a number", map[string]string{"BIGIN_MCP_CREDENTIAL_FAILURES": "twenty"}, "BIGIN_MCP_CREDENTIAL_FAILURES"},
		{"credential failures too many", map[string]string{"BIGIN_MCP_CREDENTIAL_FAILURES": "10001"}, "BIGIN_MCP_CREDENTIAL_FAILURES"},
		{"refill without a unit", map[string]string{"BIGIN_MCP_CREDENTIAL_FAILURE_REFILL": "30"}, `BIGIN_MCP_CREDENTIAL_FAILURE_REFILL: "30" is not a duration from 1s to 24h0m0s`},
		{"refill too short", map[string]string{"BIGIN_MCP_CREDENTIAL_FAILURE_REFILL": "100ms"}, "BIGIN_MCP_CREDENTIAL_FAILURE_REFILL"},
		{"refill too long", map[string]string{"BIGIN_MCP_CREDENTIAL_FAILURE_REFILL": "25h"}, "BIGIN_MCP_CREDENTIAL_FAILURE_REFILL"},
		{"no registrations per address", map[string]string{"BIGIN_MCP_OAUTH_REGISTRATIONS_PER_ADDRESS": "0"}, `BIGIN_MCP_OAUTH_REGISTRATIONS_PER_ADDRESS: "0" is not a whole number from 1 to 100`},
		{"more registrations per address than in all", map[string]string{"BIGIN_MCP_OAUTH_REGISTRATIONS_PER_ADDRESS": "101"}, "BIGIN_MCP_OAUTH_REGISTRATIONS_PER_ADDRESS"},
		{"no document fetches per address", map[string]string{"BIGIN_MCP_CIMD_FETCHES_PER_ADDRESS": "0"}, `BIGIN_MCP_CIMD_FETCHES_PER_ADDRESS: "0" is not a whole number of at least 1`},
		{"structured-only not a boolean", map[string]string{"BIGIN_MCP_STRUCTURED_ONLY": "sometimes"}, `BIGIN_MCP_STRUCTURED_ONLY: "sometimes" is not true or false`},
		{"record URL without the record", map[string]string{"BIGIN_MCP_RECORD_URL": "{web}/bigin/org{zgid}/Home"}, `BIGIN_MCP_RECORD_URL: "{web}/bigin/org{zgid}/Home" does not name the record: it needs {id}`},
		{"record URL unknown placeholder", map[string]string{"BIGIN_MCP_RECORD_URL": "{web}/bigin/{org}/Home#/{tab}/{id}"}, "BIGIN_MCP_RECORD_URL: unknown placeholder {org}"},
		{"record URL not absolute", map[string]string{"BIGIN_MCP_RECORD_URL": "/bigin/{tab}/{id}"}, "BIGIN_MCP_RECORD_URL: \"/bigin/{tab}/{id}\" is not an absolute http or https URL once filled in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseConfig("t", nil, envOf(tt.env), io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "\n", "one line")
			assert.NotContains(t, err.Error(), "hunter2", "a password in the URL is never shown")
		})
	}
}

// TestParseConfigPerAddressLimits: the trusted proxies and the
// per-address bounds come from their variables and flags.
func TestParseConfigPerAddressLimits(t *testing.T) {
	t.Parallel()
	c, err := parseConfig("t", []string{"--credential-failure-refill", "1m"}, envOf(map[string]string{
		"BIGIN_MCP_TRUSTED_PROXIES":                 " 10.0.0.0/8, 192.0.2.1,, fd00::/8 ",
		"BIGIN_MCP_CREDENTIAL_FAILURES":             "5",
		"BIGIN_MCP_CREDENTIAL_FAILURE_REFILL":       "10s",
		"BIGIN_MCP_OAUTH_REGISTRATIONS_PER_ADDRESS": "100",
		"BIGIN_MCP_CIMD_FETCHES_PER_ADDRESS":        "7",
	}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "10.0.0.0/8,192.0.2.1/32,fd00::/8", c.TrustedProxies.String())
	assert.Equal(t, ratelimit.Limit{Requests: 5, Per: 5 * time.Minute}, c.credentialFailures(), "5, one back every minute: the flag wins")
	assert.Equal(t, 100, c.RegistrationsPerAddress)
	assert.Equal(t, 7, c.CIMDFetchesPerAddress)

	c, err = parseConfig("t", []string{"--credential-failures", "0", "--trusted-proxies", "::1"}, envOf(nil), io.Discard)
	require.NoError(t, err)
	assert.False(t, c.credentialFailures().Valid(), "0 turns the budget off")
	assert.Equal(t, "::1/128", c.TrustedProxies.String())
}

func TestParseConfigMetricsAndRetention(t *testing.T) {
	t.Parallel()
	c, err := parseConfig("t", nil, envOf(nil), io.Discard)
	require.NoError(t, err)
	assert.Empty(t, c.MetricsAddr, "metrics are off by default")
	assert.Equal(t, 90*24*time.Hour, c.AuditRetention, "90 days by default")

	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		metrics   string
		retention time.Duration
		err       string
	}{
		{name: "metrics address", env: map[string]string{"BIGIN_MCP_METRICS_ADDR": "127.0.0.1:9090"}, metrics: "127.0.0.1:9090", retention: 90 * 24 * time.Hour},
		{name: "flag wins", env: map[string]string{"BIGIN_MCP_METRICS_ADDR": "127.0.0.1:9090"}, args: []string{"--metrics-addr", ":9100"}, metrics: ":9100", retention: 90 * 24 * time.Hour},
		{name: "days", env: map[string]string{"BIGIN_MCP_AUDIT_RETENTION": "30d"}, retention: 30 * 24 * time.Hour},
		{name: "a Go duration", args: []string{"--audit-retention", "36h"}, retention: 36 * time.Hour},
		{name: "forever", env: map[string]string{"BIGIN_MCP_AUDIT_RETENTION": "0"}, retention: -1},
		{name: "bad metrics address", env: map[string]string{"BIGIN_MCP_METRICS_ADDR": "9090"}, err: `BIGIN_MCP_METRICS_ADDR: "9090" is not host:port`},
		{name: "no unit", env: map[string]string{"BIGIN_MCP_AUDIT_RETENTION": "90"}, err: "BIGIN_MCP_AUDIT_RETENTION: \"90\" is not a retention such as 90d or 36h"},
		{name: "too short", env: map[string]string{"BIGIN_MCP_AUDIT_RETENTION": "10m"}, err: "BIGIN_MCP_AUDIT_RETENTION: \"10m\" is shorter than an hour"},
		{name: "bad days", env: map[string]string{"BIGIN_MCP_AUDIT_RETENTION": "-3d"}, err: "BIGIN_MCP_AUDIT_RETENTION: \"-3d\" is not a number of days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := parseConfig("t", tt.args, envOf(tt.env), io.Discard)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.metrics, c.MetricsAddr)
			assert.Equal(t, tt.retention, c.AuditRetention)
		})
	}
}

func TestParseConfigEtcd(t *testing.T) {
	t.Parallel()
	c, err := parseConfig("t", []string{"--etcd-max-staleness", "5s"}, envOf(map[string]string{
		"BIGIN_MCP_STORE": "etcd", "BIGIN_MCP_ETCD_ENDPOINTS": "https://etcd-1:2379, https://etcd-2:2379",
		"BIGIN_MCP_SECRET_KEY": "k", "BIGIN_MCP_ETCD_USERNAME": "bigin", "BIGIN_MCP_ETCD_PASSWORD": "pw",
	}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "etcd", c.Store)
	assert.Equal(t, []string{"https://etcd-1:2379", "https://etcd-2:2379"}, c.Etcd.Endpoints)
	assert.Equal(t, "/bigin-mcp/", c.EtcdPrefix)
	assert.Equal(t, "bigin", c.Etcd.Username)
	assert.Equal(t, 5*time.Second, c.MaxStaleness, "a flag wins over the default")

	c, err = parseConfig("t", nil, envOf(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "bbolt", c.Store, "bbolt is the default")
}

// otherVariables are the BIGIN_MCP_* names in the repository that are
// not settings of the server, with what reads them. They are documented
// where their reader is, never in docs/configuration.md.
var otherVariables = map[string]string{
	"BIGIN_MCP_CHROMIUM":            "internal/ui's browser test: the Chromium binary to drive (docs/testing.md)",
	"BIGIN_MCP_TEST_RUN_AS_BINARY":  "this package's tests: the test binary runs as bigin-mcp in a child process",
	"BIGIN_MCP_LOAD_ADMIN_TOKEN":    "cmd/bigin-mcp-load: the admin token of the server under load",
	"BIGIN_MCP_LOAD_ACCESS_TOKEN":   "cmd/bigin-mcp-load: the sandbox access token",
	"BIGIN_MCP_LOAD_REFRESH_TOKENS": "cmd/bigin-mcp-load: the sandbox refresh tokens",
	"BIGIN_MCP_BIN":                 "testdata/clients: the bigin-mcp binary the client suite runs",
	"BIGIN_MCP_URL":                 "testdata/examples/langchain: the server's base URL",
	"BIGIN_MCP_API_TOKEN":           "testdata/examples/langchain: an API token with the REST scopes",
	"BIGIN_MCP_PORT":                "this package's TestShellBlockRecorderCatchesAnAssignmentCutOff: a name the server does not read",
}

// variableName finds BIGIN_MCP_* names; one ending in "_" is a family
// (BIGIN_MCP_ETCD_*), not a name.
var variableName = regexp.MustCompile(`BIGIN_MCP_[A-Z0-9_]*[A-Z0-9]\b`)

// settingsByEnv is the configuration table by variable.
func settingsByEnv() map[string]setting {
	out := map[string]setting{}
	for _, s := range (&config{}).settings() {
		out[s.env] = s
	}
	return out
}

// TestConfigurationDocsMatchTheTable: docs/configuration.md documents
// every setting of the table (a row of its table with the variable and
// its default, and the flag), and every BIGIN_MCP_* name it mentions is a
// setting.
func TestConfigurationDocsMatchTheTable(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/configuration.md")
	require.NoError(t, err)
	rows := map[string]string{} // each variable's row of the table
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(line, "| `BIGIN_MCP_") {
			continue
		}
		first := strings.SplitN(line, "|", 3)[1] // the variables of the row
		for _, name := range variableName.FindAllString(first, -1) {
			rows[name] = line
		}
	}
	settings := settingsByEnv()
	for env, s := range settings {
		row, ok := rows[env]
		if !assert.True(t, ok, "docs/configuration.md has no table row for %s", env) {
			continue
		}
		if s.def != "" {
			assert.Contains(t, row, "`"+s.def+"`", "the row of %s gives its default", env)
		}
		assert.Contains(t, string(doc), "`--"+s.flag+"`", "docs/configuration.md lists the flag of %s", env)
	}
	for _, name := range variableName.FindAllString(string(doc), -1) {
		_, ok := settings[name]
		assert.True(t, ok, "docs/configuration.md mentions %s, which is no setting of the table in config.go", name)
	}
}

// TestEveryVariableIsASetting: every BIGIN_MCP_* name anywhere in the
// repository (code, scripts, docs) is a setting of the table or one of
// otherVariables, so no document or script sets a variable the server
// does not read.
func TestEveryVariableIsASetting(t *testing.T) {
	t.Parallel()
	settings := settingsByEnv()
	seen := map[string]bool{}
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "node_modules" || (strings.HasPrefix(name, ".") && path != root && name != ".ci") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".mjs", ".js", ".json", ".sh", ".yml", ".yaml", "":
		default:
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil || bytes.IndexByte(b, 0) >= 0 {
			return err // a binary (a build left in the tree) is no text
		}
		for _, name := range variableName.FindAllString(string(b), -1) {
			seen[name] = true
			_, setting := settings[name]
			_, other := otherVariables[name]
			assert.True(t, setting || other, "%s names %s, which is neither a setting (config.go) nor in otherVariables", path, name)
		}
		return nil
	})
	require.NoError(t, err)
	for name := range otherVariables {
		assert.True(t, seen[name], "%s is listed in otherVariables but appears nowhere: remove it", name)
		_, clash := settings[name]
		assert.False(t, clash, "%s is a setting and in otherVariables", name)
	}
}

// boundSettings are the settings that set a bound the server enforces
// on what a client can make it hold or do: docs/limits.md lists each.
var boundSettings = []string{
	"BIGIN_MCP_BODY_TIMEOUT", "BIGIN_MCP_MAX_RESULT_CHARS",
	"BIGIN_MCP_SSE_MAX_STREAMS", "BIGIN_MCP_SSE_MAX_STREAMS_PER_URL", "BIGIN_MCP_SSE_MAX_ANSWERS_IN_FLIGHT", "BIGIN_MCP_SSE_WRITE_TIMEOUT",
	"BIGIN_MCP_ETCD_MAX_STALENESS", "BIGIN_MCP_TRUSTED_PROXIES",
	"BIGIN_MCP_CREDENTIAL_FAILURES", "BIGIN_MCP_CREDENTIAL_FAILURE_REFILL",
	"BIGIN_MCP_OAUTH_REGISTRATIONS_PER_ADDRESS", "BIGIN_MCP_CIMD_FETCHES_PER_ADDRESS",
	"BIGIN_MCP_AUDIT_RETENTION",
}

// TestLimitsDocNamesEveryBoundSetting: docs/limits.md, the page of every
// bound the server enforces, names the setting of each bound that has
// one.
func TestLimitsDocNamesEveryBoundSetting(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/limits.md")
	require.NoError(t, err)
	settings := settingsByEnv()
	for _, env := range boundSettings {
		_, ok := settings[env]
		require.True(t, ok, "%s is a setting of the table", env)
		assert.Contains(t, string(doc), "`"+env+"`", "docs/limits.md names %s", env)
	}
}
