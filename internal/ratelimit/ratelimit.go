// Package ratelimit keeps the call budgets of MCP URLs and accounts in
// memory: one token bucket per key, taken from atomically across the keys
// a call is subject to. Budgets are per process; replicas do not share
// them.
package ratelimit

import (
	"math"
	"sync"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/clock"
)

// Limit is a budget: Requests calls per Per, as a bucket of Requests
// calls refilled continuously at Requests/Per.
type Limit struct {
	Requests int
	Per      time.Duration
}

// Valid reports whether the limit limits anything.
func (l Limit) Valid() bool { return l.Requests > 0 && l.Per > 0 }

// Key names a bucket and the limit it is held to.
type Key struct {
	Name  string
	Limit Limit
}

// Decision is the outcome of Take for the tightest of the keys: the one
// that refused the call, or else the one with the fewest calls left.
type Decision struct {
	Allowed bool
	// Limit and Remaining are the tightest bucket's size and the whole
	// calls left in it after this call.
	Limit     int
	Remaining int
	// Reset is how long until that bucket is full again.
	Reset time.Duration
	// RetryAfter, for a refused call, is how long until the bucket holds
	// a whole call again.
	RetryAfter time.Duration
	// Key is the name of the tightest bucket.
	Key string
}

// Limiter holds the buckets. The zero value is not usable; use New.
type Limiter struct {
	clock clock.Clock

	mu      sync.Mutex
	buckets map[string]*bucket
	takes   int // since the last prune
}

type bucket struct {
	limit  Limit
	tokens float64
	at     time.Time
}

// pruneEvery is how many takes pass between sweeps of full buckets, which
// are the same as absent ones: memory stays bounded by the keys in use.
const pruneEvery = 4096

// New returns a Limiter on clk (nil: the system clock).
func New(clk clock.Clock) *Limiter {
	return &Limiter{clock: clock.OrSystem(clk), buckets: map[string]*bucket{}}
}

// Take spends one call from every key's bucket if each has one, or from
// none. Keys with an invalid limit are ignored; with no valid key the call
// is allowed and the Decision's Limit is 0.
func (l *Limiter) Take(keys ...Key) Decision {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.takes++
	if l.takes >= pruneEvery {
		l.takes = 0
		l.pruneLocked(now)
	}
	var live []*bucket
	var names []string
	for _, k := range keys {
		if !k.Limit.Valid() {
			continue
		}
		b := l.buckets[k.Name]
		if b == nil {
			b = &bucket{limit: k.Limit, tokens: float64(k.Limit.Requests), at: now}
			l.buckets[k.Name] = b
		}
		b.refill(now, k.Limit)
		live = append(live, b)
		names = append(names, k.Name)
	}
	d := Decision{Allowed: true}
	if len(live) == 0 {
		return d
	}
	for i, b := range live {
		if b.tokens < 1 {
			wait := b.until(1)
			if d.Allowed || wait > d.RetryAfter {
				d = Decision{Limit: b.limit.Requests, Remaining: 0, Reset: b.until(float64(b.limit.Requests)), RetryAfter: wait, Key: names[i]}
			}
		}
	}
	if !d.Allowed {
		return d
	}
	best := -1
	for i, b := range live {
		b.tokens--
		if best < 0 || b.tokens < live[best].tokens {
			best = i
		}
	}
	b := live[best]
	return Decision{Allowed: true, Limit: b.limit.Requests, Remaining: int(math.Floor(b.tokens)),
		Reset: b.until(float64(b.limit.Requests)), Key: names[best]}
}

// refill brings the bucket to now under limit lim; a changed limit keeps
// the calls spent (capped at the new size).
func (b *bucket) refill(now time.Time, lim Limit) {
	if b.limit != lim {
		b.limit = lim
		b.tokens = min(b.tokens, float64(lim.Requests))
	}
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(float64(b.limit.Requests), b.tokens+elapsed.Seconds()*b.rate())
	}
	b.at = now
}

// rate is calls refilled per second.
func (b *bucket) rate() float64 { return float64(b.limit.Requests) / b.limit.Per.Seconds() }

// until is how long until the bucket holds n calls, rounded up to the
// millisecond.
func (b *bucket) until(n float64) time.Duration {
	if b.tokens >= n {
		return 0
	}
	secs := (n - b.tokens) / b.rate()
	return time.Duration(math.Ceil(secs*1000)) * time.Millisecond
}

func (l *Limiter) pruneLocked(now time.Time) {
	for name, b := range l.buckets {
		b.refill(now, b.limit)
		if b.tokens >= float64(b.limit.Requests) {
			delete(l.buckets, name)
		}
	}
}

// Len returns how many buckets are held (for tests and metrics).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
