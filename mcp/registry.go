package mcp

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// toolDef is one tool of SPEC §6: its policy (name, method, tags), what the
// client sees (title, description, schemas, annotations) and its handler.
type toolDef struct {
	policy tokens.Tool
	tool   *sdk.Tool // shared by every server that offers the tool; never mutated
	input  *jsonschema.Resolved
	call   func(ctx context.Context, c *call) ([]byte, error)
}

// call is one tool invocation: the decoded arguments and what the handler
// needs to reach Bigin.
type call struct {
	tool    string
	args    toolArgs
	client  *bigin.Client
	cursors *cursorCodec
	account string // integrated account id, binds cursors
}

// toolArgs is the union of every tool's arguments; the input schema decides
// which of them a tool accepts.
type toolArgs struct {
	ID         string  `json:"id"`
	Type       string  `json:"type"`
	Limit      int     `json:"limit"`
	NextCursor *string `json:"next_cursor"`
}

// Registry is the set of tools this server knows, with their schemas encoded
// once. It is immutable after NewRegistry and shared by every MCP server.
type Registry struct {
	defs   []*toolDef
	byName map[string]*toolDef
}

// NewRegistry builds the seven tools of SPEC §6. It fails only if a schema
// in this file is malformed or the tool set disagrees with tokens.Catalog.
func NewRegistry() (*Registry, error) {
	r := &Registry{byName: map[string]*toolDef{}}
	for _, spec := range toolSpecs() {
		def, err := spec.build()
		if err != nil {
			return nil, fmt.Errorf("tool %s: %w", spec.name, err)
		}
		r.defs = append(r.defs, def)
		r.byName[def.policy.Name] = def
	}
	catalog := tokens.Catalog()
	if len(catalog) != len(r.defs) {
		return nil, fmt.Errorf("registry has %d tools, tokens.Catalog %d", len(r.defs), len(catalog))
	}
	for _, t := range catalog {
		def, ok := r.byName[t.Name]
		if !ok {
			return nil, fmt.Errorf("tool %s is in tokens.Catalog but not in the registry", t.Name)
		}
		def.policy = t
	}
	return r, nil
}

// Tools returns the tool definitions as clients see them, in catalog order.
func (r *Registry) Tools() []*sdk.Tool {
	out := make([]*sdk.Tool, len(r.defs))
	for i, d := range r.defs {
		out[i] = d.tool
	}
	return out
}

// toolSpec is the source form of a tool, turned into a toolDef once.
type toolSpec struct {
	name, title, description string
	readOnly                 bool
	input                    map[string]any
	output                   map[string]any
	call                     func(ctx context.Context, c *call) ([]byte, error)
}

func (s toolSpec) build() (*toolDef, error) {
	in, err := json.Marshal(s.input)
	if err != nil {
		return nil, err
	}
	var schema jsonschema.Schema
	if err := json.Unmarshal(in, &schema); err != nil {
		return nil, fmt.Errorf("input schema: %w", err)
	}
	resolved, err := schema.Resolve(nil)
	if err != nil {
		return nil, fmt.Errorf("input schema: %w", err)
	}
	out, err := json.Marshal(s.output)
	if err != nil {
		return nil, err
	}
	f, t := false, true
	ann := &sdk.ToolAnnotations{
		Title:          s.title,
		ReadOnlyHint:   s.readOnly,
		IdempotentHint: true,
		OpenWorldHint:  &t,
	}
	if s.readOnly {
		ann.DestructiveHint = &f
	} else {
		ann.DestructiveHint = &t
	}
	return &toolDef{
		policy: tokens.Tool{Name: s.name},
		tool: &sdk.Tool{
			Name:         s.name,
			Title:        s.title,
			Description:  s.description,
			InputSchema:  json.RawMessage(in),
			OutputSchema: json.RawMessage(out),
			Annotations:  ann,
		},
		input: resolved,
		call:  s.call,
	}, nil
}
