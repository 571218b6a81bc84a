package admin_test

import (
	"testing"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/internal/clock/clocktest"
)

// newTestEnv is the real stack with the public URL
// https://mcp.example.com, the fake clock at 2026-03-01 12:00 UTC, and no
// server OAuth client.
func newTestEnv(t testing.TB) *apptest.Env {
	t.Helper()
	return apptest.New(t, apptest.Options{
		PublicURL: "https://mcp.example.com",
		Clock:     clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)),
		Config:    func(c *app.Config) { c.ZohoClientID, c.ZohoClientSecret = "", "" },
	})
}
