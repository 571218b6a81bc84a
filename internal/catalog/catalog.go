// Package catalog declares every tool once: its name, title, description,
// method, tags, the Zoho scopes and record modules it needs, its own
// argument type with the input schema that publishes it, its output
// schema, and the handler that calls Bigin. Every surface (MCP, and the
// REST face) offers tools from this catalog and runs them through its
// Executor, and the policy (tokens.Inventory) reads the same declarations
// to decide which tools a URL's config allows.
//
// Results are sized for a model here, so every surface gets the same
// pages: a list page ends at `limit` records or at the result budget
// (characters of the result text; the server's, or the calling URL's passed
// in Caller.MaxResultChars), next_cursor is the position of the next
// record, and `fields` projects records before they are counted.
//
// Adding a tool is: its declaration in tools.go, records.go or
// chatgpt.go, its call in package bigin, its route in the sandbox, and its
// schema snapshot in mcp/testdata.
package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"

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
	// Scopes are the Zoho OAuth scopes its Bigin calls need; connect and
	// reconnect links ask for every one of them.
	Scopes []string
	// Modules are the record modules it acts on; nil for a tool that
	// acts on none. A `module` argument takes them, in this order, as its
	// enum, which a URL's config.modules narrows; a call naming a module
	// the URL leaves out is refused.
	Modules []string
	Input   map[string]any // JSON Schema of the arguments
	Output  map[string]any // JSON Schema of the structured result
	// Hints add advice to a Zoho error with this code, after Zoho's own
	// message; "{id}" is replaced by the call's id argument.
	Hints map[string]string
	// Fields are the record fields the `fields` argument may select, in
	// the order results list them; nil when the tool takes no `fields`
	// or takes Zoho's field names as they are. The input schema's
	// `fields` property must then be fieldsSchema(Fields).
	Fields []string
	// TextAlways keeps the text block that repeats a successful result
	// for every MCP client, even where the server's structured-only
	// opt-in leaves it out: ChatGPT reads search's and fetch's results
	// from that one text block.
	TextAlways bool
	// Run calls Bigin with the tool's own arguments and returns the
	// structured result's JSON: handle(f) for a function of the tool's
	// argument type, whose JSON fields must be the input schema's
	// properties.
	Run Handler
}

// Handler runs a tool with arguments of its own type.
type Handler interface {
	argType() reflect.Type
	run(ctx context.Context, c *Call, args any) ([]byte, error)
}

// typed is a Handler over arguments of type A, decoded into a new *A.
type typed[A any] func(ctx context.Context, c *Call, a *A) ([]byte, error)

func (f typed[A]) argType() reflect.Type { return reflect.TypeFor[A]() }

func (f typed[A]) run(ctx context.Context, c *Call, args any) ([]byte, error) {
	return f(ctx, c, args.(*A))
}

// handle makes the Handler of a tool whose arguments are an A.
func handle[A any](f func(ctx context.Context, c *Call, a *A) ([]byte, error)) Handler {
	return typed[A](f)
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

// Policy is the tool as the policy sees it.
func (t *Tool) Policy() tokens.Tool {
	return tokens.Tool{Name: t.Name, Method: t.Method, Tags: t.Tags, Modules: t.Modules}
}

// Entry is a declared tool with its schemas encoded and compiled once.
type Entry struct {
	Tool
	// InputSchema and OutputSchema are the encoded schemas, shared by
	// every server that offers the tool; never modify them. InputSchema
	// offers every module; InputSchemaFor gives a URL's.
	InputSchema  json.RawMessage
	OutputSchema json.RawMessage
	input        *jsonschema.Resolved
	args         *argInfo

	mu       sync.Mutex
	narrowed map[string]json.RawMessage // input schemas by the modules they offer
}

// Catalog is the set of declared tools, built once and shared.
type Catalog struct {
	entries []*Entry
	byName  map[string]*Entry
	inv     *tokens.Inventory
}

// New builds the catalog from the declarations in tools.go, records.go
// and chatgpt.go. It fails only if a declaration is malformed.
func New() (*Catalog, error) { return build(declarations()) }

// declarations declares every tool, in the order clients list them. Tool
// names are part of the published inventory and never change.
// Descriptions are API too: a model reads them to decide what to call, so
// change them with care (the schema snapshots under mcp/testdata/toolsnaps
// make every change visible).
func declarations() []Tool { return slices.Concat(directoryTools(), recordTools(), chatgptTools()) }

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
		policy = append(policy, t.Policy())
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
	t.Description = strings.TrimSpace(t.Description)
	if t.Run == nil || t.Title == "" || t.Description == "" {
		return nil, fmt.Errorf("a tool needs a title, a description and Run")
	}
	if len(t.Fields) > 0 && !slices.Contains(t.Fields, "id") {
		return nil, fmt.Errorf("selectable fields must include id, which every projection keeps")
	}
	if err := checkModuleEnum(t); err != nil {
		return nil, err
	}
	info, err := inspectArgs(t.Run.argType())
	if err != nil {
		return nil, err
	}
	if err := info.agree(t.Input); err != nil {
		return nil, fmt.Errorf("the arguments' type and the input schema disagree: %w", err)
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
	return &Entry{Tool: t, InputSchema: in, OutputSchema: out, input: resolved, args: info}, nil
}

// checkModuleEnum requires a tool's `module` argument to take the tool's
// Modules, and only them, as its enum. A tool with Modules may name its
// module another way (a COQL query's FROM).
func checkModuleEnum(t Tool) error {
	props, _ := t.Input["properties"].(map[string]any)
	p, has := props["module"].(map[string]any)
	switch {
	case !has:
		return nil
	case len(t.Modules) == 0:
		return fmt.Errorf("a tool with a module argument declares its Modules")
	}
	if enum, _ := p["enum"].([]string); !slices.Equal(enum, t.Modules) {
		return fmt.Errorf("the module argument's enum %v is not the tool's Modules %v", enum, t.Modules)
	}
	return nil
}

// ModulesUnder returns the modules the tool's `module` argument takes
// under a URL's config, in the tool's order; nil for a tool that acts on
// no module.
func (e *Entry) ModulesUnder(c tokens.Config) []string { return tokens.ToolModules(e.Policy(), c) }

// InputSchemaFor returns the input schema that offers only the given
// modules (ModulesUnder's answer) as the `module` argument's enum: what a
// URL whose config narrows the modules publishes. Each distinct set is
// encoded once and shared; every module, or a tool without modules, is
// InputSchema.
func (e *Entry) InputSchemaFor(modules []string) json.RawMessage {
	props, _ := e.Input["properties"].(map[string]any)
	if _, has := props["module"]; !has || len(modules) == 0 || slices.Equal(modules, e.Modules) {
		return e.InputSchema
	}
	key := strings.Join(modules, ",")
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.narrowed[key]; ok {
		return s
	}
	props = maps.Clone(props)
	module := maps.Clone(props["module"].(map[string]any))
	module["enum"] = slices.Clone(modules)
	props["module"] = module
	schema := maps.Clone(e.Input)
	schema["properties"] = props
	b, err := json.Marshal(schema)
	if err != nil { // the full schema encoded at build, and only an enum of strings changed
		panic(fmt.Sprintf("catalog: encode the input schema of %s: %v", e.Name, err))
	}
	if e.narrowed == nil {
		e.narrowed = map[string]json.RawMessage{}
	}
	e.narrowed[key] = b
	return b
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
