package tokens

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// audit records an admin change. A failure to record it does not undo the
// change (it is already stored); it is logged.
func (s *Service) audit(ctx context.Context, action, accountID, serverID, detail string) {
	who := CallerFrom(ctx)
	e := &AuditEntry{
		Time:        s.now().UTC(),
		Actor:       who.Actor(),
		Surface:     who.surface(),
		Action:      action,
		AccountID:   accountID,
		MCPServerID: serverID,
		Outcome:     "ok",
		Detail:      detail,
		APITokenID:  who.APITokenID(),
	}
	if err := s.db.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		s.logger.WarnContext(ctx, "audit entry not recorded", "action", action, "err", err)
	}
}

// newID returns a new record ID: a UUIDv7, so that ID order (the store's
// list order) is creation order.
func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// checkName validates a human name for a record.
func checkName(name, field string) (string, error) {
	n := strings.TrimSpace(name)
	switch {
	case n == "":
		return "", invalidf("%s is required", field)
	case utf8.RuneCountInString(n) > 200:
		return "", invalidf("%s must be at most 200 characters", field)
	case strings.IndexFunc(n, unicode.IsControl) >= 0:
		return "", invalidf("%s must not contain control characters", field)
	}
	return n, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
