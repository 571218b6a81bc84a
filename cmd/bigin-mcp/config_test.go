package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseConfigDefaultsAndOverrides(t *testing.T) {
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
	c, err = parseConfig("t", nil, envOf(map[string]string{"BIGIN_MCP_STRUCTURED_ONLY": "true"}), io.Discard)
	require.NoError(t, err)
	assert.True(t, c.StructuredOnly, "from the variable")
	c, err = parseConfig("t", []string{"--structured-only=false"}, envOf(map[string]string{"BIGIN_MCP_STRUCTURED_ONLY": "true"}), io.Discard)
	require.NoError(t, err)
	assert.False(t, c.StructuredOnly, "the flag wins")
}

func TestParseConfigErrorsNameTheVariable(t *testing.T) {
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
		{"structured-only not a boolean", map[string]string{"BIGIN_MCP_STRUCTURED_ONLY": "sometimes"}, `BIGIN_MCP_STRUCTURED_ONLY: "sometimes" is not true or false`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig("t", nil, envOf(tt.env), io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "\n", "one line")
		})
	}
}

func TestParseConfigMetricsAndRetention(t *testing.T) {
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
