package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// DefaultMaxResultChars is the result budget when neither the server nor
// the URL sets one: 40,000 characters of result text, about 11,000 tokens
// of JSON at roughly 3.5 characters a token. Claude Code refuses a tool
// result over 25,000 tokens unless its user raises MAX_MCP_OUTPUT_TOKENS,
// claude.ai cuts a result at about 150,000 characters, and every model
// pays for what it reads; a page of 100 full Zoho user objects is about
// 95,000 characters.
const DefaultMaxResultChars = 40_000

// listEnvelopeChars is what listResult adds around the records, counting
// the longest next_cursor (quoted), so that a page that fits the budget
// still fits once its cursor is known.
var listEnvelopeChars = len(`{"result":[],"next_cursor":}`) + 2 + maxCursorLen

// page gathers the records of one list result: at most limit of them, and
// no more than fit the budget, counted in characters of the result's text
// (the text a model reads). A record larger than the whole budget is taken
// when the page is still empty, so that it comes alone rather than never.
type page struct {
	limit, budget int
	used          int // characters of the result text so far
	records       []json.RawMessage
}

func newPage(limit, budget int) *page {
	return &page{limit: limit, budget: budget, used: listEnvelopeChars, records: make([]json.RawMessage, 0, min(limit, 16))}
}

// add takes rec if the page has room for it and reports whether it did;
// once it refuses a record the page is closed and the caller's cursor
// continues at that record.
func (p *page) add(rec json.RawMessage) bool {
	if len(p.records) >= p.limit {
		return false
	}
	n := utf8.RuneCount(rec)
	if len(p.records) > 0 {
		n++ // the comma before it
		if p.used+n > p.budget {
			return false
		}
	}
	p.used += n
	p.records = append(p.records, rec)
	return true
}

// full reports whether the page holds limit records.
func (p *page) full() bool { return len(p.records) >= p.limit }

// listResult encodes {"result":[records],"next_cursor":…} around Zoho's
// record bytes without decoding or re-encoding them.
func listResult(records []json.RawMessage, next string) []byte {
	n := 40 + len(next)
	for _, r := range records {
		n += len(r) + 1
	}
	var b bytes.Buffer
	b.Grow(n)
	b.WriteString(`{"result":[`)
	for i, r := range records {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(r)
	}
	b.WriteString(`],"next_cursor":`)
	if next == "" {
		b.WriteString("null")
	} else {
		b.WriteString(strconv.Quote(next)) // cursors are base64url: Quote is valid JSON for them
	}
	b.WriteByte('}')
	return b.Bytes()
}

// recordResult encodes {"result":{record}}.
func recordResult(record json.RawMessage) []byte {
	b := make([]byte, 0, len(record)+12)
	b = append(b, `{"result":`...)
	b = append(b, record...)
	return append(b, '}')
}

// ToolError is the structured form of a failure a model can act on. Code
// is Zoho's own error code, or one of tokens' (invalid_argument,
// invalid_cursor, rate_limited, reauthorization_required,
// upstream_unavailable); Status is the HTTP status of what happened:
// Zoho's, or the one httpx gives the code.
type ToolError struct {
	Status            int        `json:"status"`
	Code              string     `json:"code"`
	Message           string     `json:"message"`
	RetryAfterSeconds *float64   `json:"retry_after_seconds,omitempty"`
	RateLimit         *RateLimit `json:"ratelimit,omitempty"`
}

// RateLimit is Zoho's rate-limit facts about a refused call.
type RateLimit struct {
	Limit     int    `json:"limit"`
	Remaining int    `json:"remaining"`
	Reset     string `json:"reset,omitempty"`
}

// Failure is a failed call as the model reads it: Error is the structured
// form ({"error": Error} is the structured result), Text says what
// happened and what to do. Result, when set, is a write's per-record
// outcomes (every record failed), given beside the error.
type Failure struct {
	Error  *ToolError
	Text   string
	Result json.RawMessage
}

// failCtx is what a failure's words draw on: the tool, its arguments and
// the account.
type failCtx struct {
	entry   *Entry
	args    any
	account string
}

