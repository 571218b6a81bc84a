package tokens_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

func TestConnectLinkLifetime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		seconds int64
		want    time.Duration
	}{
		{3600, time.Hour},
		{0, 0},
		{int64(tokens.MaxConnectLinkLifetime.Seconds()), tokens.MaxConnectLinkLifetime},
		{int64(tokens.MaxConnectLinkLifetime.Seconds()) + 1, -1},
		{-5, -1},
		{1 << 62, -1}, // would overflow a Duration
	} {
		assert.Equal(t, tc.want, tokens.ConnectLinkLifetime(tc.seconds), "%d s", tc.seconds)
	}
}

func TestParseExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	t.Run("RFC 3339 in any zone is kept in UTC", func(t *testing.T) {
		ch, err := tokens.ParseExpiry("2026-12-01T14:00:00+02:00", "expires_at", now)
		require.NoError(t, err)
		require.NotNil(t, ch.Value)
		assert.True(t, ch.Set)
		assert.Equal(t, "expires_at", ch.Field)
		assert.Equal(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), *ch.Value)
		assert.Equal(t, time.UTC, ch.Value.Location())
	})
	for _, bad := range []string{"", "tomorrow", "2026-12-01 12:00", " 2026-12-01T12:00:00Z"} {
		t.Run("refuses "+bad, func(t *testing.T) {
			_, err := tokens.ParseExpiry(bad, "config.expires_at", now)
			var e *tokens.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tokens.CodeInvalidArgument, e.Code)
			assert.Contains(t, e.Message, "config.expires_at")
			assert.Contains(t, e.Message, "2026-11-30T13:00:00Z", "the message offers an example an hour from now")
		})
	}
}
