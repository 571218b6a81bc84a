package catalog

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/internal/ratelimit"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Quota is the state of the tightest rate limit a call was subject to,
// for a surface that reports it (the REST face answers with the
// RateLimit-* headers and, when refused, 429 with Retry-After).
type Quota struct {
	// Limit is the size of the limit's budget, Remaining the whole calls
	// left in it.
	Limit     int
	Remaining int
	// Reset is how long until the budget is whole again.
	Reset time.Duration
	// RetryAfter is set when the call was refused: how long until one
	// call is allowed again.
	RetryAfter time.Duration
}

// Refused reports whether the call was over the limit.
func (q *Quota) Refused() bool { return q != nil && q.RetryAfter > 0 }

// SetHeaders writes the quota as RateLimit-Limit, RateLimit-Remaining and
// RateLimit-Reset (seconds), plus Retry-After (seconds) when the call was
// refused: the headers Zoho's 429 answers carry, in the IETF draft's
// names.
func (q *Quota) SetHeaders(h http.Header) {
	if q == nil {
		return
	}
	h.Set("RateLimit-Limit", strconv.Itoa(q.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(q.Remaining))
	h.Set("RateLimit-Reset", strconv.FormatInt(ceilSeconds(q.Reset), 10))
	if q.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(max(1, ceilSeconds(q.RetryAfter)), 10))
	}
}

func ceilSeconds(d time.Duration) int64 { return int64(math.Ceil(d.Seconds())) }

// Admit spends one call of the budgets that apply to who calling for the
// account (the URL's and the account's), or refuses it. It returns the
// tightest budget's quota (nil when no limit applies) and, when refused,
// the failure to answer with; nothing may then reach Zoho. Call runs it
// itself; a surface calls it for work that is not a tool call.
func (x *Executor) Admit(account *tokens.AccountInfo, who Caller) (*Quota, *Failure) {
	keys := make([]ratelimit.Key, 0, 2)
	if l := who.RateLimit; l != nil && who.ServerID != "" {
		keys = append(keys, ratelimit.Key{Name: "mcp_server:" + who.ServerID, Limit: limitOf(l)})
	}
	if l := account.RateLimit; l != nil {
		keys = append(keys, ratelimit.Key{Name: "account:" + account.ID, Limit: limitOf(l)})
	}
	if len(keys) == 0 {
		return nil, nil
	}
	d := x.limiter.Take(keys...)
	if d.Limit == 0 {
		return nil, nil
	}
	q := &Quota{Limit: d.Limit, Remaining: d.Remaining, Reset: d.Reset, RetryAfter: d.RetryAfter}
	if d.Allowed {
		return q, nil
	}
	whose, lim := "this MCP URL's", who.RateLimit
	if d.Key == "account:"+account.ID {
		whose, lim = "this Bigin account's", account.RateLimit
	}
	wait := float64(max(1, ceilSeconds(d.RetryAfter)))
	te := &ToolError{
		Status:            httpx.StatusOf(tokens.CodeRateLimited),
		Code:              tokens.CodeRateLimited,
		Message:           fmt.Sprintf("Over %s rate limit of %d calls per %d seconds; nothing was sent to Zoho.", whose, lim.Requests, lim.PerSeconds),
		RetryAfterSeconds: &wait,
		RateLimit:         &RateLimit{Limit: d.Limit, Remaining: 0, Reset: x.now().Add(d.Reset).UTC().Format(time.RFC3339)},
	}
	return q, &Failure{Error: te, Text: te.Message + fmt.Sprintf(" Wait %.0f seconds before calling again, and make fewer calls.", wait)}
}

func limitOf(l *tokens.RateLimit) ratelimit.Limit {
	return ratelimit.Limit{Requests: l.Requests, Per: l.Window()}
}
