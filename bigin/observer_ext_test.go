package bigin_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

// observed records what an Observer is told.
type observed struct {
	mu        sync.Mutex
	requests  []bigin.UpstreamRequest
	refreshes []string
}

func (o *observed) observer() bigin.Observer {
	return bigin.Observer{
		Request: func(r bigin.UpstreamRequest) {
			o.mu.Lock()
			defer o.mu.Unlock()
			o.requests = append(o.requests, r)
		},
		Refresh: func(result string) {
			o.mu.Lock()
			defer o.mu.Unlock()
			o.refreshes = append(o.refreshes, result)
		},
	}
}

func TestObserverSeesRequestsRetriesAndRefreshes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{})
	var o observed
	c := f.client(t, nil, func(opts *bigin.Options) { opts.Observer = o.observer() })
	ctx := context.Background()

	_, err := c.Org(ctx)
	require.NoError(t, err)
	f.sb.FailNext(1, sandbox.InternalError)
	_, err = c.GetUser(ctx, f.sb.PrimaryUserID())
	require.NoError(t, err, "a 5xx GET is retried")
	f.sb.FailNext(1, sandbox.RateLimited)
	_, err = c.Roles(ctx)
	var ae *bigin.APIError
	require.True(t, errors.As(err, &ae))

	var got []string
	for _, r := range o.requests {
		assert.Equal(t, "us", r.Datacenter)
		assert.Positive(t, r.Duration)
		got = append(got, r.Operation)
		assert.NotContains(t, r.Operation, f.sb.PrimaryUserID(), "no id in an operation")
	}
	assert.Equal(t, []string{"GET /org", "GET /users/{id}", "GET /users/{id}", "GET /settings/roles"}, got)
	assert.Equal(t, []int{200, 500, 200, 429}, []int{o.requests[0].Status, o.requests[1].Status, o.requests[2].Status, o.requests[3].Status})
	assert.Equal(t, []bool{false, false, false, true}, []bool{o.requests[0].RateLimited, o.requests[1].RateLimited, o.requests[2].RateLimited, o.requests[3].RateLimited})
	assert.Equal(t, []string{"ok"}, o.refreshes, "the first call refreshed once")

	// A revoked refresh token: the refresh is refused.
	var o2 observed
	rt := f.sb.IssueRefreshToken()
	require.True(t, f.sb.RevokeRefreshToken(rt))
	c2 := f.client(t, nil, func(opts *bigin.Options) {
		opts.Credentials.RefreshToken = rt
		opts.Observer = o2.observer()
	})
	_, err = c2.Org(ctx)
	require.ErrorIs(t, err, bigin.ErrRefreshRefused)
	assert.Equal(t, []string{"refused"}, o2.refreshes)
	assert.Empty(t, o2.requests, "no API request without a token")
}
