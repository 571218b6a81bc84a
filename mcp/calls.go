package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/store"
)

// toolHandler adapts a tool definition to the go-sdk for one URL: it
// validates the arguments (a schema failure is a JSON-RPC error, SPEC §6),
// calls Bigin, turns failures into tool results, flips the account to
// needs_reauth when Zoho refuses its refresh token, and audits the call.
func (h *Handler) toolHandler(def *toolDef, info serverInfo) sdk.ToolHandler {
	name := def.policy.Name
	return func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		start := time.Now()
		args, err := def.decode(req.Params.Arguments)
		if err != nil {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("invalid arguments for %s: %v", name, err)}
		}
		var body []byte
		var client *bigin.Client
		if info.account.Status == store.StatusNeedsReauth {
			err = bigin.ErrRefreshRefused
		} else {
			client, err = h.clients.get(ctx, info.account)
			if err == nil {
				body, err = def.call(ctx, &call{tool: name, args: args, client: client, cursors: h.cursors, account: info.account.ID})
			}
		}
		var result *sdk.CallToolResult
		outcome := "ok"
		if err != nil {
			var te *toolError
			result, te = failure(name, args, err)
			outcome = te.Code
			if te.Code == codeReauth && client != nil && h.clients.stillCurrent(context.WithoutCancel(ctx), info.account.ID, client) {
				if merr := h.opts.Resolver.MarkNeedsReauth(context.WithoutCancel(ctx), info.account.ID); merr != nil {
					h.logger.Error("mark account needs_reauth", "account_id", info.account.ID, "err", merr)
				}
			}
		} else {
			result = success(body)
		}
		h.logger.Info("tool call", "tool", name, "mcp_server_id", info.serverID, "account_id", info.account.ID,
			"outcome", outcome, "latency_ms", float64(time.Since(start).Microseconds())/1000)
		h.audit(ctx, info, name, outcome)
		return result, nil
	}
}

func (h *Handler) audit(ctx context.Context, info serverInfo, tool, outcome string) {
	e := &store.AuditEntry{
		ID:          uuid.Must(uuid.NewV7()).String(),
		Time:        time.Now().UTC(),
		Actor:       "mcp:" + info.serverID,
		Action:      "tool_call",
		AccountID:   info.account.ID,
		MCPServerID: info.serverID,
		Tool:        tool,
		Outcome:     outcome,
	}
	// The entry is written in the background: the store batches
	// concurrent appends into one transaction (and one fsync), which
	// takes up to its batch delay, and the caller should not wait for
	// that. FlushAudit waits for every pending entry before shutdown.
	h.auditWG.Add(1)
	go func() {
		defer h.auditWG.Done()
		if err := h.opts.Store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
			h.logger.Error("audit tool call", "tool", tool, "mcp_server_id", info.serverID, "err", err)
		}
	}()
}

// FlushAudit waits until every audit entry of finished tool calls is
// stored; call it after the HTTP server has shut down and before the
// store closes.
func (h *Handler) FlushAudit() { h.auditWG.Wait() }

// decode validates raw arguments against the tool's input schema and
// decodes them.
func (d *toolDef) decode(raw json.RawMessage) (toolArgs, error) {
	var args toolArgs
	var instance any = map[string]any{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &instance); err != nil {
			return args, fmt.Errorf("arguments are not valid JSON: %w", err)
		}
	}
	if err := d.input.Validate(instance); err != nil {
		return args, err
	}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &args); err != nil {
			return args, err
		}
	}
	return args, nil
}