// fail classifies err for the tool's failure. The text is the message
// and the hint as separate sentences.
func (fc failCtx) fail(err error) *Failure {
	te, hint := fc.classify(err)
	text := sentence(te.Message)
	if hint != "" {
		text += " " + sentence(hint)
	}
	f := &Failure{Error: te, Text: text}
	var wf *writesFailed
	if errors.As(err, &wf) {
		f.Result = wf.result
		f.Text += " " + wf.summary()
	}
	if fc.entry.Method != tokens.MethodList && fc.entry.Method != tokens.MethodGet && outcomeUnknown(err) {
		f.Text += " Zoho's answer to this write was lost, so whether it happened is not known: look the records up (list, search or get) before writing them again."
	}
	return f
}

// outcomeUnknown reports whether a write that failed with err may still
// have happened: Zoho's answer was lost (a network error, a timeout, a
// 5xx or an answer the client could not read). Refusals (4xx, a missing
// scope, a refused refresh token, arguments refused before sending) wrote
// nothing.
func outcomeUnknown(err error) bool {
	var apiErr *bigin.APIError
	var aerr *ArgsError
	var cerr *cursorError
	var wf *writesFailed
	switch {
	case err == nil, errors.As(err, &aerr), errors.As(err, &cerr), errors.As(err, &wf), errors.Is(err, bigin.ErrInvalidArgument),
		errors.Is(err, bigin.ErrRefreshRefused):
		return false
	case errors.As(err, &apiErr):
		return apiErr.Status >= 500 || apiErr.Code == bigin.CodeInvalidResponse
	}
	return true
}

// sentence ends s with a full stop unless it already ends a sentence.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "…") {
		return s
	}
	return s + "."
}

// Body returns the failure's structured result: {"error": {...}} (and a
// write's per-record "result"), without HTML escaping (a Zoho message
// quoting "<" reads as it was written).
func (f *Failure) Body() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	body := struct {
		Error  *ToolError      `json:"error"`
		Result json.RawMessage `json:"result,omitempty"`
	}{f.Error, f.Result}
	_ = enc.Encode(body)
	return bytes.TrimRight(buf.Bytes(), "\n")
}

