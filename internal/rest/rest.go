// Package rest serves the REST face for agent frameworks and backends
// that do not speak MCP: the account's tools as plain JSON
// (/integrated-account/{id}/tools), the Unified User Directory API
// (/unified/user-directory/…), the Proxy API (/proxy/…) and the OpenAPI
// document of every HTTP API (/openapi.json). Tools run through the same
// catalog Executor as MCP; unified and proxy calls through the same
// per-account Bigin client, failure classification and audit.
package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/catalog"
	"github.com/bigin-mcp/bigin-mcp/internal/clock"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/internal/route"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Options configures New.
type Options struct {
	Service  *tokens.Service
	Catalog  *catalog.Catalog
	Executor *catalog.Executor
	// RequireScope wraps a handler so that it runs only for a valid API
	// token with the scope, the request's caller (tokens.CallerFrom); the
	// admin API's check.
	RequireScope func(scope string, h http.Handler) http.Handler
	// PublicURL is the server URL the OpenAPI document names.
	PublicURL string
	// Others are the route tables of the other HTTP APIs the OpenAPI
	// document covers (the admin API, health), registered by their
	// owners.
	Others []route.Group
	Clock  clock.Clock
	Logger *slog.Logger
}

// API is the REST face.
type API struct {
	svc     *tokens.Service
	cat     *catalog.Catalog
	exec    *catalog.Executor
	require func(scope string, h http.Handler) http.Handler
	public  string
	now     func() time.Time
	logger  *slog.Logger
	openapi []byte
}

// New returns the REST face.
func New(o Options) (*API, error) {
	if o.Service == nil || o.Catalog == nil || o.Executor == nil || o.RequireScope == nil {
		return nil, errors.New("rest: Service, Catalog, Executor and RequireScope are required")
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &API{
		svc: o.Service, cat: o.Catalog, exec: o.Executor, require: o.RequireScope,
		public: strings.TrimRight(o.PublicURL, "/"), now: clock.OrSystem(o.Clock).Now, logger: logger,
	}
	doc, err := a.document(o.Others)
	if err != nil {
		return nil, err
	}
	a.openapi = doc
	return a, nil
}

// Register mounts the REST face on mux from its table (groups). Each
// surface answers every path under its prefixes itself (a JSON 404 or 405
// for what it does not serve), after checking the API token and its
// scope; /openapi.json needs no token.
func (a *API) Register(mux httpx.Router) {
	for _, g := range a.groups() {
		g.Register(mux, a.require, a.writeErr)
	}
}

// account returns the integrated account a request names, after checking
// that the request's API token may reach it. A request without an API
// token in its context (a guard that let it through without one) is
// refused rather than let past the account limit.
func (a *API) account(ctx context.Context, id, field string) (*tokens.AccountInfo, error) {
	if id == "" {
		return nil, invalidf("%s is required: the id of the integrated account to act on", field)
	}
	c := tokens.CallerFrom(ctx)
	if c == nil || c.APIToken == nil {
		return nil, &tokens.Error{Code: tokens.CodeUnauthenticated, Message: "send Authorization: Bearer <api token>"}
	}
	if err := c.APIToken.Permit("", id); err != nil {
		return nil, err
	}
	return a.svc.AccountInfo(ctx, id)
}

// caller is who makes a call on surface, for the audit.
func caller(ctx context.Context, surface string) catalog.Caller {
	return catalog.Caller{Who: tokens.CallerFrom(ctx), Surface: surface}
}

func invalidf(format string, args ...any) *tokens.Error {
	return &tokens.Error{Code: tokens.CodeInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

func notFoundf(format string, args ...any) *tokens.Error {
	return &tokens.Error{Code: tokens.CodeNotFound, Message: fmt.Sprintf(format, args...)}
}

// query parses the query string and refuses parameters other than
// allowed, naming them.
func query(r *http.Request, allowed ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, invalidf("the query string is malformed (check its %%-escapes)")
	}
	for k := range q {
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return nil, invalidf("unknown query parameter %q; this endpoint takes none", clip(k))
			}
			return nil, invalidf("unknown query parameter %q; allowed: %s", clip(k), strings.Join(allowed, ", "))
		}
	}
	return q, nil
}

