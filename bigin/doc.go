// Package bigin is the Zoho Bigin API client of bigin-mcp: the datacenter
// table, OAuth refresh (and code exchange) against Zoho Accounts, and the
// Bigin v2 calls the MCP tools make (the directory's users, organization,
// roles and profiles; the records of Contacts, Accounts, Pipelines,
// Products, Tasks, Events and Calls: list, get, search, COQL, related
// lists, writes, notes, fields and layouts), with Zoho's error shapes
// turned into typed errors. Records stay Zoho's JSON bytes.
//
// One Client serves one integrated account for its lifetime. It caches the
// access token and refreshes it once, however many calls need it (single
// flight), retries idempotent reads on network errors and 5xx, never
// retries a write (POST, PUT, DELETE) or a 429, never refreshes on a
// missing scope (ErrScopeMismatch), and never sends a token to a host
// that is not a configured datacenter's. Nothing it returns or logs holds
// a token, a secret or a full response body.
//
// The sandbox subpackage is a fake Zoho (accounts server and Bigin API) for
// tests and the demo command.
package bigin
