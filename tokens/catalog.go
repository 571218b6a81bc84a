package tokens

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Exact method names a tool can have, and that config.methods accepts.
const (
	MethodList   = "list"
	MethodGet    = "get"
	MethodCreate = "create"
	MethodUpdate = "update"
	MethodDelete = "delete"
)

// Method groups config.methods accepts: each stands for the exact methods
// it expands to.
const (
	MethodRead  = "read"  // get + list
	MethodWrite = "write" // create + update + delete
)

// Tool is the policy's view of one tool: its name, method and tags, and
// the record modules it acts on. The tool catalog declares each tool once
// and hands these to NewInventory.
type Tool struct {
	Name   string
	Method string
	Tags   []string
	// Modules are the record modules (Zoho's API names) the tool's
	// `module` argument takes, in the order it lists them; nil for a tool
	// that acts on no module (the directory tools). A config's modules
	// narrow them, and a tool left with none is not offered.
	Modules []string
}

// methodWords maps every word accepted in config.methods to the exact
// methods it allows.
var methodWords = map[string][]string{
	MethodRead:   {MethodGet, MethodList},
	MethodWrite:  {MethodCreate, MethodUpdate, MethodDelete},
	MethodList:   {MethodList},
	MethodGet:    {MethodGet},
	MethodCreate: {MethodCreate},
	MethodUpdate: {MethodUpdate},
	MethodDelete: {MethodDelete},
}

// validMethodWords are methodWords' keys in the order error messages offer
// them.
var validMethodWords = []string{MethodRead, MethodWrite, MethodList, MethodGet, MethodCreate, MethodUpdate, MethodDelete}

// MethodWords returns every word config.methods accepts: the groups read
// and write, then the exact methods.
func MethodWords() []string { return slices.Clone(validMethodWords) }

// maxTools bounds an inventory: a set of allowed tools is a bit mask.
const maxTools = 64

// Inventory is the set of tools a server offers, as the policy sees them:
// it decides which of them a URL's config allows. It is safe for
// concurrent use.
type Inventory struct {
	tools   []Tool
	tags    []string // every tag, sorted
	modules []string // every module, in the order tools first name them

	mu    sync.Mutex
	lists map[uint64][]string // allowed names by mask, shared by every config that allows them
}

// NewInventory returns the inventory of tools, in the order given (the
// order tools are listed to clients). Names must be unique and methods
// exact method names.
func NewInventory(tools []Tool) (*Inventory, error) {
	if len(tools) == 0 || len(tools) > maxTools {
		return nil, fmt.Errorf("tokens: an inventory has 1 to %d tools, not %d", maxTools, len(tools))
	}
	inv := &Inventory{lists: map[uint64][]string{}}
	seen := map[string]bool{}
	for _, t := range tools {
		if seen[t.Name] {
			return nil, fmt.Errorf("tokens: tool %s is declared twice", t.Name)
		}
		seen[t.Name] = true
		if len(methodWords[t.Method]) != 1 {
			return nil, fmt.Errorf("tokens: tool %s has method %q, not one of list, get, create, update, delete", t.Name, t.Method)
		}
		t.Tags = slices.Clone(t.Tags)
		t.Modules = slices.Clone(t.Modules)
		inv.tools = append(inv.tools, t)
		inv.tags = append(inv.tags, t.Tags...)
		for _, m := range t.Modules {
			if !slices.Contains(inv.modules, m) {
				inv.modules = append(inv.modules, m)
			}
		}
	}
	slices.Sort(inv.tags)
	inv.tags = slices.Compact(inv.tags)
	return inv, nil
}

// Tools returns the inventory's tools in order (a copy).
func (inv *Inventory) Tools() []Tool {
	out := make([]Tool, len(inv.tools))
	for i, t := range inv.tools {
		t.Tags = slices.Clone(t.Tags)
		t.Modules = slices.Clone(t.Modules)
		out[i] = t
	}
	return out
}

