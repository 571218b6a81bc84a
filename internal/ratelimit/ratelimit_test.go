package ratelimit

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/clock/clocktest"
)

func TestTakeRefillsAtTheRate(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	l := New(clk)
	k := Key{Name: "u", Limit: Limit{Requests: 3, Per: 3 * time.Second}} // one call a second
	steps := []struct {
		name      string
		advance   time.Duration
		allowed   bool
		remaining int
		retry     time.Duration
		reset     time.Duration
	}{
		{"first of the burst", 0, true, 2, 0, time.Second},
		{"second", 0, true, 1, 0, 2 * time.Second},
		{"third", 0, true, 0, 0, 3 * time.Second},
		{"over the limit", 0, false, 0, time.Second, 3 * time.Second},
		{"still over half a second later", 500 * time.Millisecond, false, 0, 500 * time.Millisecond, 2500 * time.Millisecond},
		{"one call refilled", 500 * time.Millisecond, true, 0, 0, 3 * time.Second},
		{"a long pause refills no more than the bucket", time.Hour, true, 2, 0, time.Second},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		d := l.Take(k)
		assert.Equal(t, s.allowed, d.Allowed, s.name)
		assert.Equal(t, s.remaining, d.Remaining, s.name)
		assert.Equal(t, s.retry, d.RetryAfter, s.name)
		assert.Equal(t, s.reset, d.Reset, s.name)
		assert.Equal(t, 3, d.Limit, s.name)
	}
}

func TestTakeIsAllOrNothingAcrossKeys(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	l := New(clk)
	account := Limit{Requests: 3, Per: time.Minute}
	url := Limit{Requests: 1, Per: time.Minute}
	a1 := l.Take(Key{"url:1", url}, Key{"acct", account})
	require.True(t, a1.Allowed)
	assert.Equal(t, "url:1", a1.Key, "the tightest bucket is reported")
	refused := l.Take(Key{"url:1", url}, Key{"acct", account})
	require.False(t, refused.Allowed)
	assert.Equal(t, "url:1", refused.Key)
	assert.Equal(t, time.Minute, refused.RetryAfter)
	// The refused call took nothing from the account: two calls are left
	// for another URL.
	for i := range 2 {
		d := l.Take(Key{"url:2", Limit{Requests: 10, Per: time.Minute}}, Key{"acct", account})
		require.True(t, d.Allowed, "call %d", i)
	}
	d := l.Take(Key{"url:3", Limit{}}, Key{"acct", account})
	assert.False(t, d.Allowed)
	assert.Equal(t, "acct", d.Key)
	assert.Equal(t, 20*time.Second, d.RetryAfter)
}

func TestNoLimitAllows(t *testing.T) {
	l := New(nil)
	for range 100 {
		d := l.Take(Key{"x", Limit{}})
		require.True(t, d.Allowed)
		assert.Zero(t, d.Limit)
	}
	assert.Zero(t, l.Len(), "no bucket is kept for an unlimited key")
}

func TestAChangedLimitKeepsWhatWasSpent(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	l := New(clk)
	for range 5 {
		require.True(t, l.Take(Key{"u", Limit{Requests: 10, Per: time.Hour}}).Allowed)
	}
	d := l.Take(Key{"u", Limit{Requests: 5, Per: time.Hour}})
	assert.True(t, d.Allowed, "5 left of 10, capped at the new 5")
	assert.Equal(t, 4, d.Remaining)
}

func TestPruneDropsFullBuckets(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	l := New(clk)
	lim := Limit{Requests: 1, Per: time.Second}
	for i := range pruneEvery - 1 {
		l.Take(Key{Name: string(rune('a'+i%26)) + time.Duration(i).String(), Limit: lim})
	}
	require.Equal(t, pruneEvery-1, l.Len())
	clk.Advance(2 * time.Second)
	l.Take(Key{Name: "last", Limit: lim})
	assert.Equal(t, 1, l.Len(), "refilled buckets are pruned, the new one stays")
}

func TestConcurrentTakesNeverOverspend(t *testing.T) {
	l := New(clocktest.New(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)))
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if l.Take(Key{"u", Limit{Requests: 17, Per: time.Minute}}).Allowed {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(17), allowed.Load())
}
