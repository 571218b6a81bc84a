package oauth

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// maxConsents bounds how many consent forms are remembered at once. Each
// one follows a successful Zoho sign-in of an admitted member, so the
// bound is far above any real use; past it, consent fails closed.
const maxConsents = 100_000

// consentSweepAt is the size from which each claim first forgets the
// forms that can no longer be valid (claims are rare: one per person
// approving).
const consentSweepAt = 1024

// consents remembers the consent forms already acted on, for as long as
// a form can be valid, so each one counts once. It lives in this process:
// a deployment with several replicas must route a consent form back to
// the replica that showed it for a replay to be caught.
type consents struct {
	mu   sync.Mutex
	used map[string]time.Time // nonce → when it can be forgotten
}

// claim marks a consent form's nonce used and reports whether it was not
// used before (and could be remembered).
func (c *consents) claim(nonce string, now time.Time) bool {
	if nonce == "" {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.used[nonce]; ok {
		return false
	}
	if len(c.used) >= consentSweepAt {
		for k, until := range c.used {
			if !now.Before(until) {
				delete(c.used, k)
			}
		}
	}
	if len(c.used) >= maxConsents {
		return false
	}
	c.used[nonce] = now.Add(consentLifetime)
	return true
}

// newNonce returns 128 random bits, base64url.
func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