// Tags returns every tag the tools carry, sorted.
func (inv *Inventory) Tags() []string { return slices.Clone(inv.tags) }

// Modules returns every record module a tool acts on, the words
// config.modules accepts, in the order the tools list them (Contacts
// first).
func (inv *Inventory) Modules() []string { return slices.Clone(inv.modules) }

// ToolModules returns the modules the tool takes under a config: its own
// modules that the config's modules allow, in the tool's order. It is
// nil for a tool that acts on no module, and the tool's own list (shared:
// do not modify) when the config allows every module.
func ToolModules(t Tool, c Config) []string {
	if len(t.Modules) == 0 || len(c.Modules) == 0 {
		return t.Modules
	}
	var out []string
	for _, m := range t.Modules {
		if slices.Contains(c.Modules, m) {
			out = append(out, m)
		}
	}
	return out
}

// ModuleAllowed reports whether a config's modules allow the module:
// every module when it names none.
func (c Config) ModuleAllowed(module string) bool {
	return len(c.Modules) == 0 || slices.Contains(c.Modules, module)
}

// Offer is one tool a config offers: its name and method, and the
// modules it takes under the config (nil for a tool that acts on none).
type Offer struct {
	Name    string
	Method  string
	Modules []string
}

// Preview checks c as Normalize does and returns the tools it offers, in
// inventory order, each with the modules its `module` argument takes
// under it: what a URL minted with c would list. A form that edits a
// URL's policy shows it as the person types.
func (inv *Inventory) Preview(c Config) ([]Offer, error) {
	n, err := inv.Normalize(c)
	if err != nil {
		return nil, err
	}
	names := inv.Allowed(n)
	out := make([]Offer, 0, len(names))
	for _, t := range inv.tools {
		if slices.Contains(names, t.Name) {
			out = append(out, Offer{Name: t.Name, Method: t.Method, Modules: slices.Clone(ToolModules(t, n))})
		}
	}
	return out, nil
}

