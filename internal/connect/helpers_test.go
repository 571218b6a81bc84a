package connect_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/internal/clock/clocktest"
)

func newTestClock() *clocktest.Fake {
	return clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

// newTestEnvWithClock is the real stack with the public URL
// https://mcp.example.com, configured by opt.
func newTestEnvWithClock(t testing.TB, clock *clocktest.Fake, opt func(*app.Config)) *apptest.Env {
	t.Helper()
	return apptest.New(t, apptest.Options{PublicURL: "https://mcp.example.com", Clock: clock, Config: opt})
}

func mustDatacenters(t testing.TB, spec string) bigin.Datacenters {
	t.Helper()
	d, err := bigin.ParseDatacenters(spec)
	require.NoError(t, err)
	return d
}
