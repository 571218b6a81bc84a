package tokens

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/store"
)

// Config is the policy of one MCP URL (SPEC §4 config rules), as stored.
type Config = store.MCPConfig

// MinExpiry is how far in the future a new expires_at must at least be.
const MinExpiry = 60 * time.Second

// AllowedTools returns the names of the catalog tools the config allows, in
// catalog order. methods AND tags apply; empty means all. Words that are not
// methods or tags (a config that skipped NormalizeConfig) match nothing.
//
// The returned slice is shared by every config that allows the same tools
// (an index of 100,000 URLs holds a handful of distinct lists, not 100,000):
// callers must not modify it.
func AllowedTools(c Config) []string {
	var mask int
	for i, t := range catalog {
		if methodAllowed(c.Methods, t.Method) && tagAllowed(c.Tags, t.Tags) {
			mask |= 1 << i
		}
	}
	return toolLists[mask]
}

// toolLists holds, for every subset of the catalog (as a bit mask), its
// tool names in catalog order; nil for the empty subset. Built once.
var toolLists = func() [][]string {
	lists := make([][]string, 1<<len(catalog))
	for mask := 1; mask < len(lists); mask++ {
		for i, t := range catalog {
			if mask&(1<<i) != 0 {
				lists[mask] = append(lists[mask], t.Name)
			}
		}
		lists[mask] = slices.Clip(lists[mask])
	}
	return lists
}()

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

// NormalizeConfig checks c against SPEC §4's rules and returns it in stored
// form: methods and tags lowercased, deduplicated and sorted (read and write
// are kept as words, so a GET shows what was asked for), nil when empty.
// Errors are invalid_argument errors whose messages name the valid values.
func NormalizeConfig(c Config) (Config, error) {
	methods, err := normalizeWords(c.Methods, "config.methods", "method", validMethodWords)
	if err != nil {
		return Config{}, err
	}
	tags, err := normalizeWords(c.Tags, "config.tags", "tag", validTags)
	if err != nil {
		return Config{}, err
	}
	out := Config{Methods: methods, Tags: tags, RequireAPITokenAuth: c.RequireAPITokenAuth}
	if len(AllowedTools(out)) == 0 {
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

// checkExpiry applies SPEC §4's rule to a new expires_at.
func checkExpiry(t time.Time, now time.Time, field string) error {
	if t.Sub(now) < MinExpiry {
		return invalidf("%s must be at least 60 seconds in the future (it is %s; now is %s)",
			field, t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// rawField remembers whether a JSON field was present and its raw value, so
// that an absent field (keep) and null (remove) can be told apart.
type rawField struct {
	set bool
	raw json.RawMessage
}

func (f *rawField) UnmarshalJSON(b []byte) error {
	f.set = true
	f.raw = append(f.raw[:0], b...)
	return nil
}

func (f rawField) isNull() bool { return f.set && bytes.Equal(bytes.TrimSpace(f.raw), []byte("null")) }

// expiryChange is what a request asks of a server's expiry.
type expiryChange struct {
	set   bool       // the request names an expiry (or its removal)
	value *time.Time // nil: no expiry
	field string     // where it was given: expires_at or config.expires_at
}

// check applies the 60-second rule to a requested expiry.
func (c expiryChange) check(now time.Time) error {
	if c.value == nil {
		return nil
	}
	return checkExpiry(*c.value, now, c.field)
}

// parseExpiry reads an expires_at field: an RFC 3339 string, or null. The
// 60-second rule is the caller's (check), since a PATCH may send back the
// expiry it already has.
func parseExpiry(f rawField, field string, now time.Time) (expiryChange, error) {
	if !f.set {
		return expiryChange{}, nil
	}
	if f.isNull() {
		return expiryChange{set: true, field: field}, nil
	}
	example := now.Add(time.Hour).UTC().Format(time.RFC3339)
	var s string
	if err := json.Unmarshal(f.raw, &s); err != nil {
		return expiryChange{}, invalidf("%s must be an RFC 3339 time string such as %q, or null", field, example)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return expiryChange{}, invalidf("%s %q is not an RFC 3339 time such as %q", field, s, example)
	}
	t = t.UTC()
	return expiryChange{set: true, value: &t, field: field}, nil
}

// configInput is the "config" object of the MCP server requests.
type configInput struct {
	Methods             *[]string `json:"methods"`
	Tags                *[]string `json:"tags"`
	RequireAPITokenAuth *bool     `json:"require_api_token_auth"`
	ExpiresAt           rawField  `json:"expires_at"`
}

// apply merges the fields the input names over c (a PATCH); a create
// applies it over the zero Config.
func (in *configInput) apply(c Config) Config {
	if in == nil {
		return c
	}
	if in.Methods != nil {
		c.Methods = *in.Methods
	}
	if in.Tags != nil {
		c.Tags = *in.Tags
	}
	if in.RequireAPITokenAuth != nil {
		c.RequireAPITokenAuth = *in.RequireAPITokenAuth
	}
	return c
}

// expiry resolves expires_at given at top level or inside config (top level
// wins).
func expiry(top rawField, in *configInput, now time.Time) (expiryChange, error) {
	if top.set {
		return parseExpiry(top, "expires_at", now)
	}
	if in != nil {
		return parseExpiry(in.ExpiresAt, "config.expires_at", now)
	}
	return expiryChange{}, nil
}

// configView is a config as the admin API shows it: every field present, so
// a client can PATCH back what it got.
type configView struct {
	Methods             []string `json:"methods"`
	Tags                []string `json:"tags"`
	RequireAPITokenAuth bool     `json:"require_api_token_auth"`
}

func viewConfig(c Config) configView {
	v := configView{Methods: c.Methods, Tags: c.Tags, RequireAPITokenAuth: c.RequireAPITokenAuth}
	if v.Methods == nil {
		v.Methods = []string{}
	}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	return v
}