// Allowed returns the names of the tools the config allows, in inventory
// order. methods AND tags apply, and a tool that acts on modules needs
// one the config's modules allow; empty means all. Words that are not
// methods, tags or modules (a config that skipped Normalize) match
// nothing.
//
// The returned slice is shared by every config that allows the same tools
// (an index of 100,000 URLs holds a handful of distinct lists, not
// 100,000): callers must not modify it.
func (inv *Inventory) Allowed(c Config) []string {
	var mask uint64
	for i, t := range inv.tools {
		if methodAllowed(c.Methods, t.Method) && tagAllowed(c.Tags, t.Tags) && (len(t.Modules) == 0 || len(ToolModules(t, c)) > 0) {
			mask |= 1 << i
		}
	}
	if mask == 0 {
		return nil
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if l, ok := inv.lists[mask]; ok {
		return l
	}
	var names []string
	for i, t := range inv.tools {
		if mask&(1<<i) != 0 {
			names = append(names, t.Name)
		}
	}
	names = slices.Clip(names)
	inv.lists[mask] = names
	return names
}

func methodAllowed(words []string, method string) bool {
	if len(words) == 0 {
		return true
	}
	for _, w := range words {
		if slices.Contains(methodWords[strings.ToLower(w)], method) {
			return true
		}
	}
	return false
}

func tagAllowed(want, have []string) bool {
	if len(want) == 0 {
		return true
	}
	for _, w := range want {
		if slices.Contains(have, strings.ToLower(w)) {
			return true
		}
	}
	return false
}

// Normalize checks c against the config rules and returns it in stored
// form: methods and tags lowercased, deduplicated and sorted (read and
// write are kept as words, so a GET shows what was asked for), nil when
// empty. Errors are invalid_argument errors whose messages name the valid
// values. A config that leaves no tool is refused, and so is a result
// budget outside its bounds (0 is none: the server's applies).
func (inv *Inventory) Normalize(c Config) (Config, error) {
	if c.MaxResultChars != 0 && !ValidResultBudget(c.MaxResultChars) {
		return Config{}, invalidf("config.max_result_chars must be %d to %d characters, got %d; null (or 0) uses the server's budget",
			MinResultChars, MaxResultChars, c.MaxResultChars)
	}
	if err := CheckRateLimit(normalRateLimit(c.RateLimit), "config.rate_limit"); err != nil {
		return Config{}, err
	}
	methods, err := normalizeWords(c.Methods, "config.methods", "method", validMethodWords)
	if err != nil {
		return Config{}, err
	}
	tags, err := normalizeWords(c.Tags, "config.tags", "tag", inv.tags)
	if err != nil {
		return Config{}, err
	}
	modules, err := inv.normalizeModules(c.Modules)
	if err != nil {
		return Config{}, err
	}
	out, err := normalizeAuth(c) // every other field is kept as given
	if err != nil {
		return Config{}, err
	}
	out.Methods, out.Tags, out.Modules = methods, tags, modules
	out.RateLimit = normalRateLimit(c.RateLimit)
	if len(inv.Allowed(out)) == 0 {
		return Config{}, noToolError(methods, tags, modules)
	}
	return out, nil
}

// noToolError says why a config leaves no tool, naming only the
// conditions it sets (an empty one allows all, so saying "one of the
// methods []" would mislead).
func noToolError(methods, tags, modules []string) error {
	var conds, fields []string
	if len(methods) > 0 {
		conds = append(conds, "has one of the methods ["+strings.Join(methods, ", ")+"]")
		fields = append(fields, "methods")
	}
	if len(tags) > 0 {
		conds = append(conds, "has one of the tags ["+strings.Join(tags, ", ")+"]")
		fields = append(fields, "tags")
	}
	if len(modules) > 0 {
		conds = append(conds, "acts on one of the modules ["+strings.Join(modules, ", ")+"] or on no module")
		fields = append(fields, "modules")
	}
	return invalidf("config allows no tool: no tool %s; widen %s (empty means all)", joinWords(conds, "and"), joinWords(fields, "or"))
}

// joinWords joins words as a sentence does: "a", "a and b",
// "a, b and c" (conj is "and" or "or").
func joinWords(words []string, conj string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + conj + " " + words[len(words)-1]
}

// moduleLabels are the names Bigin's web app shows for the modules whose
// API names differ, for messages.
var moduleLabels = map[string]string{"Accounts": "Companies", "Pipelines": "Deals"}

// ModuleLabel returns the name Bigin's web app shows for a module whose
// API name differs ("Companies" for Accounts, "Deals" for Pipelines), or
// "" when it shows the API name.
func ModuleLabel(module string) string { return moduleLabels[module] }

// normalizeModules checks config.modules: module API names, matched
// without case and stored as the API spells them, without repeats, in
// inventory order; nil when empty.
func (inv *Inventory) normalizeModules(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	seen := map[string]bool{}
	for _, w := range in {
		n := strings.TrimSpace(w)
		i := slices.IndexFunc(inv.modules, func(m string) bool { return strings.EqualFold(m, n) })
		if i < 0 {
			valid := make([]string, len(inv.modules))
			for k, m := range inv.modules {
				valid[k] = m
				if l := moduleLabels[m]; l != "" {
					valid[k] += " (the app's " + l + ")"
				}
			}
			return nil, invalidf("unknown module %q in config.modules; valid modules (Zoho's API names): %s", w, strings.Join(valid, ", "))
		}
		seen[inv.modules[i]] = true
	}
	var out []string
	for _, m := range inv.modules {
		if seen[m] {
			out = append(out, m)
		}
	}
	return out, nil
}

func normalizeWords(in []string, field, what string, valid []string) ([]string, error) {
	var out []string
	for _, w := range in {
		n := strings.ToLower(strings.TrimSpace(w))
		if !slices.Contains(valid, n) {
			return nil, invalidf("unknown %s %q in %s; valid %ss: %s", what, w, field, what, strings.Join(valid, ", "))
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
