package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/clock"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/internal/ratelimit"
	"github.com/bigin-mcp/bigin-mcp/internal/zoho"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Call is one tool invocation: what the handler needs to reach Bigin
// beside its arguments.
type Call struct {
	Tool     string
	Client   *bigin.Client
	cursors  *cursorCodec
	account  string   // integrated account id, binds cursors
	budget   int      // characters of result text a list page may fill
	declared []string // the tool's selectable fields
	meta     *metaCache
	op       Paging // an operation's paging arguments (Executor.Do)
	// modules are the record modules the caller may act on (nil: all);
	// allowed are the tool's modules among them (all of the tool's when
	// the caller's modules do not narrow them).
	modules []string
	allowed []string
	links   RecordURL // the template of a record's page in Bigin's web app
	orgID   string    // the account's organization
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
	// MaxResultChars is the server's result budget: how many characters
	// of result text a list tool fills a page with at most (a single
	// larger record still comes alone). 0 means DefaultMaxResultChars; a
	// URL's config may set its own (Caller.MaxResultChars).
	MaxResultChars int
	// Limiter keeps the rate limits' budgets; nil means one of the
	// Executor's own on Clock.
	Limiter *ratelimit.Limiter
	// Idempotency keeps the outcomes of writes called with an
	// idempotency_key (the Store; shared by replicas on etcd).
	Idempotency tokens.IdempotencyStore
	// RecordURL is the template of a record's page in Bigin's web app,
	// the url of ChatGPT's search and fetch results; the zero value is
	// DefaultRecordURL.
	RecordURL RecordURL
	Clock     clock.Clock
	Logger    *slog.Logger
}

// Executor runs tools for integrated accounts, the same way for every
// surface: it validates the arguments, calls Bigin through the account's
// shared client, enforces the URL's and the account's rate limits, turns
// failures into results a model can act on, flips the
// account to needs_reauth when Zoho refuses its refresh token, logs and
// audits every call.
type Executor struct {
	cat     *Catalog
	clients *zoho.Clients
	reauth  Reauther
	audit   tokens.AuditStore
	idem    tokens.IdempotencyStore
	cursors *cursorCodec
	budget  int
	limiter *ratelimit.Limiter
	meta    *metaCache
	links   RecordURL
	now     func() time.Time
	logger  *slog.Logger
	auditWG sync.WaitGroup
	// refused gathers the audit entries of calls refused before Zoho.
	refused *refusals
}

// errNoCursorKey guards against building a codec without a key.
var errNoCursorKey = errors.New("catalog: cursor key must be at least 32 bytes")

