package ratelimit

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/clock/clocktest"
)

// TestFailureBudget: an address may fail a credential check as often as
// its budget allows; past it, it is blocked until the budget refills,
// and other addresses are not.
func TestFailureBudget(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	b := NewFailureBudget(clk, Limit{Requests: 3, Per: 30 * time.Second}) // one failure back every 10 s
	for i := range 3 {
		_, blocked := b.Blocked("a")
		require.False(t, blocked, "failure %d is within the budget", i)
		assert.Equal(t, i == 2, b.Fail("a"), "the third failure spends the budget")
	}
	wait, blocked := b.Blocked("a")
	require.True(t, blocked)
	assert.Equal(t, 10*time.Second, wait)
	_, blocked = b.Blocked("b")
	assert.False(t, blocked, "another address has its own budget")

	b.Fail("a") // failures while blocked cost nothing more
	clk.Advance(4 * time.Second)
	wait, blocked = b.Blocked("a")
	require.True(t, blocked)
	assert.Equal(t, 6*time.Second, wait)
	clk.Advance(6 * time.Second)
	_, blocked = b.Blocked("a")
	assert.False(t, blocked, "one failure has come back")
	b.Fail("a")
	_, blocked = b.Blocked("a")
	assert.True(t, blocked)
}

// TestFailureBudgetForgetsRefilledAddresses: addresses whose budget is
// whole again are not kept, so memory follows the addresses failing now.
func TestFailureBudgetForgetsRefilledAddresses(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	b := NewFailureBudget(clk, Limit{Requests: 5, Per: time.Minute})
	for i := range pruneEvery - 1 {
		b.Fail(fmt.Sprintf("addr-%d", i))
	}
	clk.Advance(time.Minute)
	b.Fail("late") // the pruneEvery-th failure sweeps the whole buckets first
	assert.Equal(t, 1, b.l.Len(), "only the address that just failed is kept")
}
