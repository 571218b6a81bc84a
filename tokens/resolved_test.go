package tokens

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Done is made lazily; whatever the interleaving with invalidate, every
// channel a caller got must be closed once the resolution is stale, and
// every caller of one resolution must get the same channel.
func TestResolvedDoneRacesInvalidate(t *testing.T) {
	t.Parallel()
	for i := 0; i < 200; i++ {
		var r Resolved
		var wg sync.WaitGroup
		got := make([]<-chan struct{}, 8)
		for g := range got {
			wg.Add(1)
			go func() { defer wg.Done(); got[g] = r.Done() }()
		}
		wg.Add(1)
		go func() { defer wg.Done(); r.invalidate() }()
		wg.Wait()
		assert.True(t, r.Stale())
		for _, c := range got {
			AssertClosed(t, c, "a Done obtained around invalidate")
		}
		AssertClosed(t, r.Done(), "Done after invalidate")
		r.invalidate() // a second invalidate must not close twice
	}
}

func TestResolvedDoneIsOneChannel(t *testing.T) {
	t.Parallel()
	var r Resolved
	assert.False(t, r.Stale())
	a, b := r.Done(), r.Done()
	assert.Equal(t, a, b, "callers of one resolution share its Done")
	AssertOpen(t, a)
	r.invalidate()
	AssertClosed(t, a, "invalidate closes the channel handed out")
	assert.True(t, r.Stale())
}
