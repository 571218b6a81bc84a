package app

// TEMPORARY until the store packages hold idempotency keys: an in-memory
// IdempotencyStore, per process. Removed when the Store implements it.

import (
	"context"
	"sync"
	"time"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

type memIdem struct {
	mu sync.Mutex
	m  map[[2]string]tokens.IdempotencyRecord
}

func (s *memIdem) ClaimIdempotencyKey(_ context.Context, r *tokens.IdempotencyRecord) (*tokens.IdempotencyRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{r.Scope, r.Key}
	if old, ok := s.m[k]; ok && old.ExpiresAt.After(r.CreatedAt) {
		return &old, tokens.ErrConflict
	}
	s.m[k] = *r
	return nil, nil
}

func (s *memIdem) FinishIdempotencyKey(_ context.Context, r *tokens.IdempotencyRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{r.Scope, r.Key}
	old, ok := s.m[k]
	if !ok {
		return tokens.ErrNotFound
	}
	if old.ClaimID != r.ClaimID {
		return tokens.ErrConflict
	}
	s.m[k] = *r
	return nil
}

func (s *memIdem) ReleaseIdempotencyKey(_ context.Context, scope, key, claimID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{scope, key}
	if old, ok := s.m[k]; ok && old.ClaimID == claimID && !old.Done {
		delete(s.m, k)
	}
	return nil
}

func (s *memIdem) DeleteExpiredIdempotencyKeys(_ context.Context, now time.Time) (int, error) {
	return 0, nil
}
