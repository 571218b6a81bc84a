// Package ui serves the admin web UI under /ui/: server-rendered pages
// (html/template, embedded) for the operator's daily work — accounts,
// connect links, MCP URLs and their policy, the audit log and API tokens —
// behind a sign-in with an API token. Every change goes through
// tokens.Service, the same calls and rules as the admin API; this package
// only turns forms into those calls and their answers into pages.
//
// Security: a session cookie (HttpOnly, SameSite=Strict, Secure under
// HTTPS) whose value is kept only hashed, in this process's memory, with
// a 12-hour idle expiry; a CSRF token in every form and a refusal of
// cross-site posts; a Content-Security-Policy without inline script or
// style, and frame-ancestors 'none'. Pages work without JavaScript; the
// one script adds copy buttons and a live list of the tools a policy
// leaves.
package ui