func (fc failCtx) classify(err error) (*ToolError, string) {
	e := fc.entry
	var apiErr *bigin.APIError
	var cerr *cursorError
	var aerr *ArgsError
	var wf *writesFailed
	var lr *lookupRefused
	switch {
	case errors.As(err, &aerr):
		return &ToolError{Status: httpx.StatusOf(tokens.CodeInvalidArgument), Code: tokens.CodeInvalidArgument, Message: aerr.Error()},
			"Nothing was sent to Zoho Bigin. Call " + e.Name + " again with the arguments corrected as described; its input schema lists what each argument accepts."
	case errors.Is(err, bigin.ErrRefreshRefused):
		// 401: Zoho refused the refresh token (the REST face answers the
		// code with 409: the account, not the caller, must change).
		return &ToolError{Status: http.StatusUnauthorized, Code: tokens.CodeReauthorizationRequired,
				Message: "Zoho refused this account's authorization (its refresh token was revoked or expired)."},
			"An administrator must reconnect the Bigin account (send the customer a new connect link, or PATCH the integrated account with a new refresh token); retrying will not help until then."
	case errors.Is(err, bigin.ErrInvalidArgument):
		// The client refused a value before sending it (a field name that
		// cannot be Zoho's, a query over its length): nothing reached Zoho.
		msg := strings.TrimPrefix(err.Error(), "bigin: ")
		msg = strings.TrimPrefix(msg, bigin.ErrInvalidArgument.Error()+": ")
		return &ToolError{Status: httpx.StatusOf(tokens.CodeInvalidArgument), Code: tokens.CodeInvalidArgument, Message: msg},
			"Nothing was sent to Zoho Bigin. Call " + e.Name + " again with the arguments corrected as described."
	case errors.As(err, &cerr):
		return &ToolError{Status: httpx.StatusOf(tokens.CodeInvalidCursor), Code: tokens.CodeInvalidCursor, Message: cerr.Error()},
			"Call the tool again without next_cursor to start from the first page, and pass back next_cursor only with the same arguments."
	case errors.Is(err, bigin.ErrScopeMismatch):
		// Zoho's 401 OAUTH_SCOPE_MISMATCH is not an expired token: the
		// account stays active and keeps working for what its scopes cover.
		msg := "Zoho refused the call: this Bigin account was connected without an OAuth scope " + e.Name + " needs"
		if len(e.Scopes) > 0 {
			msg += " (it needs " + strings.Join(e.Scopes, ", ") + ")"
		}
		return &ToolError{Status: httpx.StatusOf(tokens.CodeScopeMissing), Code: tokens.CodeScopeMissing, Message: msg + "."},
			"Retrying will not help. An administrator must make a reconnect link for the account (POST /admin/connect-links with {\"account_id\": \"" + fc.account +
				"\"}, or Reconnect on the account's page of the web UI) and have a user of the Bigin organization open it and consent; connect links now ask for every scope the tools need. " +
				"The account stays active meanwhile, and the tools its scopes cover keep working."
	case errors.As(err, &wf):
		return wf.toolError(), wf.hint(e)
	case errors.As(err, &lr):
		return &ToolError{Status: httpx.StatusOf(tokens.CodeModuleNotAllowed), Code: tokens.CodeModuleNotAllowed, Message: lr.message}, lr.hint
	case errors.As(err, &apiErr):
		te := &ToolError{Status: apiErr.Status, Code: apiErr.Code, Message: sentence(fmt.Sprintf("Zoho Bigin answered %d %s: %s", apiErr.Status, apiErr.Code, apiErr.Message))}
		if apiErr.RateLimit != nil {
			te.RateLimit = &RateLimit{Limit: apiErr.RateLimit.Limit, Remaining: apiErr.RateLimit.Remaining}
			if !apiErr.RateLimit.Reset.IsZero() {
				te.RateLimit.Reset = apiErr.RateLimit.Reset.UTC().Format(time.RFC3339)
			}
		}
		if apiErr.RetryAfter > 0 {
			s := math.Ceil(apiErr.RetryAfter.Seconds())
			te.RetryAfterSeconds = &s
		}
		return te, fc.hint(apiErr, te)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &ToolError{Status: http.StatusGatewayTimeout, Code: tokens.CodeUpstreamUnavailable, Message: "Zoho Bigin did not answer in time."},
			"Try again in a moment."
	default:
		return &ToolError{Status: httpx.StatusOf(tokens.CodeUpstreamUnavailable), Code: tokens.CodeUpstreamUnavailable, Message: "Zoho Bigin could not be reached: " + err.Error()},
			"Try again in a moment."
	}
}

func (fc failCtx) hint(e *bigin.APIError, te *ToolError) string {
	t := fc.entry
	id := t.args.str(fc.args, "id")
	if id == "" {
		id = t.args.str(fc.args, "record_id") // a note's record
	}
	switch {
	case !e.RateLimited() && t.Hints[e.Code] != "" && (id != "" || !strings.Contains(t.Hints[e.Code], "{id}")):
		// The tool's own advice first: COQL's LIMIT_EXCEEDED is about
		// its LIMIT, not the organization's API credits.
		return strings.ReplaceAll(t.Hints[e.Code], "{id}", id)
	case e.RateLimited() || e.Code == "LIMIT_EXCEEDED":
		var parts []string
		if te.RateLimit != nil {
			parts = append(parts, fmt.Sprintf("Zoho's API limit: %d of %d calls remaining", te.RateLimit.Remaining, te.RateLimit.Limit))
			if te.RateLimit.Reset != "" {
				parts[0] += ", window resets at " + te.RateLimit.Reset
			}
		}
		if te.RetryAfterSeconds != nil {
			parts = append(parts, fmt.Sprintf("wait %.0f seconds before retrying", *te.RetryAfterSeconds))
		} else {
			parts = append(parts, "wait before retrying and make fewer calls (Zoho counts API credits over a rolling 24 hours)")
		}
		return "Rate limited: " + strings.Join(parts, "; ") + ". The server did not retry."
	case e.Code == "ID_ALREADY_DELETED":
		return "The user is already deleted; nothing more to do."
	case e.Code == "NO_PERMISSION" || e.Code == "OAUTH_SCOPE_MISMATCH" || e.Code == "AUTHORIZATION_FAILED":
		return "The connected Zoho user lacks the permission or OAuth scope for this; an administrator must reconnect with a user and scopes that allow it."
	case e.Status >= 500:
		return "Zoho had an internal problem; try again in a moment."
	}
	return ""
}
