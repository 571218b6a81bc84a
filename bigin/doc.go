// Package bigin is the Zoho Bigin API client of bigin-mcp: the datacenter
// table, OAuth refresh (and code exchange) against Zoho Accounts, and the
// seven Bigin v2 calls the MCP tools make, with Zoho's error shapes turned
// into typed errors.
//
// One Client serves one integrated account for its lifetime. It caches the
// access token and refreshes it once, however many calls need it (single
// flight), retries idempotent reads on network errors and 5xx, never
// retries DELETE or 429, and never sends a token to a host that is not a
// configured datacenter's. Nothing it returns or logs holds a token, a
// secret or a full response body.
//
// The sandbox subpackage is a fake Zoho (accounts server and Bigin API) for
// tests and the demo command.
package bigin
