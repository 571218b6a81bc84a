package bigin

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// rateLimitOf reads the rate-limit headers of h, and how long to wait.
//
// No source shows rate-limit headers on Bigin answers;
// Zoho Books sends X-Rate-Limit-Limit/-Remaining/-Reset, and many APIs send
// X-RateLimit-*. Both spellings are read, none is required. Reset is read
// as a Unix time when it is that large (seconds, or milliseconds), else as
// seconds from now. Retry-After is seconds or an HTTP date.
func rateLimitOf(h http.Header, now time.Time) (*RateLimit, time.Duration) {
	get := func(name string) string {
		if v := h.Get("X-RateLimit-" + name); v != "" {
			return strings.TrimSpace(v)
		}
		return strings.TrimSpace(h.Get("X-Rate-Limit-" + name))
	}
	limit, lerr := strconv.Atoi(get("Limit"))
	remaining, rerr := strconv.Atoi(get("Remaining"))
	reset, ok := parseReset(get("Reset"), now)
	var rl *RateLimit
	if lerr == nil || rerr == nil || ok {
		rl = &RateLimit{Limit: limit, Remaining: remaining, Reset: reset}
	}
	var wait time.Duration
	if ra := strings.TrimSpace(h.Get("Retry-After")); ra != "" {
		if n, err := strconv.Atoi(ra); err == nil && n > 0 {
			wait = time.Duration(n) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil && t.After(now) {
			wait = t.Sub(now)
		}
	}
	if wait == 0 && ok && reset.After(now) {
		wait = reset.Sub(now)
	}
	return rl, wait
}

func parseReset(v string, now time.Time) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		if t, err := http.ParseTime(v); err == nil {
			return t, true
		}
		return time.Time{}, false
	}
	switch {
	case n >= 1e12:
		return time.UnixMilli(n), true
	case n >= 1e9:
		return time.Unix(n, 0), true
	}
	return now.Add(time.Duration(n) * time.Second), true
}
