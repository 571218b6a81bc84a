package catalog

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/clock"
	"github.com/bigin-mcp/bigin-mcp/internal/zoho"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Call is one tool invocation: the decoded arguments and what the handler
// needs to reach Bigin.
type Call struct {
	Tool    string
	Args    Args
	Client  *bigin.Client
	cursors *cursorCodec
	account string // integrated account id, binds cursors
}

// Reauther flips an account to needs_reauth (tokens.Service does).
type Reauther interface {
	MarkNeedsReauth(ctx context.Context, accountID string) error
}

// ExecutorOptions configures NewExecutor.
type ExecutorOptions struct {
	Catalog *Catalog
	Clients *zoho.Clients
	Reauth  Reauther
	Audit   tokens.AuditStore
	// CursorKey signs next_cursor values; at least 32 bytes.
	CursorKey []byte
	Clock     clock.Clock
	Logger    *slog.Logger
}

// Executor runs tools for integrated accounts, the same way for every
// surface: it validates the arguments, calls Bigin through the account's
// shared client, turns failures into results a model can act on, flips the
// account to needs_reauth when Zoho refuses its refresh token, logs and
// audits every call.
type Executor struct {
	cat     *Catalog
	clients *zoho.Clients
	reauth  Reauther
	audit   tokens.AuditStore
	cursors *cursorCodec
	now     func() time.Time
	logger  *slog.Logger
	auditWG sync.WaitGroup
}

// errNoCursorKey guards against building a codec without a key.
var errNoCursorKey = errors.New("catalog: cursor key must be at least 32 bytes")

// NewExecutor returns an Executor.
func NewExecutor(o ExecutorOptions) (*Executor, error) {
	if o.Catalog == nil || o.Clients == nil || o.Reauth == nil || o.Audit == nil {
		return nil, errors.New("catalog: Catalog, Clients, Reauth and Audit are required")
	}
	if len(o.CursorKey) < 32 {
		return nil, errNoCursorKey
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Executor{
		cat: o.Catalog, clients: o.Clients, reauth: o.Reauth, audit: o.Audit,
		cursors: &cursorCodec{key: o.CursorKey}, now: clock.OrSystem(o.Clock).Now, logger: logger,
	}, nil
}

// Caller is who makes a call, for the log and the audit entry.
type Caller struct {
	ServerID string // the MCP URL's server id
	Actor    string // e.g. "mcp:<server id>", "api_token:<id>"
	// Surface names where the call came in: "mcp" (the default), "tools",
	// "unified" or "proxy".
	Surface string
}

// Result is a finished call: Body is the structured result's JSON on
// success; Failure is set instead when the call failed in a way a model
// can act on.
type Result struct {
	Body    []byte
	Failure *Failure
}

// Call runs the tool for the account. Arguments that fail the tool's
// schema return an *ArgsError (nothing is called or audited); every other
// outcome is a Result.
func (x *Executor) Call(ctx context.Context, e *Entry, account *tokens.AccountInfo, raw []byte, who Caller) (Result, error) {
	args, err := e.Decode(raw)
	if err != nil {
		return Result{}, err
	}
	return x.run(ctx, e, account, args, who, ""), nil
}

// Operation is a call to Bigin that is not a declared tool (the unified
// and proxy APIs): Name is what the log and the audit entry show (e.g.
// "GET /proxy/users/{id}"), Run makes the call.
type Operation struct {
	Name string
	Args Args
	Run  func(ctx context.Context, c *Call) ([]byte, error)
}

// Do runs an operation for the account the way Call runs a tool: through
// the account's shared client, with the same failure classification,
// needs_reauth handling, log and audit. Its arguments are the caller's to
// validate.
func (x *Executor) Do(ctx context.Context, op Operation, account *tokens.AccountInfo, who Caller) Result {
	return x.run(ctx, &Entry{Tool: Tool{Name: op.Name, Run: op.Run}}, account, op.Args, who, op.Name)
}

// run calls e for the account; operation is set for calls that are not a
// tool.
func (x *Executor) run(ctx context.Context, e *Entry, account *tokens.AccountInfo, args Args, who Caller, operation string) Result {
	start := time.Now()
	var body []byte
	var client *bigin.Client
	var err error
	if account.Status == tokens.StatusNeedsReauth {
		err = bigin.ErrRefreshRefused
	} else {
		client, err = x.clients.Get(ctx, account)
		if err == nil {
			body, err = e.Run(ctx, &Call{Tool: e.Name, Args: args, Client: client, cursors: x.cursors, account: account.ID})
		}
	}
	var res Result
	outcome := "ok"
	if err != nil {
		res.Failure = fail(e, args, err)
		outcome = res.Failure.Error.Code
		if outcome == codeReauth && client != nil && x.clients.StillCurrent(context.WithoutCancel(ctx), account.ID, client) {
			if merr := x.reauth.MarkNeedsReauth(context.WithoutCancel(ctx), account.ID); merr != nil {
				x.logger.Error("mark account needs_reauth", "account_id", account.ID, "err", merr)
			}
		}
	} else {
		res.Body = body
	}
	surface := who.Surface
	if surface == "" {
		surface = "mcp"
	}
	tool := e.Name
	if operation != "" {
		tool = ""
	}
	x.logger.Info("tool call", "tool", tool, "operation", operation, "surface", surface, "mcp_server_id", who.ServerID, "account_id", account.ID,
		"outcome", outcome, "latency_ms", float64(time.Since(start).Microseconds())/1000)
	x.record(ctx, who, surface, account.ID, tool, operation, outcome)
	return res
}

func (x *Executor) record(ctx context.Context, who Caller, surface, accountID, tool, operation, outcome string) {
	action := "tool_call"
	if operation != "" {
		action = surface + "_call"
	}
	entry := &tokens.AuditEntry{
		ID:          uuid.Must(uuid.NewV7()).String(),
		Time:        x.now().UTC(),
		Actor:       who.Actor,
		Action:      action,
		AccountID:   accountID,
		MCPServerID: who.ServerID,
		Tool:        tool,
		Outcome:     outcome,
		Surface:     surface,
		Operation:   operation,
	}
	// The entry is written in the background: the store batches
	// concurrent appends into one transaction (and one fsync), which
	// takes up to its batch delay, and the caller should not wait for
	// that. Flush waits for every pending entry before shutdown.
	x.auditWG.Add(1)
	go func() {
		defer x.auditWG.Done()
		if err := x.audit.AppendAudit(context.WithoutCancel(ctx), entry); err != nil {
			x.logger.Error("audit tool call", "tool", tool, "mcp_server_id", who.ServerID, "err", err)
		}
	}()
}

// Flush waits until every audit entry of finished calls is stored; call
// it after the HTTP server has shut down and before the store closes.
func (x *Executor) Flush() { x.auditWG.Wait() }
