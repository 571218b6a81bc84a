package mcp

import (
	"context"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bigin-mcp/bigin-mcp/internal/catalog"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// sdkTool is a catalog tool as MCP clients see it under a URL's config,
// with every annotation set explicitly: its `module` argument offers the
// modules the config allows. One is built per tool and distinct set of
// modules, and shared by every server that offers it.
func (h *Handler) sdkTool(e *catalog.Entry, c tokens.Config) *sdk.Tool {
	modules := e.ModulesUnder(c)
	key := e.Name + "|" + strings.Join(modules, ",")
	h.toolsMu.Lock()
	defer h.toolsMu.Unlock()
	if t, ok := h.tools[key]; ok {
		return t
	}
	t := newSDKTool(e, modules)
	h.tools[key] = t
	return t
}

func newSDKTool(e *catalog.Entry, modules []string) *sdk.Tool {
	a := e.Annotations()
	return &sdk.Tool{
		Name:         e.Name,
		Title:        e.Title,
		Description:  e.Description,
		InputSchema:  e.InputSchemaFor(modules),
		OutputSchema: e.OutputSchema,
		Annotations: &sdk.ToolAnnotations{
			Title:           e.Title,
			ReadOnlyHint:    a.ReadOnly,
			DestructiveHint: &a.Destructive,
			IdempotentHint:  a.Idempotent,
			OpenWorldHint:   &a.OpenWorld,
		},
	}
}

// toolHandler adapts a catalog tool to the go-sdk for one URL. Every
// outcome is a tool result, including arguments that fail the schema
// (isError, code invalid_argument), so the model can correct itself; only
// an unknown tool is a JSON-RPC error, and the go-sdk answers that before
// any handler runs.
func (h *Handler) toolHandler(e *catalog.Entry, res *tokens.Resolved) sdk.ToolHandler {
	base := catalog.Caller{ServerID: res.Server.ID, Surface: tokens.SurfaceMCP,
		MaxResultChars: res.Server.Config.MaxResultChars, RateLimit: res.Server.Config.RateLimit, Modules: res.Server.Config.Modules}
	return func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		who := base
		// Admission identified the request; over legacy SSE, the stream's,
		// whose session takes messages from that caller alone
		// (checkSessionCaller).
		who.Who = tokens.CallerFrom(ctx)
		out := h.exec.Call(ctx, e, res.Account, req.Params.Arguments, who)
		if out.Failure != nil {
			return failure(out.Failure), nil
		}
		return success(out.Body, e.TextAlways), nil
	}
}

// success is a tool result whose structured content is body, repeated as
// the text block (for every client when textAlways); writeOnce encodes
// both in one pass.
func success(body []byte, textAlways bool) *sdk.CallToolResult {
	return &sdk.CallToolResult{StructuredContent: &encoded{body: body, textAlways: textAlways}}
}

// failure is a tool result with isError: a text a model can act on,
// followed by the structured error. The text never holds a token or
// secret: errors from bigin carry none.
func failure(f *catalog.Failure) *sdk.CallToolResult {
	return &sdk.CallToolResult{IsError: true, StructuredContent: &encoded{text: f.Text + "\n", body: f.Body()}}
}
