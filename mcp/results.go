package mcp

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
	"unsafe"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bigin-mcp/bigin-mcp/bigin"
)

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

// success is a tool result whose text content and structured content are the
// same bytes, encoded once (see github-mcp-server's structured mirror). The
// text shares body's memory instead of copying a page of records again:
// body is built for this result alone and nothing writes to it afterwards,
// which is what unsafe.String requires.
func success(body []byte) *sdk.CallToolResult {
	var text string
	if len(body) > 0 {
		text = unsafe.String(unsafe.SliceData(body), len(body))
	}
	return &sdk.CallToolResult{
		Content:           []sdk.Content{&sdk.TextContent{Text: text}},
		StructuredContent: json.RawMessage(body),
	}
}

// toolError is the structured form of a failure a model can act on (SPEC §6).
type toolError struct {
	Status            int        `json:"status"`
	Code              string     `json:"code"`
	Message           string     `json:"message"`
	RetryAfterSeconds *float64   `json:"retry_after_seconds,omitempty"`
	RateLimit         *rateLimit `json:"ratelimit,omitempty"`
}

type rateLimit struct {
	Limit     int    `json:"limit"`
	Remaining int    `json:"remaining"`
	Reset     string `json:"reset,omitempty"`
}

// Codes of failures that are not Zoho's own.
const (
	codeReauth      = "reauthorization_required"
	codeBadCursor   = "invalid_cursor"
	codeUnavailable = "upstream_unavailable"
	codeInternal    = "internal"
)

// failure turns an error from a tool handler into a tool result with
// isError, a text a model can act on, and the structured error. The text
// never holds a token or secret: errors from bigin carry none.
func failure(tool string, args toolArgs, err error) (*sdk.CallToolResult, *toolError) {
	te, hint := classify(tool, args, err)
	text := te.Message
	if hint != "" {
		text += " " + hint
	}
	body, _ := json.Marshal(map[string]any{"error": te})
	return &sdk.CallToolResult{
		IsError:           true,
		Content:           []sdk.Content{&sdk.TextContent{Text: text + "\n" + string(body)}},
		StructuredContent: json.RawMessage(body),
	}, te
}

func classify(tool string, args toolArgs, err error) (*toolError, string) {
	var apiErr *bigin.APIError
	var cerr *cursorError
	switch {
	case errors.Is(err, bigin.ErrRefreshRefused):
		return &toolError{Status: http.StatusUnauthorized, Code: codeReauth,
				Message: "Zoho refused this account's authorization (its refresh token was revoked or expired)."},
			"An administrator must reconnect the Bigin account (send the customer a new connect link, or PATCH the integrated account with a new refresh token); retrying will not help until then."
	case errors.As(err, &cerr):
		return &toolError{Status: http.StatusBadRequest, Code: codeBadCursor, Message: cerr.Error()},
			"Call the tool again without next_cursor to start from the first page, and pass back next_cursor only with the same arguments."
	case errors.As(err, &apiErr):
		te := &toolError{Status: apiErr.Status, Code: apiErr.Code, Message: fmt.Sprintf("Zoho Bigin answered %d %s: %s", apiErr.Status, apiErr.Code, apiErr.Message)}
		if apiErr.RateLimit != nil {
			te.RateLimit = &rateLimit{Limit: apiErr.RateLimit.Limit, Remaining: apiErr.RateLimit.Remaining}
			if !apiErr.RateLimit.Reset.IsZero() {
				te.RateLimit.Reset = apiErr.RateLimit.Reset.UTC().Format(time.RFC3339)
			}
		}
		if apiErr.RetryAfter > 0 {
			s := math.Ceil(apiErr.RetryAfter.Seconds())
			te.RetryAfterSeconds = &s
		}
		return te, hintFor(tool, args, apiErr, te)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &toolError{Status: http.StatusGatewayTimeout, Code: codeUnavailable, Message: "Zoho Bigin did not answer in time."},
			"Try again in a moment."
	default:
		return &toolError{Status: http.StatusBadGateway, Code: codeUnavailable, Message: "Zoho Bigin could not be reached: " + err.Error()},
			"Try again in a moment."
	}
}

func hintFor(tool string, args toolArgs, e *bigin.APIError, te *toolError) string {
	switch {
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
	case e.Code == "INVALID_DATA" && args.ID != "":
		return fmt.Sprintf("No user with id %s exists in this organization; use list_all_zohobigin_users to find valid ids.", args.ID)
	case e.Code == "ID_ALREADY_DELETED":
		return "The user is already deleted; nothing more to do."
	case e.Code == "INVALID_REQUEST" && tool == "delete_a_zohobigin_user_by_id":
		return "Zoho will not delete this user (the primary contact cannot be deleted; make another user the primary contact first)."
	case e.Code == "NO_PERMISSION" || e.Code == "OAUTH_SCOPE_MISMATCH" || e.Code == "AUTHORIZATION_FAILED":
		return "The connected Zoho user lacks the permission or OAuth scope for this; an administrator must reconnect with a user and scopes that allow it."
	case e.Status >= 500:
		return "Zoho had an internal problem; try again in a moment."
	}
	return ""
}
