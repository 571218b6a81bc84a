// Package sandbox is a fake Zoho for tests and the demo command: one
// Sandbox is one datacenter, serving both its accounts server (OAuth
// consent and token endpoints) and its Bigin API (/bigin/v1 and /bigin/v2)
// from one http.Handler.
//
// It seeds a realistic organization (hundreds of users of every type and
// status, a role hierarchy, default and custom profiles), answers with
// Zoho's shapes, statuses and error bodies, and has switches for the
// faults a client must survive: 429 with rate-limit headers, errors in 200
// bodies, 5xx, garbage, latency, expired and revoked tokens, and the token
// endpoint's throttle. It is a test double: nothing in the production path
// uses it unless configured to.
package sandbox
