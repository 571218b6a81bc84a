package oauth

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestConsentsClaim(t *testing.T) {
	t.Parallel()
	now := time.Now()
	fill := func(until time.Time) *consents {
		c := &consents{used: map[string]time.Time{}}
		for i := range maxConsents {
			c.used[fmt.Sprint(i)] = until
		}
		return c
	}
	tests := []struct {
		name string
		c    *consents
		want []bool // claims of "n", in order
	}{
		{"a nonce counts once", &consents{used: map[string]time.Time{}}, []bool{true, false, false}},
		{"forms past their lifetime are forgotten to make room", fill(now), []bool{true, false}},
		{"a full memory of live forms fails closed", fill(now.Add(time.Minute)), []bool{false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, want := range tt.want {
				assert.Equal(t, want, tt.c.claim("n", now), "claim %d", i)
			}
			assert.LessOrEqual(t, len(tt.c.used), maxConsents)
		})
	}
	assert.False(t, (&consents{used: map[string]time.Time{}}).claim("", now), "a form without a nonce is refused")
}
