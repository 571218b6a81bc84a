package clocktest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFakeFiresDueTimersOnly(t *testing.T) {
	f := New(time.Time{})
	start := f.Now()
	fired := make(chan string, 3)
	f.AfterFunc(time.Minute, func() { fired <- "minute" })
	stopped := f.AfterFunc(2*time.Minute, func() { fired <- "stopped" })
	f.AfterFunc(time.Hour, func() { fired <- "hour" })
	require.Equal(t, 3, f.Pending())

	f.Advance(59 * time.Second)
	assert.Equal(t, 3, f.Pending(), "nothing is due before its deadline")
	f.Advance(time.Second)
	assert.Equal(t, "minute", <-fired)
	assert.True(t, stopped.Stop())
	assert.False(t, stopped.Stop(), "a stopped timer stops once")
	f.Set(start.Add(time.Hour))
	assert.Equal(t, "hour", <-fired)
	assert.Equal(t, 0, f.Pending())
	assert.Empty(t, fired)
	assert.Equal(t, start.Add(time.Hour), f.Now())
}
