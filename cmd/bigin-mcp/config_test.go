package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

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
	assert.True(t, c.StructuredOnly, "2026-07-28 clients get structuredContent alone by default")
	_, err = c.Datacenters.Get("ca")
	assert.NoError(t, err, "built-in datacenters are loaded")

	c, err = parseConfig("t", []string{"--addr", "0.0.0.0:9000", "--log-level", "debug"},
		envOf(map[string]string{"BIGIN_MCP_ADDR": "127.0.0.1:1", "BIGIN_MCP_PUBLIC_URL": "https://mcp.example.com/", "BIGIN_MCP_MAX_RESULT_CHARS": "20000"}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 20000, c.MaxResultChars, "from the variable")
	assert.Equal(t, "0.0.0.0:9000", c.Addr, "a flag wins over the variable")
	assert.Equal(t, "https://mcp.example.com", c.PublicURL)
	assert.Equal(t, slog.LevelDebug, c.LogLevel)

	c, err = parseConfig("t", []string{"--max-result-chars", "120000"}, envOf(map[string]string{"BIGIN_MCP_MAX_RESULT_CHARS": "20000"}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 120000, c.MaxResultChars, "the flag wins")

	c, err = parseConfig("t", nil, envOf(map[string]string{"BIGIN_MCP_STRUCTURED_ONLY": "false"}), io.Discard)
	require.NoError(t, err)
	assert.False(t, c.StructuredOnly, "from the variable")
	c, err = parseConfig("t", []string{"--structured-only=true"}, envOf(map[string]string{"BIGIN_MCP_STRUCTURED_ONLY": "false"}), io.Discard)
	require.NoError(t, err)
	assert.True(t, c.StructuredOnly, "the flag wins")
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
