package admin

import (
	"testing"
	"time"

	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseExpiry(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	raw := func(s string) rawField { return rawField{set: true, raw: []byte(s)} }
	tests := []struct {
		name      string
		in        rawField
		want      tokens.ExpiryChange
		errSubstr string
	}{
		{name: "absent", in: rawField{}, want: tokens.ExpiryChange{}},
		{name: "null removes", in: raw("null"), want: tokens.ExpiryChange{Set: true, Field: "expires_at"}},
		{name: "61s", in: raw(`"2026-03-01T12:01:01Z"`), want: tokens.ExpiryChange{Set: true, Field: "expires_at", Value: ptr(now.Add(61 * time.Second))}},
		{name: "60s exactly", in: raw(`"2026-03-01T12:01:00Z"`), want: tokens.ExpiryChange{Set: true, Field: "expires_at", Value: ptr(now.Add(60 * time.Second))}},
		{name: "offset is converted to UTC", in: raw(`"2026-03-01T15:00:00+02:00"`), want: tokens.ExpiryChange{Set: true, Field: "expires_at", Value: ptr(now.Add(time.Hour))}},
		{name: "59s", in: raw(`"2026-03-01T12:00:59Z"`), errSubstr: "expires_at must be at least 60 seconds in the future"},
		{name: "past", in: raw(`"2020-01-01T00:00:00Z"`), errSubstr: "at least 60 seconds in the future"},
		{name: "not RFC 3339", in: raw(`"tomorrow"`), errSubstr: "is not an RFC 3339 time"},
		{name: "number", in: raw(`1772400000`), errSubstr: "must be an RFC 3339 time string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseExpiry(tt.in, "expires_at", now)
			if err == nil {
				err = got.Check(now)
			}
			if tt.errSubstr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.errSubstr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func ptr[T any](v T) *T { return &v }
