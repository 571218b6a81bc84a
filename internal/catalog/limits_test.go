package catalog

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestQuotaHeaders(t *testing.T) {
	tests := []struct {
		name string
		q    *Quota
		want http.Header
	}{
		{"none", nil, http.Header{}},
		{"allowed", &Quota{Limit: 10, Remaining: 3, Reset: 2500 * time.Millisecond},
			http.Header{"Ratelimit-Limit": {"10"}, "Ratelimit-Remaining": {"3"}, "Ratelimit-Reset": {"3"}}},
		{"refused", &Quota{Limit: 10, Remaining: 0, Reset: time.Minute, RetryAfter: 5900 * time.Millisecond},
			http.Header{"Ratelimit-Limit": {"10"}, "Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {"60"}, "Retry-After": {"6"}}},
		{"refused for under a second waits a second", &Quota{Limit: 1, RetryAfter: time.Millisecond},
			http.Header{"Ratelimit-Limit": {"1"}, "Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {"0"}, "Retry-After": {"1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			tt.q.SetHeaders(h)
			assert.Equal(t, tt.want, h)
			assert.Equal(t, tt.q != nil && tt.q.RetryAfter > 0, tt.q.Refused())
		})
	}
}

func TestAuditArgsKeepIDsEnumsAndNumbers(t *testing.T) {
	cur := "opaque"
	assert.Nil(t, auditArgs(Args{}))
	assert.Equal(t, map[string]any{"id": "42", "type": "AdminUsers", "limit": 5, "fields": []string{"id"}, "next_cursor": true},
		auditArgs(Args{ID: "42", Type: "AdminUsers", Limit: 5, Fields: []string{"id"}, NextCursor: &cur}))
}