// pageArgs reads ?limit= (1–200, default 100) and ?next_cursor=.
func pageArgs(q url.Values) (catalog.Args, error) {
	var args catalog.Args
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > catalog.MaxPageSize {
			return args, invalidf("limit must be a whole number from 1 to %d", catalog.MaxPageSize)
		}
		args.Limit = n
	}
	if c := q.Get("next_cursor"); c != "" {
		args.NextCursor = &c
	}
	return args, nil
}

// maxIDLen bounds a Zoho record id (about 18 digits).
const maxIDLen = 30

// checkID refuses an id that is not Zoho's numeric id.
func checkID(id, what string) error {
	if id == "" || len(id) > maxIDLen || strings.Trim(id, "0123456789") != "" {
		return invalidf("%q is not a %s id: Zoho's ids are 1 to %d digits", clip(id), what, maxIDLen)
	}
	return nil
}

// clip keeps a client-supplied text quoted in a message short.
func clip(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "…"
	}
	return s
}

// envelope is every success answer: {"result", "next_cursor"}.
func writeEnvelope(w http.ResponseWriter, result any) {
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"result": result, "next_cursor": nil})
}

// writeBody answers 200 with JSON bytes made elsewhere.
func writeBody(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// writeErr answers with err's code and message, logging errors it does
// not know.
func (a *API) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	code, msg, known := httpx.Classify(r.Context(), err)
	if !known {
		a.logger.ErrorContext(r.Context(), "REST request failed", "method", r.Method, "route", r.Pattern, "request_id", httpx.RequestID(r.Context()), "err", err)
	}
	httpx.WriteError(w, code, msg)
}

// answer writes an operation's result: the rate-limit headers of the
// tightest limit it passed (none when no limit applies), then its failure
// or its body. A nil body is no such record (404).
func (a *API) answer(w http.ResponseWriter, res catalog.Result, byID bool) error {
	res.Quota.SetHeaders(w.Header())
	switch {
	case res.Failure != nil:
		a.writeFailure(w, res, byID)
	case res.Body == nil:
		return notFoundf("no record with this id in the integrated account's Bigin organization")
	default:
		writeBody(w, res.Body)
	}
	return nil
}

