// Package httpx is the HTTP plumbing every surface of bigin-mcp shares: the
// request log (with tokens redacted from paths), bearer parsing, the one
// JSON error shape and its status codes, request body limits (size, and a
// read deadline that no slow client can stretch) and decoding, the
// client address behind trusted proxies (TrustedProxies), list paging,
// and the route table every surface registers on (Routes).
//
// It knows the policy's error codes (tokens.Error) and maps them to HTTP
// statuses; nothing below HTTP knows a status code.
package httpx
