package route

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
)

// Schema is a JSON Schema of the document.
type Schema = jsonschema.Schema

// typeSchemas are how For renders types whose JSON is not their Go
// shape.
var typeSchemas = map[reflect.Type]*Schema{
	reflect.TypeFor[time.Time](): {Type: "string", Format: "date-time"},
	// Every json.RawMessage of an answer holds a JSON object: one of
	// Zoho's records, or a tool's JSON Schema.
	reflect.TypeFor[json.RawMessage](): {Type: "object"},
}

// For is the schema of the JSON that T marshals to, from its fields and
// their json tags (jsonschema.For): a field without omitempty is
// required, a pointer may be null, a struct allows no other properties,
// and a field's `jsonschema:"…"` tag is its description. A list is never
// null in an answer (views answer [] for none), so slices are arrays
// only. Each edit then refines the schema (an enum, a format); it panics
// on a type For cannot render, which a test of the document catches.
func For[T any](edits ...Edit) *Schema {
	s, err := jsonschema.For[T](&jsonschema.ForOptions{TypeSchemas: typeSchemas})
	if err != nil {
		panic(fmt.Sprintf("route: the schema of %s: %v", reflect.TypeFor[T](), err))
	}
	arraysNotNull(s)
	for _, e := range edits {
		e(s)
	}
	return s
}

// arraysNotNull turns each ["null","array"] that For gives a slice into
// "array".
func arraysNotNull(s *Schema) {
	if s == nil {
		return
	}
	if slices.Equal(s.Types, []string{"null", "array"}) {
		s.Types, s.Type = nil, "array"
	}
	arraysNotNull(s.Items)
	arraysNotNull(s.AdditionalProperties)
	for _, p := range s.Properties {
		arraysNotNull(p)
	}
}

// Edit refines a schema For made.
type Edit func(*Schema)

// Field returns the property at path (dot-separated names; a list's
// items are walked through), panicking when there is none: a renamed
// field must not silently lose its refinement.
func Field(s *Schema, path string) *Schema {
	for _, name := range strings.Split(path, ".") {
		for s.Items != nil {
			s = s.Items
		}
		p := s.Properties[name]
		if p == nil {
			panic(fmt.Sprintf("route: no property %q in the schema (path %q)", name, path))
		}
		s = p
	}
	return s
}

// Enum limits the string property at path to values.
func Enum(path string, values ...string) Edit {
	return func(s *Schema) {
		f := Field(s, path)
		for f.Items != nil {
			f = f.Items
		}
		f.Enum = nil
		for _, v := range values {
			f.Enum = append(f.Enum, v)
		}
	}
}

// Format sets the format of the string property at path.
func Format(path, format string) Edit {
	return func(s *Schema) { Field(s, path).Format = format }
}

// Optional makes the properties at the top level not required.
func Optional(names ...string) Edit {
	return func(s *Schema) {
		for _, n := range names {
			Field(s, n)
			s.Required = slices.DeleteFunc(s.Required, func(r string) bool { return r == n })
		}
	}
}

// Ref refers to the component schema name.
func Ref(name string) *Schema { return &Schema{Ref: "#/components/schemas/" + name} }

// String is a string.
func String() *Schema { return &Schema{Type: "string"} }

// Integer is a whole number from min to max.
func Integer(min, max int) *Schema {
	lo, hi := float64(min), float64(max)
	return &Schema{Type: "integer", Minimum: &lo, Maximum: &hi}
}

// ArrayOf is a list of items.
func ArrayOf(items *Schema) *Schema { return &Schema{Type: "array", Items: items} }

// Object is any JSON object.
func Object(desc string) *Schema { return &Schema{Type: "object", Description: desc} }

// Describe sets s's description and returns it.
func Describe(s *Schema, desc string) *Schema {
	s.Description = desc
	return s
}

// Nullable is s or null.
func Nullable(s *Schema) *Schema {
	return &Schema{OneOf: []*Schema{s, {Type: "null"}}}
}

// Envelope is the REST face's and the admin lists' answer:
// {"result": result, "next_cursor": "…" | null}.
func Envelope(result *Schema) *Schema {
	return &Schema{
		Type:     "object",
		Required: []string{"result", "next_cursor"},
		Properties: map[string]*Schema{
			"result":      result,
			"next_cursor": Describe(&Schema{Types: []string{"null", "string"}}, "Pass it back as next_cursor for the next page; null on the last page."),
		},
		PropertyOrder: []string{"result", "next_cursor"},
	}
}

// Page is a list answer: Envelope of a list of items.
func Page(items *Schema) *Schema { return Envelope(ArrayOf(items)) }

// Set replaces the property at path with schema (for a field whose Go
// type is not its JSON shape, such as one that tells absent from null).
func Set(path string, schema *Schema) Edit {
	return func(s *Schema) {
		i := strings.LastIndex(path, ".")
		parent := s
		if i >= 0 {
			parent = Field(s, path[:i])
		}
		Field(parent, path[i+1:])
		parent.Properties[path[i+1:]] = schema
	}
}

// Range bounds the number property at path to min..max.
func Range(path string, min, max int) Edit {
	return func(s *Schema) {
		f := Field(s, path)
		lo, hi := float64(min), float64(max)
		f.Minimum, f.Maximum = &lo, &hi
	}
}
