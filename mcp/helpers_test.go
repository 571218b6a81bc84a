package mcp_test

import (
	"testing"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
)

// newEnv is the real stack on loopback with a sandbox Bigin per
// datacenter (default "us").
func newEnv(t testing.TB, dcKeys ...string) *apptest.Env {
	t.Helper()
	return apptest.New(t, apptest.Options{Datacenters: dcKeys})
}
