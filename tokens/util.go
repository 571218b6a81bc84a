package tokens

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

type actorKey struct{}

// WithActor returns a context whose changes are audited as actor's
// ("api_token:<id>", "system"); without one, changes are the system's.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

func actorOf(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "system"
}

// audit records an admin change. A failure to record it does not undo the
// change (it is already stored); it is logged.
func (s *Service) audit(ctx context.Context, action, accountID, serverID, detail string) {
	actor := actorOf(ctx)
	e := &AuditEntry{
		Time:        s.now().UTC(),
		Actor:       actor,
		Surface:     SurfaceSystem,
		Action:      action,
		AccountID:   accountID,
		MCPServerID: serverID,
		Outcome:     "ok",
		Detail:      detail,
	}
	if id, ok := strings.CutPrefix(actor, "api_token:"); ok {
		e.Surface, e.APITokenID = SurfaceAdmin, id
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
