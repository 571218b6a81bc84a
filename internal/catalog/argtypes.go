package catalog

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// A tool's arguments are a struct of its own, decoded from the JSON the
// input schema describes: each JSON field of the struct (embedded structs
// included) is one property of the schema, of an agreeing type, and each
// property is a field. compile checks it, so the type a handler reads and
// the schema a client reads cannot drift apart.
//
// A field's `audit` tag says what an audit entry keeps of it: "keep" (the
// value: ids, enums, numbers, field names), "flag" (true when given: a
// cursor, an idempotency key), "count" (how many items: records). A field
// without one (free text, search terms, queries, record contents) is never
// kept.

// argField is one JSON field of an argument type.
type argField struct {
	name  string
	index []int
	typ   reflect.Type
	audit string
}

// argInfo is what the catalog knows of an argument type.
type argInfo struct {
	typ    reflect.Type
	fields []argField
}

// inspectArgs reads an argument type's JSON fields and audit tags.
func inspectArgs(t reflect.Type) (*argInfo, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("the arguments' type %s is not a struct", t)
	}
	info := &argInfo{typ: t}
	if err := info.collect(t, nil); err != nil {
		return nil, err
	}
	return info, nil
}

func (info *argInfo) collect(t reflect.Type, index []int) error {
	for i := range t.NumField() {
		f := t.Field(i)
		idx := append(slices.Clone(index), i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if err := info.collect(f.Type, idx); err != nil {
				return err
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			return fmt.Errorf("argument field %s has no JSON name", f.Name)
		}
		audit := f.Tag.Get("audit")
		if audit != "" && audit != "keep" && audit != "flag" && audit != "count" {
			return fmt.Errorf("argument %s: unknown audit tag %q", name, audit)
		}
		info.fields = append(info.fields, argField{name: name, index: idx, typ: f.Type, audit: audit})
	}
	return nil
}

// agree checks the type against the input schema: the same names, and
// each property's type one the field decodes.
func (info *argInfo) agree(schema map[string]any) error {
	props, _ := schema["properties"].(map[string]any)
	for _, f := range info.fields {
		p, ok := props[f.name].(map[string]any)
		if !ok {
			return fmt.Errorf("field %s is not a property of the schema", f.name)
		}
		if err := typeAgrees(p, f.typ); err != nil {
			return fmt.Errorf("property %s: %w", f.name, err)
		}
	}
	for name := range props {
		if !slices.ContainsFunc(info.fields, func(f argField) bool { return f.name == name }) {
			return fmt.Errorf("property %s is not a field of %s", name, info.typ)
		}
	}
	return nil
}

var rawMessage = reflect.TypeFor[json.RawMessage]()

// typeAgrees reports whether a JSON value of the schema's type decodes
// into t ("null" decodes into anything).
func typeAgrees(s map[string]any, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for _, typ := range schemaTypes(s) {
		ok := false
		switch typ {
		case "null":
			ok = true
		case "string":
			ok = t.Kind() == reflect.String
		case "integer":
			ok = t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64
		case "number":
			ok = t.Kind() == reflect.Float64
		case "boolean":
			ok = t.Kind() == reflect.Bool
		case "object":
			ok = t == rawMessage || t.Kind() == reflect.Map
		case "array":
			if t.Kind() == reflect.Slice && t != rawMessage {
				items, _ := s["items"].(map[string]any)
				return typeAgrees(items, t.Elem())
			}
		}
		if !ok {
			return fmt.Errorf("a JSON %s does not decode into %s", typ, t)
		}
	}
	if len(schemaTypes(s)) == 0 && t != rawMessage && t.Kind() != reflect.Interface {
		return fmt.Errorf("the schema gives no type for %s", t)
	}
	return nil
}

// value returns the field's value in args (a pointer to the type).
func (f *argField) value(args any) reflect.Value {
	return reflect.ValueOf(args).Elem().FieldByIndex(f.index)
}

// audit returns what an audit entry keeps of the arguments (nil for
// nothing): fields tagged keep with a value, flag as true, count as the
// number of items.
func (info *argInfo) audit(args any) map[string]any {
	if args == nil {
		return nil
	}
	m := map[string]any{}
	for i := range info.fields {
		f := &info.fields[i]
		if f.audit == "" {
			continue
		}
		v := f.value(args)
		if v.IsZero() {
			continue
		}
		switch f.audit {
		case "flag":
			m[f.name] = true
		case "count":
			m[f.name] = v.Len()
		default:
			m[f.name] = plain(v)
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// plain returns a kept value as the audit entry holds it: a string, an
// int, a bool or a []string. It reads through unexported embedded
// structs, whose values reflect will not hand out whole.
func plain(v reflect.Value) any {
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(v.Int())
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.String {
			out := make([]string, v.Len())
			for i := range out {
				out[i] = v.Index(i).String()
			}
			return out
		}
		return v.Len()
	}
	return v.Kind().String()
}

// str returns a string argument's value, "" when the type has none by
// that name.
func (info *argInfo) str(args any, name string) string {
	if args == nil {
		return ""
	}
	for i := range info.fields {
		f := &info.fields[i]
		if f.name == name && f.typ.Kind() == reflect.String {
			return f.value(args).String()
		}
	}
	return ""
}