// NewExecutor returns an Executor.
func NewExecutor(o ExecutorOptions) (*Executor, error) {
	if o.Catalog == nil || o.Clients == nil || o.Reauth == nil || o.Audit == nil || o.Idempotency == nil {
		return nil, errors.New("catalog: Catalog, Clients, Reauth, Audit and Idempotency are required")
	}
	if len(o.CursorKey) < 32 {
		return nil, errNoCursorKey
	}
	budget := o.MaxResultChars
	if budget == 0 {
		budget = DefaultMaxResultChars
	}
	if !tokens.ValidResultBudget(budget) {
		return nil, fmt.Errorf("catalog: MaxResultChars must be %d to %d characters, got %d", tokens.MinResultChars, tokens.MaxResultChars, budget)
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	limiter := o.Limiter
	if limiter == nil {
		limiter = ratelimit.New(o.Clock)
	}
	clk := clock.OrSystem(o.Clock)
	x := &Executor{
		cat: o.Catalog, clients: o.Clients, reauth: o.Reauth, audit: o.Audit, idem: o.Idempotency,
		cursors: &cursorCodec{key: o.CursorKey}, budget: budget, limiter: limiter, meta: newMetaCache(clk.Now), links: o.RecordURL, now: clk.Now, logger: logger,
	}
	x.refused = &refusals{clock: clk, record: x.record, open: map[refusalKind]*refusalWindow{}}
	return x, nil
}

// Caller is a call as a surface hands it to the Executor: who makes it
// (the request's tokens.Caller, read from its context), where it came in
// and the limits that come with it.
type Caller struct {
	// Who makes the call, for the log and the audit entry; nil is the
	// system.
	Who *tokens.Caller
	// ServerID is the MCP URL whose limits apply (its server id).
	ServerID string
	// Surface names where the call came in: "mcp" (the default), or the
	// part of the REST face: "tools", "unified" or "proxy".
	Surface string
	// MaxResultChars is the URL's own result budget (its config's
	// max_result_chars); 0 means the server's.
	MaxResultChars int
	// RateLimit is the URL's own rate limit (its config's rate_limit);
	// nil means none. The account's applies as well.
	RateLimit *tokens.RateLimit
	// Modules are the record modules the call may act on (the URL's
	// config.modules, or the REST face's ?modules=); nil means all.
	Modules []string
}

// Result is a finished call: Body is the structured result's JSON on
// success; Failure is set instead when the call failed in a way a model
// can act on. Quota is the tightest rate limit the call was subject to
// (nil: none); when it is refused, Failure has code rate_limited and
// nothing reached Zoho.
type Result struct {
	Body    []byte
	Failure *Failure
	Quota   *Quota
}

// Call runs the tool for the account and returns its result; every
// failure a model can act on, including arguments that fail the tool's
// schema (code invalid_argument, nothing reaches Bigin), a module the
// caller may not act on (module_not_allowed) and a call over a rate limit
// (code rate_limited, refused before Zoho), is a Failure. A write called
// again with its idempotency_key and the same arguments returns the first
// call's outcome without reaching Zoho. Every call is logged and audited;
// repeated refusals of one kind are audited one entry a minute (see
// RefusalWindow).
func (x *Executor) Call(ctx context.Context, e *Entry, account *tokens.AccountInfo, raw []byte, who Caller) Result {
	args, err := e.Decode(raw)
	return x.run(ctx, e, account, raw, args, err, who, "")
}

// Operation is a call to Bigin that is not a declared tool (the unified
// and proxy APIs): Name is what the log and the audit entry show (e.g.
// "GET /proxy/users/{id}"), Run makes the call.
type Operation struct {
	Name string
	Args Args
	Run  func(ctx context.Context, c *Call) ([]byte, error)
}

// Args are the arguments of an Operation: what its log line and audit
// entry show, and the paging its Call reads (PageSize, Position).
type Args struct {
	ID         string   `json:"id" audit:"keep"`
	Type       string   `json:"type" audit:"keep"`
	Limit      int      `json:"limit" audit:"keep"`
	Fields     []string `json:"fields" audit:"keep"`
	NextCursor *string  `json:"next_cursor" audit:"flag"`
}

// operationArgs is how the audit reads an Operation's Args.
var operationArgs, _ = inspectArgs(reflect.TypeFor[Args]())

// Do runs an operation for the account the way Call runs a tool: through
// the account's shared client and rate limits, with the same failure
// classification, needs_reauth handling, log and audit. Its arguments are
// the caller's to validate.
func (x *Executor) Do(ctx context.Context, op Operation, account *tokens.AccountInfo, who Caller) Result {
	run := func(ctx context.Context, c *Call, a *Args) ([]byte, error) {
		c.op = Paging{Limit: a.Limit, NextCursor: a.NextCursor}
		return op.Run(ctx, c)
	}
	e := &Entry{Tool: Tool{Name: op.Name, Run: handle(run)}, args: operationArgs}
	args := op.Args
	return x.run(ctx, e, account, nil, &args, nil, who, op.Name)
}

// run calls e for the account with args, unless argErr (the arguments'
// *ArgsError) is set, a module is not allowed or a rate limit refuses
// it; raw are the arguments as sent (for an idempotency key's
// fingerprint); operation is set for calls that are not a tool.
func (x *Executor) run(ctx context.Context, e *Entry, account *tokens.AccountInfo, raw []byte, args any, argErr error,
	who Caller, operation string) Result {
	start := time.Now()
	fc := failCtx{entry: e, args: args, account: account.ID}
	refuse := func(f *Failure, quota *Quota) Result { // before Zoho
		x.refused.note(ctx, x.finish(ctx, e, account, args, who, start, f, operation, false))
		return Result{Failure: f, Quota: quota}
	}
	if argErr != nil {
		// Not Bigin's failure: argErr is the *ArgsError that fail classifies.
		return refuse(fc.fail(argErr), nil)
	}
	if f := checkModules(e, args, who.Modules); f != nil {
		return refuse(f, nil)
	}
	var claim *tokens.IdempotencyRecord
	if key := idempotencyKey(args); key != "" {
		var replay *Result
		var f *Failure
		claim, replay, f = x.claim(ctx, e, account, raw, key, who)
		if f != nil {
			return refuse(f, nil)
		}
		if replay != nil {
			x.record(ctx, x.finish(ctx, e, account, args, who, start, replay.Failure, operation, true))
			return *replay
		}
	}
	quota, refused := x.Admit(account, who)
	if refused != nil {
		x.release(ctx, claim)
		return refuse(refused, quota)
	}
	var body []byte
	var client *bigin.Client
	var err error
	if account.Status == tokens.StatusNeedsReauth {
		err = bigin.ErrRefreshRefused
	} else {
		client, err = x.clients.Get(ctx, account)
		if err == nil {
			body, err = e.Run.run(ctx, &Call{Tool: e.Name, Client: client, cursors: x.cursors, account: account.ID,
				budget: x.Budget(who), declared: e.Fields, meta: x.meta, modules: who.Modules,
				allowed: tokens.ToolModules(e.Policy(), tokens.Config{Modules: who.Modules}),
				links:   x.links, orgID: account.OrgID}, args)
		}
	}
	res := Result{Quota: quota}
	if err != nil {
		res.Failure = fc.fail(err)
		if res.Failure.Error.Code == tokens.CodeReauthorizationRequired && client != nil && x.clients.StillCurrent(context.WithoutCancel(ctx), account.ID, client) {
			if merr := x.reauth.MarkNeedsReauth(context.WithoutCancel(ctx), account.ID); merr != nil {
				x.logger.Error("mark account needs_reauth", "account_id", account.ID, "err", merr)
			}
		}
	} else {
		res.Body = body
	}
	if claim != nil {
		// Keep what Zoho answered for the records, and a write whose
		// answer was lost (a retry must not write again blindly); free
		// the key when Zoho surely wrote nothing.
		var wf *writesFailed
		if err == nil || errors.As(err, &wf) || outcomeUnknown(err) {
			x.keep(ctx, claim, res)
		} else {
			x.release(ctx, claim)
		}
	}
	x.record(ctx, x.finish(ctx, e, account, args, who, start, res.Failure, operation, false))
	return res
}

// moduleArgs are arguments that name record modules.
type moduleArgs interface {
	// modules returns the modules the call acts on ("" for one it could
	// not read, which the tool itself refuses).
	modules() []string
}

// checkModules refuses a call whose arguments name a module the caller
// may not act on; nothing reaches Zoho.
func checkModules(e *Entry, args any, allowed []string) *Failure {
	m, ok := args.(moduleArgs)
	if !ok || len(allowed) == 0 {
		return nil
	}
	for _, mod := range m.modules() {
		if mod == "" || slices.Contains(allowed, mod) {
			continue
		}
		te := &ToolError{Status: httpx.StatusOf(tokens.CodeModuleNotAllowed), Code: tokens.CodeModuleNotAllowed,
			Message: fmt.Sprintf("This MCP URL does not allow the %s module: its tools act only on %s; nothing was sent to Zoho.", mod, strings.Join(allowed, ", "))}
		return &Failure{Error: te, Text: te.Message + " Use one of those modules, or ask an administrator for a URL that allows " + mod + "."}
	}
	return nil
}

// finish logs a call that ran (or was refused, or replayed the outcome
// kept under its idempotency key) and returns its audit entry, for the
// caller to record or, for a refusal, to count. The audit's surface is mcp or
// rest; a REST call's part of the face (tools, unified, proxy) shows in
// its action. The audit keeps the arguments the type marks (ids, enums,
// numbers, field names), never free text or record contents.
func (x *Executor) finish(ctx context.Context, e *Entry, account *tokens.AccountInfo, args any, who Caller, start time.Time, f *Failure, operation string, replayed bool) *tokens.AuditEntry {
	latency := float64(time.Since(start).Microseconds()) / 1000
	outcome, status := "ok", http.StatusOK
	if f != nil {
		outcome, status = f.Error.Code, f.Error.Status
	}
	surface, action, tool := tokens.SurfaceMCP, "tool_call", e.Name
	switch who.Surface {
	case "", tokens.SurfaceMCP:
	default: // the REST face: tools, unified or proxy
		surface = tokens.SurfaceREST
	}
	if operation != "" {
		action, tool = who.Surface+"_call", ""
	}
	trace := httpx.TraceParent(ctx)
	attrs := []any{"tool", tool, "surface", surface, "mcp_server_id", who.ServerID, "account_id", account.ID,
		"outcome", outcome, "latency_ms", latency}
	if operation != "" {
		attrs = append(attrs, "operation", operation)
	}
	if trace != "" {
		attrs = append(attrs, "traceparent", trace)
	}
	kept := e.args.audit(args)
	if m, ok := args.(moduleArgs); ok && kept["module"] == nil {
		// A COQL query names its module in its text, which is not kept;
		// only a module's name is, never another word.
		if mods := m.modules(); len(mods) > 0 && slices.Contains(e.Modules, mods[0]) {
			if kept == nil {
				kept = map[string]any{}
			}
			kept["module"] = mods[0]
		}
	}
	if replayed {
		attrs = append(attrs, "idempotent_replay", true)
		if kept == nil {
			kept = map[string]any{}
		}
		kept["idempotent_replay"] = true
	}
	x.logger.Info("tool call", attrs...)
	entry := &tokens.AuditEntry{
		Actor: who.Who.Actor(), Surface: surface, Action: action, APITokenID: who.Who.APITokenID(),
		AccountID: account.ID, MCPServerID: who.ServerID, Tool: tool, Operation: operation, Args: kept,
		Outcome: outcome, Status: status, LatencyMS: latency, TraceID: httpx.TraceID(trace),
	}
	if who.Who != nil && who.Who.Grant != nil {
		g := who.Who.Grant
		entry.UserZUID, entry.UserEmail, entry.OAuthClient = g.ZUID, g.Email, g.ClientID
	}
	return entry
}

// Budget is the result budget of a call by who: the URL's, else the
// server's.
func (x *Executor) Budget(who Caller) int {
	if who.MaxResultChars > 0 {
		return who.MaxResultChars
	}
	return x.budget
}

func (x *Executor) record(ctx context.Context, entry *tokens.AuditEntry) {
	entry.ID = uuid.Must(uuid.NewV7()).String()
	entry.Time = x.now().UTC()
	// The entry is written in the background: the store batches
	// concurrent appends into one transaction (and one fsync), which
	// takes up to its batch delay, and the caller should not wait for
	// that. Flush waits for every pending entry before shutdown.
	x.auditWG.Add(1)
	go func() {
		defer x.auditWG.Done()
		if err := x.audit.AppendAudit(context.WithoutCancel(ctx), entry); err != nil {
			x.logger.Error("audit tool call", "tool", entry.Tool, "mcp_server_id", entry.MCPServerID, "err", err)
		}
	}()
}

// Flush writes the entries of refusals still being counted and waits
// until every audit entry of finished calls is stored; call it after the
// HTTP server has shut down and before the store closes.
func (x *Executor) Flush() {
	x.refused.flush()
	x.auditWG.Wait()
}
