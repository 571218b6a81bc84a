// Package tokens is bigin-mcp's policy: it mints and resolves MCP URL tokens
// and admin API tokens, validates what an MCP URL may do, and
// serves the admin API that manages integrated accounts and their URLs.
package tokens
