// Package catalog declares every tool once: its name, title, description,
// method, tags, input and output schemas, and the handler that calls Bigin.
// Every surface (MCP, and the REST face) offers tools from this catalog and
// runs them through its Executor, and the policy (tokens.Inventory) reads
// the same declarations to decide which tools a URL's config allows.
//
// Results are sized for a model here, so every surface gets the same
// pages: a list page ends at `limit` records or at the result budget
// (characters of the result text; the server's, or the calling URL's passed
// in Caller.MaxResultChars), next_cursor is the position of the next
// record, and `fields` projects records before they are counted.
//
// Adding a tool is: its declaration in tools.go, its call in package bigin,
// its route in the sandbox, and its schema snapshot in mcp/testdata.
package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Tool is the declaration of one tool.
type Tool struct {
	Name        string
	Title       string
	Description string
	Method      string // tokens.MethodList, MethodGet, MethodCreate, MethodUpdate or MethodDelete
	Tags        []string
	Input       map[string]any // JSON Schema of the arguments
	Output      map[string]any // JSON Schema of the structured result
	// Hints add advice to a Zoho error with this code, after Zoho's own
	// message; "{id}" is replaced by the call's id argument.
	Hints map[string]string
	// Fields are the record fields the `fields` argument may select, in
	// the order results list them; nil when the tool takes no `fields`.
	// The input schema's `fields` property must be fieldsSchema(Fields).
	Fields []string
	// Run calls Bigin and returns the structured result's JSON.
	Run func(ctx context.Context, c *Call) ([]byte, error)
}

// Annotations are the behaviour hints a client shows for a tool. They
// follow from its method: list and get only read; delete destroys
// (repeating it changes nothing more); create and update change data and
// are not idempotent. Every tool reaches Zoho, an open world.
type Annotations struct {
	ReadOnly    bool
	Destructive bool
	Idempotent  bool
	OpenWorld   bool
}

// Annotations derives the tool's annotations from its method.
func (t *Tool) Annotations() Annotations {
	switch t.Method {
	case tokens.MethodList, tokens.MethodGet:
		return Annotations{ReadOnly: true, Idempotent: true, OpenWorld: true}
	case tokens.MethodDelete:
		return Annotations{Destructive: true, Idempotent: true, OpenWorld: true}
	case tokens.MethodUpdate:
		return Annotations{Destructive: true, OpenWorld: true}
	default: // create
		return Annotations{OpenWorld: true}
	}
}

// Entry is a declared tool with its schemas encoded and compiled once.
type Entry struct {
	Tool
	// InputSchema and OutputSchema are the encoded schemas, shared by
	// every server that offers the tool; never modify them.
	InputSchema  json.RawMessage
	OutputSchema json.RawMessage
	input        *jsonschema.Resolved
}

// Catalog is the set of declared tools, built once and shared.
type Catalog struct {
	entries []*Entry
	byName  map[string]*Entry
	inv     *tokens.Inventory
}

// New builds the catalog from the declarations in tools.go. It fails only
// if a declaration is malformed.
func New() (*Catalog, error) { return build(declarations()) }

func build(tools []Tool) (*Catalog, error) {
	c := &Catalog{byName: map[string]*Entry{}}
	policy := make([]tokens.Tool, 0, len(tools))
	for _, t := range tools {
		e, err := compile(t)
		if err != nil {
			return nil, fmt.Errorf("tool %s: %w", t.Name, err)
		}
		c.entries = append(c.entries, e)
		c.byName[t.Name] = e
		policy = append(policy, tokens.Tool{Name: t.Name, Method: t.Method, Tags: t.Tags})
	}
	inv, err := tokens.NewInventory(policy)
	if err != nil {
		return nil, err
	}
	c.inv = inv
	return c, nil
}

// Inventory is the policy's view of the catalog, for tokens.Service.
func (c *Catalog) Inventory() *tokens.Inventory { return c.inv }

// Entries returns the tools in declaration order (shared; do not modify).
func (c *Catalog) Entries() []*Entry { return c.entries }

// Lookup returns the named tool.
func (c *Catalog) Lookup(name string) (*Entry, bool) {
	e, ok := c.byName[name]
	return e, ok
}

func compile(t Tool) (*Entry, error) {
	if t.Run == nil || t.Title == "" || t.Description == "" {
		return nil, fmt.Errorf("a tool needs a title, a description and Run")
	}
	if len(t.Fields) > 0 && !slices.Contains(t.Fields, "id") {
		return nil, fmt.Errorf("selectable fields must include id, which every projection keeps")
	}
	in, err := json.Marshal(t.Input)
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
	out, err := json.Marshal(t.Output)
	if err != nil {
		return nil, err
	}
	return &Entry{Tool: t, InputSchema: in, OutputSchema: out, input: resolved}, nil
}

// Args is the union of every tool's arguments; the input schema decides
// which of them a tool accepts.
type Args struct {
	ID         string   `json:"id"`
	Type       string   `json:"type"`
	Limit      int      `json:"limit"`
	Fields     []string `json:"fields"`
	NextCursor *string  `json:"next_cursor"`
}

// checkFields refuses a field name the tool does not know, with a message
// that lists the ones it does (the schema's own enum error is less plain).
// Anything else wrong with `fields` is left to the schema.
func (e *Entry) checkFields(instance any) error {
	obj, _ := instance.(map[string]any)
	list, _ := obj["fields"].([]any)
	if len(e.Fields) == 0 {
		return nil
	}
	for _, f := range list {
		name, ok := f.(string)
		if ok && !slices.Contains(e.Fields, name) {
			return fmt.Errorf("unknown field %q in fields (names are Zoho's and case-sensitive); valid fields: %s", name, strings.Join(e.Fields, ", "))
		}
	}
	return nil
}