// writeFailure answers a call that failed at Zoho (or before it, for the
// account's authorization or the server's own rate limit) with the HTTP
// form of the failure:
//   - over the integrated account's rate limit: 429 rate_limited with the
//     limit's headers (set by answer) and no upstream: Zoho was not
//     called;
//   - a refused refresh token: 409 reauthorization_required;
//   - Zoho's rate limit: 429 rate_limited with ratelimit-limit,
//     ratelimit-remaining, ratelimit-reset and Retry-After, from Zoho's
//     headers in place of the account limit's (never retried by the
//     server);
//   - a cursor this server did not issue for the call: 400;
//   - Zoho's "the id given seems to be invalid" on a call for one record
//     (byID): 404;
//   - a write whose every record failed: 400 invalid_argument (409
//     conflict when they were duplicates), with each record's outcome in
//     "result" beside the error;
//   - the server's own refusals of a tool call (module_not_allowed,
//     scope_missing, idempotency_key_reused, conflict): their code's
//     status;
//   - anything else: 502 upstream_error (504 when Zoho did not answer in
//     time), with Zoho's status, code and message in "upstream".
func (a *API) writeFailure(w http.ResponseWriter, res catalog.Result, byID bool) {
	f := res.Failure
	te := f.Error
	switch {
	case res.Quota.Refused():
		httpx.WriteError(w, tokens.CodeRateLimited, f.Text)
	case f.Result != nil:
		writeWriteFailure(w, f)
	case te.Code == tokens.CodeReauthorizationRequired, te.Code == tokens.CodeModuleNotAllowed, te.Code == tokens.CodeScopeMissing,
		te.Code == tokens.CodeIdempotencyKeyReused, te.Code == tokens.CodeConflict, te.Code == tokens.CodeUnavailable, te.Code == tokens.CodeInternal:
		httpx.WriteError(w, te.Code, f.Text)
	case te.Code == tokens.CodeInvalidCursor:
		httpx.WriteError(w, tokens.CodeInvalidArgument, f.Text)
	case te.Status == http.StatusTooManyRequests || te.Code == "TOO_MANY_REQUESTS" || te.Code == "TOKEN_RATE_LIMITED" ||
		te.Code == "LIMIT_EXCEEDED" && (te.RateLimit != nil || te.RetryAfterSeconds != nil):
		for _, k := range quotaHeaderNames {
			w.Header().Del(k)
		}
		a.rateLimitHeaders(w.Header(), te)
		writeErrorUpstream(w, http.StatusTooManyRequests, tokens.CodeRateLimited, f.Text, te)
	case byID && te.Code == "INVALID_DATA":
		writeErrorUpstream(w, http.StatusNotFound, tokens.CodeNotFound, f.Text, te)
	case te.Code == tokens.CodeUpstreamUnavailable && te.Status == http.StatusGatewayTimeout:
		httpx.WriteErrorStatus(w, http.StatusGatewayTimeout, tokens.CodeUpstreamError, f.Text)
	case te.Code == tokens.CodeUpstreamUnavailable:
		httpx.WriteError(w, tokens.CodeUpstreamError, f.Text)
	default:
		writeErrorUpstream(w, http.StatusBadGateway, tokens.CodeUpstreamError, f.Text, te)
	}
}

// quotaHeaderNames are the headers of a rate limit's state.
var quotaHeaderNames = []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"}

// rateLimitHeaders sets the IETF rate-limit headers (ratelimit-limit,
// ratelimit-remaining, ratelimit-reset in seconds from now) and
// Retry-After from what Zoho said.
func (a *API) rateLimitHeaders(h http.Header, te *catalog.ToolError) {
	now := a.now()
	reset := -1.0
	if rl := te.RateLimit; rl != nil {
		h.Set("ratelimit-limit", strconv.Itoa(rl.Limit))
		h.Set("ratelimit-remaining", strconv.Itoa(rl.Remaining))
		if t, err := time.Parse(time.RFC3339, rl.Reset); err == nil {
			reset = math.Max(0, math.Ceil(t.Sub(now).Seconds()))
		}
	}
	retry := -1.0
	if te.RetryAfterSeconds != nil {
		retry = *te.RetryAfterSeconds
	}
	if reset < 0 {
		reset = retry
	}
	if retry < 0 {
		retry = reset
	}
	if reset >= 0 {
		h.Set("ratelimit-reset", strconv.FormatFloat(reset, 'f', 0, 64))
	}
	if retry >= 0 {
		h.Set("Retry-After", strconv.FormatFloat(retry, 'f', 0, 64))
	}
}

// writeWriteFailure writes a write whose every record failed: the error
// shape, with each record's outcome in "result".
func writeWriteFailure(w http.ResponseWriter, f *catalog.Failure) {
	te := f.Error
	status, code := http.StatusBadRequest, tokens.CodeInvalidArgument
	if te.Code == "DUPLICATE_DATA" {
		status, code = http.StatusConflict, tokens.CodeConflict
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error": map[string]any{
			"code": code, "message": f.Text,
			"upstream": upstream{Status: te.Status, Code: te.Code, Message: te.Message},
		},
		"result": f.Result,
	})
}

// writeErrorUpstream writes the error shape with Zoho's side of it.
func writeErrorUpstream(w http.ResponseWriter, status int, code, message string, te *catalog.ToolError) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = httpx.Encode(w, errorBody{Error: errorDetail{
		Code: code, Message: message,
		Upstream: &upstream{Status: te.Status, Code: te.Code, Message: te.Message},
	}})
}
