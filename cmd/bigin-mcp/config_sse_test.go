package main

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The bounds on what a legacy SSE session holds: their defaults, a flag
// over its variable, and one clear line for a bad value.
func TestSSESessionSettings(t *testing.T) {
	c, err := parseConfig("t", nil, envOf(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 16, c.MaxSSEAnswersInFlight)
	assert.Equal(t, 30*time.Second, c.SSEWriteTimeout)

	c, err = parseConfig("t", []string{"--sse-max-answers-in-flight", "4"},
		envOf(map[string]string{"BIGIN_MCP_SSE_MAX_ANSWERS_IN_FLIGHT": "8", "BIGIN_MCP_SSE_WRITE_TIMEOUT": "1m"}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 4, c.MaxSSEAnswersInFlight, "the flag wins")
	assert.Equal(t, time.Minute, c.SSEWriteTimeout)

	for env, bad := range map[string]string{
		"BIGIN_MCP_SSE_MAX_ANSWERS_IN_FLIGHT": "0",
		"BIGIN_MCP_SSE_WRITE_TIMEOUT":         "30",
	} {
		_, err := parseConfig("t", nil, envOf(map[string]string{env: bad}), io.Discard)
		require.Error(t, err, env)
		assert.Contains(t, err.Error(), env)
		assert.NotContains(t, err.Error(), "\n", "one line")
	}
	_, err = parseConfig("t", nil, envOf(map[string]string{"BIGIN_MCP_SSE_WRITE_TIMEOUT": "0s"}), io.Discard)
	require.Error(t, err)
}
