package tokens

import "slices"

// Method names of SPEC §4.
const (
	MethodList   = "list"
	MethodGet    = "get"
	MethodCreate = "create"
	MethodUpdate = "update"
	MethodDelete = "delete"
)

// Method groups of SPEC §4: each stands for the exact methods it expands to.
const (
	MethodRead  = "read"  // get + list
	MethodWrite = "write" // create + update + delete
)

// Tool is the policy view of one MCP tool: its name, method and tags (SPEC §6).
type Tool struct {
	Name   string
	Method string
	Tags   []string
}

// catalog is SPEC §6's table, in its published order. Tool names are part of
// the published inventory and must never change.
var catalog = []Tool{
	{Name: "list_all_zohobigin_users", Method: MethodList, Tags: []string{"users", "directory"}},
	{Name: "get_single_zohobigin_user_by_id", Method: MethodGet, Tags: []string{"users", "directory"}},
	{Name: "delete_a_zohobigin_user_by_id", Method: MethodDelete, Tags: []string{"users", "directory"}},
	{Name: "list_all_zohobigin_current_organization", Method: MethodList, Tags: []string{"organization"}},
	{Name: "list_all_zohobigin_me", Method: MethodList, Tags: []string{"users", "directory"}},
	{Name: "list_all_zohobigin_roles", Method: MethodList, Tags: []string{"roles", "directory", "permissions"}},
	{Name: "list_all_zohobigin_profiles", Method: MethodList, Tags: []string{"profiles", "directory", "permissions"}},
}

// methodWords maps every word accepted in config.methods to the exact
// methods it allows. Its keys, in this order, are what error messages offer.
var methodWords = map[string][]string{
	MethodRead:   {MethodGet, MethodList},
	MethodWrite:  {MethodCreate, MethodUpdate, MethodDelete},
	MethodList:   {MethodList},
	MethodGet:    {MethodGet},
	MethodCreate: {MethodCreate},
	MethodUpdate: {MethodUpdate},
	MethodDelete: {MethodDelete},
}

var validMethodWords = []string{MethodRead, MethodWrite, MethodList, MethodGet, MethodCreate, MethodUpdate, MethodDelete}

// validTags are the catalog's tags, sorted.
var validTags = func() []string {
	var tags []string
	for _, t := range catalog {
		tags = append(tags, t.Tags...)
	}
	slices.Sort(tags)
	return slices.Compact(tags)
}()

// Catalog returns the seven tools of SPEC §6 in their published order. The
// result is a copy: callers may keep or change it.
func Catalog() []Tool {
	out := make([]Tool, len(catalog))
	for i, t := range catalog {
		t.Tags = slices.Clone(t.Tags)
		out[i] = t
	}
	return out
}

// Tags returns every tag the catalog's tools carry, sorted.
func Tags() []string { return slices.Clone(validTags) }
