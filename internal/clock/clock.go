// Package clock is the one source of time for everything in bigin-mcp
// whose behaviour depends on it (expiry, token lifetimes, audit times,
// stream deadlines), so tests can move time instead of waiting for it.
package clock

import "time"

// Clock tells the time and runs functions later.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed, unless
	// the returned Timer is stopped first.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc.
type Timer interface {
	// Stop prevents the call if it has not happened yet and reports
	// whether it did so.
	Stop() bool
}

// System is the real clock.
type System struct{}

// Now returns time.Now().
func (System) Now() time.Time { return time.Now() }

// AfterFunc is time.AfterFunc.
func (System) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// OrSystem returns c, or the system clock when c is nil.
func OrSystem(c Clock) Clock {
	if c == nil {
		return System{}
	}
	return c
}
