// Package store persists bigin-mcp's state in a bbolt file: integrated
// accounts, MCP servers (minted URLs), API tokens, connect links, OAuth
// clients and grants, the ACME cache and the audit log. Secrets are sealed
// with AES-256-GCM before they touch disk, and every change is one bbolt
// transaction, so an acknowledged write survives a crash.
//
// The rules of every record are not here: they are written once, for
// every backend, in store/internal/kv. This package is the one that
// imports bbolt: it opens the file, checks its key and schema, and gives
// the rules bbolt transactions (bolt.go).
//
// On-disk layout (schema version 1): one top-level bucket per kind, records
// as JSON keyed by their ID, plus index buckets keyed by the SHA-256 of a
// token:
//
//	meta                schema_version → "1"; key_check → a sealed constant
//	accounts            id → account JSON; client secret, refresh and access
//	                    tokens only as *_sealed fields
//	mcp_servers         id → server JSON
//	mcp_token_index     token hash → server id
//	mcp_by_account      account id + "\x00" + server id → empty
//	api_tokens          id → token JSON;  api_token_index     hash → id
//	connect_links       id → link JSON;   connect_link_index  hash → id
//	audit               entry id (uuid v7, so time order) → entry JSON;
//	                    the bucket's sequence counts the entries
//	cache               key → sealed value (tokens.CacheStore: ACME account
//	                    keys and certificates); added without a schema
//	                    change, since older binaries ignore the bucket
//	oauth_clients       client id → client JSON
//	oauth_grants        grant id → grant JSON (hashes of its tokens only);
//	                    oauth_grant_index  hash → grant id;
//	                    oauth_grants_by_server  server id + "\x00" + grant id → empty
//
// A sealed value is 0x01 || 12-byte random nonce || AES-256-GCM ciphertext
// and tag, with "kind\x00record id\x00field" as additional data, so it
// cannot be moved to another record or field. Listings are in ID order,
// which is creation order when IDs are uuid v7 (as callers should use).
package store
