package mcp

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
)

// Operation is one MCP request or notification the server handled, as
// Options.Observe receives it (the OpenTelemetry MCP conventions' names).
// No field ever holds an id, a token or a user.
type Operation struct {
	// Method is the JSON-RPC method, or "_OTHER" for one the server does
	// not know.
	Method string
	// Tool is the called tool of a tools/call, when it is one of the
	// catalog's; "" otherwise.
	Tool string
	// ErrorType is "" on success, "tool_error" for a tool result with
	// isError, the JSON-RPC error code for a protocol error, "_OTHER" for
	// any other failure.
	ErrorType string
	Duration  time.Duration
}

// knownMethods are the JSON-RPC methods reported by name; any other is
// "_OTHER", so a client cannot grow the metrics' label values.
var knownMethods = map[string]bool{
	"initialize": true, "server/discover": true, "ping": true, "tools/list": true, "tools/call": true,
	"resources/list": true, "resources/templates/list": true, "resources/read": true,
	"resources/subscribe": true, "resources/unsubscribe": true, "subscriptions/listen": true,
	"prompts/list": true, "prompts/get": true, "logging/setLevel": true, "completion/complete": true,
	"notifications/initialized": true, "notifications/cancelled": true, "notifications/progress": true,
	"notifications/roots/list_changed": true, "notifications/elicitation/complete": true,
}

// middleware observes each request the server receives and takes a W3C
// traceparent from its _meta (the 2026-07-28 place for it) into the
// request's log line and context.
func (h *Handler) middleware(next sdk.MethodHandler) sdk.MethodHandler {
	return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
		if tp, ok := metaOf(req.GetParams())["traceparent"].(string); ok {
			ctx = httpx.WithTraceParent(ctx, tp)
		}
		if h.opts.Observe == nil {
			return next(ctx, method, req)
		}
		start := time.Now()
		res, err := next(ctx, method, req)
		op := Operation{Method: method, Duration: time.Since(start)}
		if !knownMethods[method] {
			op.Method = "_OTHER"
		}
		if ct, ok := req.(*sdk.CallToolRequest); ok && ct.Params != nil {
			if _, known := h.opts.Catalog.Lookup(ct.Params.Name); known {
				op.Tool = ct.Params.Name
			}
		}
		var werr *jsonrpc.Error
		switch {
		case errors.As(err, &werr):
			op.ErrorType = strconv.FormatInt(int64(werr.Code), 10)
		case err != nil:
			op.ErrorType = "_OTHER"
		default:
			if r, ok := res.(*sdk.CallToolResult); ok && r.IsError {
				op.ErrorType = "tool_error"
			}
		}
		h.opts.Observe(op)
		return res, err
	}
}

// metaOf returns the _meta of a request's params, nil when there are no
// params (the SDK hands a typed nil for a request sent without them).
func metaOf(p sdk.Params) map[string]any {
	if p == nil {
		return nil
	}
	if v := reflect.ValueOf(p); v.Kind() == reflect.Pointer && v.IsNil() {
		return nil
	}
	return p.GetMeta()
}

// OpenStreams returns how many legacy SSE streams are open.
func (h *Handler) OpenStreams() int { return h.streams.counts().Open }
