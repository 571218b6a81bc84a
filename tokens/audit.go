package tokens

import (
	"context"
	"fmt"
	"time"
)

// AuditFilter selects audit entries: every set field must match, zero
// fields match everything. Since is inclusive, Until exclusive.
type AuditFilter struct {
	AccountID   string
	MCPServerID string
	Tool        string
	Outcome     string
	Since       time.Time
	Until       time.Time
}

// Matches reports whether e passes the filter.
func (f AuditFilter) Matches(e *AuditEntry) bool {
	switch {
	case f.AccountID != "" && e.AccountID != f.AccountID,
		f.MCPServerID != "" && e.MCPServerID != f.MCPServerID,
		f.Tool != "" && e.Tool != f.Tool,
		f.Outcome != "" && e.Outcome != f.Outcome,
		!f.Since.IsZero() && e.Time.Before(f.Since),
		!f.Until.IsZero() && !e.Time.Before(f.Until):
		return false
	}
	return true
}

// auditScanPage is how many entries one store read of Audit takes.
const auditScanPage = 500

// Audit lists the audit entries that match f, newest first, from the one
// just older than the entry ID before ("" for the newest), at most limit
// of them. next is the ID to pass as before for the following page, ""
// when no older entry is left. Entries are read from the store in pages
// and filtered here, so a selective filter over a long log reads more
// than it returns.
func (s *Service) Audit(ctx context.Context, f AuditFilter, before string, limit int) (entries []*AuditEntry, next string, err error) {
	if limit < 1 {
		return nil, "", invalidf("limit must be at least 1")
	}
	cursor := before
	for {
		page, more, err := s.db.Audit(ctx, cursor, auditScanPage)
		if err != nil {
			return nil, "", fmt.Errorf("read audit log: %w", err)
		}
		for _, e := range page {
			cursor = e.ID
			if !f.Since.IsZero() && e.Time.Before(f.Since) {
				return entries, "", nil // newest first: nothing older can match
			}
			if f.Matches(e) {
				entries = append(entries, e)
				if len(entries) == limit {
					return entries, cursor, nil
				}
			}
		}
		if !more || len(page) == 0 {
			return entries, "", nil
		}
	}
}
