package tokens

import (
	"context"
	"fmt"
	"time"
)

// oauthClientSweepEvery is how often RunSweeper looks for idle OAuth
// clients: each look reads every grant, and a client idle for a day can
// wait another hour.
const oauthClientSweepEvery = time.Hour

// RunSweeper deletes expired MCP servers, and audit entries older than the
// retention (SweepAudit), every interval until ctx ends
// (within a minute of expiry when the caller passes e.g. 30 s), idle
// OAuth clients (SweepOAuthClients) every hour and expired idempotency
// keys every IdempotencySweepEvery, by the Service's clock. It sweeps
// once at the start, for servers that expired while the process was
// down. Resolve already refuses expired servers before they are swept.
func (s *Service) RunSweeper(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = 30 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var clientsSwept, keysSwept time.Time
	for {
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.logger.ErrorContext(ctx, "sweep expired MCP servers", "err", err)
		}
		if _, err := s.SweepAudit(ctx); err != nil && ctx.Err() == nil {
			s.logger.ErrorContext(ctx, "sweep old audit entries", "err", err)
		}
		if now := s.now(); now.Sub(clientsSwept) >= oauthClientSweepEvery {
			if _, err := s.SweepOAuthClients(ctx); err != nil && ctx.Err() == nil {
				s.logger.ErrorContext(ctx, "sweep idle OAuth clients", "err", err)
			} else {
				clientsSwept = now
			}
		}
		if now := s.now(); now.Sub(keysSwept) >= IdempotencySweepEvery {
			keysSwept = now
			if _, err := s.SweepIdempotencyKeys(ctx); err != nil && ctx.Err() == nil {
				s.logger.ErrorContext(ctx, "sweep expired idempotency keys", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep deletes the MCP servers that have expired by now (by the Service's
// clock), from the store and then the index, and reports how many. The
// store records an "mcp_server.expire" audit entry for each, and keeps
// their earlier entries.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	// The index knows every served URL's expiry: reading it costs
	// microseconds, where scanning the store decoded every stored server
	// each pass.
	now := s.now()
	var due []string
	s.mu.RLock()
	for _, ae := range s.accounts {
		for id, res := range ae.servers {
			if pastExpiry(res.Server.ExpiresAt, now) {
				due = append(due, id)
			}
		}
	}
	s.mu.RUnlock()
	deleted, err := s.db.DeleteMCPServersIfExpired(ctx, due, now)
	if err != nil {
		return 0, fmt.Errorf("delete expired MCP servers: %w", err)
	}
	s.dropServers(ctx, deleted...)
	for _, m := range deleted {
		s.dropGrants(ctx, m.ID, "URL expired")
	}
	if len(deleted) > 0 {
		s.logger.InfoContext(ctx, "swept expired MCP servers", "count", len(deleted))
	}
	return len(deleted), nil
}

// IdempotencySweepEvery is how often RunSweeper deletes expired
// idempotency keys. An expired key is already free for reuse when it is
// claimed again; the sweep only gives back its space, so it can be rare.
const IdempotencySweepEvery = 10 * time.Minute

// SweepIdempotencyKeys deletes the idempotency keys whose outcome (or
// abandoned claim) has expired by now, and reports how many.
func (s *Service) SweepIdempotencyKeys(ctx context.Context) (int, error) {
	n, err := s.db.DeleteExpiredIdempotencyKeys(ctx, s.now())
	if err != nil {
		return n, fmt.Errorf("delete expired idempotency keys: %w", err)
	}
	if n > 0 {
		s.logger.InfoContext(ctx, "swept expired idempotency keys", "count", n)
	}
	return n, nil
}
