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

// Tool is the policy's view of one tool: its name, method and tags. The
// tool catalog declares each tool once and hands these to NewInventory.
type Tool struct {
	Name   string
	Method string
	Tags   []string
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
	tools []Tool
	tags  []string // every tag, sorted

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
		inv.tools = append(inv.tools, t)
		inv.tags = append(inv.tags, t.Tags...)
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
		out[i] = t
	}
	return out
}

// Tags returns every tag the tools carry, sorted.
func (inv *Inventory) Tags() []string { return slices.Clone(inv.tags) }

// Allowed returns the names of the tools the config allows, in inventory
// order. methods AND tags apply; empty means all. Words that are not
// methods or tags (a config that skipped Normalize) match nothing.
//
// The returned slice is shared by every config that allows the same tools
// (an index of 100,000 URLs holds a handful of distinct lists, not
// 100,000): callers must not modify it.
func (inv *Inventory) Allowed(c Config) []string {
	var mask uint64
	for i, t := range inv.tools {
		if methodAllowed(c.Methods, t.Method) && tagAllowed(c.Tags, t.Tags) {
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
	out, err := normalizeAuth(c) // every other field is kept as given
	if err != nil {
		return Config{}, err
	}
	out.Methods, out.Tags = methods, tags
	out.RateLimit = normalRateLimit(c.RateLimit)
	if len(inv.Allowed(out)) == 0 {
		return Config{}, invalidf("config allows no tool: no tool has one of the methods [%s] and one of the tags [%s]; widen methods or tags (empty means all)",
			strings.Join(methods, ", "), strings.Join(tags, ", "))
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
