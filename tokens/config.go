package tokens

import (
	"time"
)

// Bounds of a result budget, in characters of the text a model reads. The
// floor is below one typical Zoho user record, so that the rule "a record
// larger than the budget comes alone" stays reachable on purpose rather
// than by a typo such as 40 for 40,000; the ceiling is several times the
// largest result any named client accepts.
const (
	MinResultChars = 500
	MaxResultChars = 1_000_000
)

// ValidResultBudget reports whether n is within MinResultChars to
// MaxResultChars. Each setting of a budget refuses an invalid one with a
// message that names it.
func ValidResultBudget(n int) bool { return n >= MinResultChars && n <= MaxResultChars }

// MinExpiry is how far in the future a new expires_at must at least be.
const MinExpiry = 60 * time.Second

// checkExpiry applies the 60-second rule to a new expires_at.
func checkExpiry(t time.Time, now time.Time, field string) error {
	if t.Sub(now) < MinExpiry {
		return invalidf("%s must be at least 60 seconds in the future (it is %s; now is %s)",
			field, t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// ConfigChange is a change to a Config: nil fields are kept.
type ConfigChange struct {
	Methods             *[]string
	Tags                *[]string
	RequireAPITokenAuth *bool
	// MaxResultChars sets the URL's result budget; a pointer to 0 removes
	// it, so the server's budget applies.
	MaxResultChars *int
}

// Apply merges the fields the change names over c (a create applies it
// over the zero Config). A nil change keeps c.
func (ch *ConfigChange) Apply(c Config) Config {
	if ch == nil {
		return c
	}
	if ch.Methods != nil {
		c.Methods = *ch.Methods
	}
	if ch.Tags != nil {
		c.Tags = *ch.Tags
	}
	if ch.RequireAPITokenAuth != nil {
		c.RequireAPITokenAuth = *ch.RequireAPITokenAuth
	}
	if ch.MaxResultChars != nil {
		c.MaxResultChars = *ch.MaxResultChars
	}
	return c
}

// ExpiryChange is what a request asks of a server's expiry.
type ExpiryChange struct {
	Set   bool       // the request names an expiry (or its removal)
	Value *time.Time // nil: no expiry
	Field string     // where it was given, for messages: expires_at or config.expires_at
}

// Check applies the 60-second rule to a requested expiry.
func (c ExpiryChange) Check(now time.Time) error {
	if c.Value == nil {
		return nil
	}
	return checkExpiry(*c.Value, now, c.Field)
}
