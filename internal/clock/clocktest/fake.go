// Package clocktest provides the one fake clock every test shares.
package clocktest

import (
	"sort"
	"sync"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/clock"
)

// Fake is a clock that moves only when told to. Functions scheduled with
// AfterFunc run (each in its own goroutine) when Advance or Set moves the
// time to or past their deadline. It is safe for concurrent use.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	timers []*timer
}

var _ clock.Clock = (*Fake)(nil)

// New returns a fake clock set to start (a fixed, whole-second time when
// start is zero).
func New(start time.Time) *Fake {
	if start.IsZero() {
		start = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	}
	return &Fake{now: start}
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the clock forward by d and fires the timers that are due.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
	f.fire()
}

// Set moves the clock to t (forward or back) and fires the timers that
// are due.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.now = t
	f.mu.Unlock()
	f.fire()
}

// AfterFunc schedules fn for when the clock reaches now+d; a d of zero or
// less fires at once.
func (f *Fake) AfterFunc(d time.Duration, fn func()) clock.Timer {
	f.mu.Lock()
	t := &timer{f: f, at: f.now.Add(d), fn: fn}
	f.timers = append(f.timers, t)
	f.mu.Unlock()
	f.fire()
	return t
}

// Pending reports how many timers are waiting, so a test can tell that the
// code under test has scheduled one before it moves the clock.
func (f *Fake) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

func (f *Fake) fire() {
	f.mu.Lock()
	var due []*timer
	kept := f.timers[:0]
	for _, t := range f.timers {
		if !t.at.After(f.now) {
			due = append(due, t)
		} else {
			kept = append(kept, t)
		}
	}
	f.timers = kept
	f.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		go t.fn()
	}
}

type timer struct {
	f  *Fake
	at time.Time
	fn func()
}

func (t *timer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	for i, o := range t.f.timers {
		if o == t {
			t.f.timers = append(t.f.timers[:i], t.f.timers[i+1:]...)
			return true
		}
	}
	return false
}
