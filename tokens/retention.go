package tokens

import (
	"context"
	"fmt"
	"time"
)

// DefaultAuditRetention is how long audit entries are kept when
// ServiceOptions.AuditRetention is zero.
const DefaultAuditRetention = 90 * 24 * time.Hour

// auditRetention is the Service's retention: 0 keeps entries forever.
func (s *Service) auditRetention() time.Duration {
	switch r := s.opts.AuditRetention; {
	case r < 0:
		return 0
	case r == 0:
		return DefaultAuditRetention
	default:
		return r
	}
}

// SweepAudit deletes the audit entries older than the retention (by the
// Service's clock) and reports how many. The sweeper runs it on every
// pass; with retention off it does nothing.
func (s *Service) SweepAudit(ctx context.Context) (int, error) {
	keep := s.auditRetention()
	if keep == 0 {
		return 0, nil
	}
	n, err := s.db.DeleteAuditBefore(ctx, s.now().Add(-keep))
	if err != nil {
		return n, fmt.Errorf("delete audit entries older than %s: %w", keep, err)
	}
	if n > 0 {
		s.logger.InfoContext(ctx, "deleted old audit entries", "count", n, "retention", keep.String())
	}
	return n, nil
}
