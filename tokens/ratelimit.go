package tokens

import "time"

// Bounds of a rate limit. A window longer than a day is better served by
// Zoho's own daily credits; a limit of more than a million calls per
// window is no limit.
const (
	MaxRateLimitRequests = 1_000_000
	MaxRateLimitSeconds  = 86_400
)

// RateLimit is a budget of tool calls: Requests calls per PerSeconds
// seconds. It is enforced as a token bucket of Requests calls that refills
// continuously at Requests/PerSeconds calls a second, so a burst of up to
// Requests calls passes at once and the sustained rate is Requests per
// PerSeconds.
type RateLimit struct {
	Requests   int `json:"requests"`
	PerSeconds int `json:"per_seconds"`
}

// Window is the limit's window as a duration.
func (l RateLimit) Window() time.Duration { return time.Duration(l.PerSeconds) * time.Second }

// IsZero reports whether l is the zero value (no limit).
func (l RateLimit) IsZero() bool { return l == RateLimit{} }

// CheckRateLimit validates a rate limit given in field (for messages).
// A nil limit is valid: there is none.
func CheckRateLimit(l *RateLimit, field string) error {
	if l == nil {
		return nil
	}
	if l.Requests < 1 || l.Requests > MaxRateLimitRequests {
		return invalidf("%s.requests must be a whole number from 1 to %d, got %d", field, MaxRateLimitRequests, l.Requests)
	}
	if l.PerSeconds < 1 || l.PerSeconds > MaxRateLimitSeconds {
		return invalidf("%s.per_seconds must be a whole number of seconds from 1 to %d (a day), got %d", field, MaxRateLimitSeconds, l.PerSeconds)
	}
	return nil
}

// normalRateLimit returns l in stored form: nil for none (a nil or zero
// limit), else a copy.
func normalRateLimit(l *RateLimit) *RateLimit {
	if l == nil || l.IsZero() {
		return nil
	}
	c := *l
	return &c
}
