// Package sandbox is a fake Zoho for tests and the demo command: one
// Sandbox is one datacenter, serving both its accounts server (OAuth
// consent and token endpoints) and its Bigin API (/bigin/v1 and /bigin/v2)
// from one http.Handler.
//
// It seeds a realistic organization (hundreds of users of every type and
// status, a role hierarchy, default and custom profiles; on first use,
// hundreds of companies, contacts and deals across two team pipelines,
// products, tasks, events, calls and notes linked to them), serves the
// directory and record APIs (lists, search criteria, a COQL subset,
// related lists, multi-record writes with per-record errors, fields and
// layouts) with Zoho's shapes, statuses, error bodies and scope checks,
// and has switches for the faults a client must survive: 429 with
// rate-limit headers, errors in 200 bodies, 5xx, garbage, latency,
// expired and revoked tokens, and the token endpoint's throttle. Beside
// its org it holds a small other one (OtherOrgName) whose users can sign
// in at the same accounts server, as users of any org sign in at Zoho's.
// Its consent endpoint approves at once as a chosen user, or, with
// Options.SignInPage, shows a page on which a person picks who signs in.
// A link to one of its records in Bigin's web app (/bigin/org{zgid}/Home)
// opens a page that says the sandbox has no web app.
// It is a test double: nothing in the production path uses it unless
// configured to.
package sandbox
