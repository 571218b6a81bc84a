package catalog

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/clock"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// RefusalWindow is how long repeated refusals of one kind are gathered
// into one audit entry.
const RefusalWindow = time.Minute

// refusals gathers the audit entries of calls refused before Zoho (over
// a rate limit, or with invalid arguments), which a caller can make as
// fast as it likes: the first refusal of a kind (the same caller, URL,
// tool and outcome) is recorded at once and opens a window of
// RefusalWindow; the others in that window are only counted, and written
// as one entry whose Count says how many, when the window closes. Each
// kind costs at most two entries a minute, and memory holds one per kind
// refused in the last minute.
type refusals struct {
	clock  clock.Clock
	record func(ctx context.Context, e *tokens.AuditEntry)

	mu   sync.Mutex
	open map[refusalKind]*refusalWindow
}

// refusalKind is what makes two refused calls the same kind: who made
// them, where, and how they were refused.
type refusalKind struct {
	actor, surface, apiToken, account, server, user, client string
	tool, operation, outcome                                string
	status                                                  int
}

// refusalWindow is an open window: its first entry, the refusals counted
// since, and the timer that closes it.
type refusalWindow struct {
	first *tokens.AuditEntry
	more  int
	timer clock.Timer
}

func kindOf(e *tokens.AuditEntry) refusalKind {
	return refusalKind{
		actor: e.Actor, surface: e.Surface, apiToken: e.APITokenID, account: e.AccountID, server: e.MCPServerID,
		user: e.UserZUID, client: e.OAuthClient, tool: e.Tool, operation: e.Operation, outcome: e.Outcome, status: e.Status,
	}
}

// note audits a refused call: at once when it is the first of its kind
// in a window, else by counting it.
func (r *refusals) note(ctx context.Context, e *tokens.AuditEntry) {
	k := kindOf(e)
	r.mu.Lock()
	defer r.mu.Unlock()
	if w := r.open[k]; w != nil {
		w.more++
		return
	}
	r.record(ctx, e) // it only queues the write; e gets its ID here
	w := &refusalWindow{first: e}
	r.open[k] = w
	w.timer = r.clock.AfterFunc(RefusalWindow, func() { r.close(k, w) })
}

// close ends window w of kind k, writing its aggregated entry if it
// counted any refusal. The entry is handed to record under r.mu, so a
// flush that finds the window gone knows its entry is already pending.
func (r *refusals) close(k refusalKind, w *refusalWindow) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.open[k] != w {
		return // closed already (by flush)
	}
	delete(r.open, k)
	more := w.more
	if more == 0 {
		return
	}
	f := w.first
	agg := &tokens.AuditEntry{
		Actor: f.Actor, Surface: f.Surface, Action: f.Action, APITokenID: f.APITokenID,
		AccountID: f.AccountID, MCPServerID: f.MCPServerID, Tool: f.Tool, Operation: f.Operation,
		Outcome: f.Outcome, Status: f.Status, UserZUID: f.UserZUID, UserEmail: f.UserEmail, OAuthClient: f.OAuthClient,
		Count:  more,
		Detail: fmt.Sprintf("%d more calls refused with %s in the minute after %s", more, f.Outcome, f.ID),
	}
	r.record(context.Background(), agg)
}

// flush closes every open window now (at shutdown).
func (r *refusals) flush() {
	r.mu.Lock()
	open := make(map[refusalKind]*refusalWindow, len(r.open))
	for k, w := range r.open {
		w.timer.Stop()
		open[k] = w
	}
	r.mu.Unlock()
	for k, w := range open {
		r.close(k, w)
	}
}
