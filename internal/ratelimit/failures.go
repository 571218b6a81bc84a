package ratelimit

import (
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/clock"
)

// FailureBudget counts failed credential checks (a wrong sign-in token,
// an unknown bearer token) per client address: an address may fail
// Limit.Requests times, and gets one failure back every Limit.Per /
// Limit.Requests. An address whose budget is spent is blocked until a
// failure comes back, whether its next attempt would succeed or not, so
// guessing costs the guesser time and the server no token checks.
// Memory follows the addresses failing now. Safe for concurrent use.
type FailureBudget struct {
	l     *Limiter
	limit Limit
}

// NewFailureBudget returns a budget of limit per address on clk (nil:
// the system clock).
func NewFailureBudget(clk clock.Clock, limit Limit) *FailureBudget {
	return &FailureBudget{l: New(clk), limit: limit}
}

// Blocked reports whether addr has spent its budget and, if so, how long
// until it may try again.
func (b *FailureBudget) Blocked(addr string) (time.Duration, bool) {
	return b.l.peek(Key{Name: addr, Limit: b.limit})
}

// Fail spends one of addr's failures and reports whether that spent the
// last of them. A failure while blocked costs nothing more.
func (b *FailureBudget) Fail(addr string) (spent bool) {
	d := b.l.Take(Key{Name: addr, Limit: b.limit})
	return d.Allowed && d.Remaining == 0
}

// peek reports whether k's bucket lacks a whole call, and how long until
// it holds one, without spending anything or keeping a new bucket.
func (l *Limiter) peek(k Key) (time.Duration, bool) {
	if !k.Limit.Valid() {
		return 0, false
	}
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[k.Name]
	if b == nil {
		return 0, false
	}
	b.refill(now, k.Limit)
	if b.tokens >= 1 {
		return 0, false
	}
	return b.until(1), true
}
