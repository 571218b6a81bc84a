// Package store persists bigin-mcp's state in a bbolt file: integrated
// accounts, MCP servers (minted URLs), API tokens, connect links and the
// audit log. Secrets are sealed with AES-256-GCM before they touch disk, and
// every change is one bbolt transaction, so an acknowledged write survives a
// crash.
package store
