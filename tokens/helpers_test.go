package tokens_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/internal/clock/clocktest"
)

// envOption adjusts the stack's configuration.
type envOption = func(*app.Config)

// newTestEnv is the real stack with the public URL
// https://mcp.example.com, the fake clock at 2026-03-01 12:00 UTC, and no
// server OAuth client.
func newTestEnv(t testing.TB, opts ...envOption) *apptest.Env {
	t.Helper()
	return newTestEnvWithClock(t, newTestClock(), opts...)
}

func newTestEnvWithClock(t testing.TB, clock *clocktest.Fake, opts ...envOption) *apptest.Env {
	t.Helper()
	return apptest.New(t, apptest.Options{
		PublicURL: "https://mcp.example.com",
		Clock:     clock,
		Config: func(c *app.Config) {
			// No server OAuth client unless a test configures one.
			c.ZohoClientID, c.ZohoClientSecret = "", ""
			for _, o := range opts {
				o(c)
			}
		},
	})
}

func newTestClock() *clocktest.Fake {
	return clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

func mustDatacenters(t testing.TB, spec string) bigin.Datacenters {
	t.Helper()
	d, err := bigin.ParseDatacenters(spec)
	require.NoError(t, err)
	return d
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
