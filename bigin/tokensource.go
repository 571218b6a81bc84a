package bigin

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// refreshEarly is how long before its expiry an access token is replaced.
const refreshEarly = time.Minute

// tokenCache holds one account's access token and refreshes it with single
// flight: however many callers need a new token at once, one refresh runs
// and all of them get its result. x/oauth2's ReuseTokenSource cannot be
// told that Zoho rejected a token (a 401 INVALID_TOKEN) and reads the wall
// clock, so this small cache composes x/oauth2's refresh instead.
type tokenCache struct {
	now     func() time.Time
	timeout time.Duration
	fetch   func(context.Context) (Token, error)
	onToken func(Token)

	mu     sync.Mutex
	tok    Token
	flight *flight
	// rejected is the last token Zoho rejected (invalidate), for a
	// refresh gate to tell a stale shared token from a new one.
	rejected string
}

// held returns the token a refresh replaces: the cached one, or the one
// Zoho just rejected.
func (tc *tokenCache) held() string {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.tok.AccessToken != "" {
		return tc.tok.AccessToken
	}
	return tc.rejected
}

// flight is one refresh in progress; done is closed when tok/err are set.
type flight struct {
	done chan struct{}
	tok  Token
	err  error
}

// get returns a usable access token, refreshing it if needed.
func (tc *tokenCache) get(ctx context.Context) (Token, error) {
	tc.mu.Lock()
	if t := tc.tok; t.AccessToken != "" && tc.now().Add(refreshEarly).Before(t.Expiry) {
		tc.mu.Unlock()
		return t, nil
	}
	f := tc.startLocked(ctx)
	tc.mu.Unlock()
	return f.wait(ctx)
}

// refresh gets a new access token now, or joins the refresh in progress.
func (tc *tokenCache) refresh(ctx context.Context) (Token, error) {
	tc.mu.Lock()
	f := tc.startLocked(ctx)
	tc.mu.Unlock()
	return f.wait(ctx)
}

// invalidate forgets the cached token if it is still the one Zoho rejected;
// if another caller already replaced it, the new one is kept, so N callers
// failing on one stale token cause one refresh.
func (tc *tokenCache) invalidate(access string) {
	tc.mu.Lock()
	if tc.tok.AccessToken == access {
		tc.tok = Token{}
		tc.rejected = access
	}
	tc.mu.Unlock()
}

// startLocked returns the refresh in progress or starts one. The refresh
// runs apart from the caller's cancellation (other callers may be waiting
// for it) but bounded by the client's timeout.
func (tc *tokenCache) startLocked(ctx context.Context) *flight {
	if tc.flight != nil {
		return tc.flight
	}
	f := &flight{done: make(chan struct{})}
	tc.flight = f
	go func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tc.timeout)
		defer cancel()
		tok, err := tc.fetch(rctx)
		tc.mu.Lock()
		if err == nil {
			tc.tok = tok
		}
		tc.flight = nil
		tc.mu.Unlock()
		if err == nil && tc.onToken != nil {
			tc.onToken(tok)
		}
		f.tok, f.err = tok, err
		close(f.done)
	}()
	return f
}

func (f *flight) wait(ctx context.Context) (Token, error) {
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return Token{}, fmt.Errorf("bigin: waiting for a token refresh: %w", ctx.Err())
	}
}
