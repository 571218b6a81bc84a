package catalog

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ArgsError is arguments that fail the tool's input schema. Its message
// reads as a person would write it ("limit must be between 1 and 200; got
// 0"), so a model can correct the call from it.
type ArgsError struct {
	Tool string
	// Problems are the failures, one per argument, in a stable order.
	Problems []string
}

// Error returns the problems as one message.
func (e *ArgsError) Error() string { return strings.Join(e.Problems, ". ") }

// Decode validates raw arguments against the tool's input schema (every
// module: a module the URL leaves out is the Executor's to refuse, as
// module_not_allowed) and decodes them into a new value of the tool's
// argument type, returned as a pointer; a failure is an *ArgsError.
func (e *Entry) Decode(raw json.RawMessage) (any, error) {
	args := reflect.New(e.args.typ).Interface()
	empty := len(raw) == 0 || string(raw) == "null"
	var instance any = map[string]any{}
	if !empty {
		if err := json.Unmarshal(raw, &instance); err != nil {
			return nil, &ArgsError{Tool: e.Name, Problems: []string{"the arguments are not valid JSON; send a JSON object"}}
		}
	}
	// A null next_cursor is how the last page shows its cursor, and a
	// model may pass it back as it read it: it means no cursor, as it did
	// when the schema listed null among the argument's types.
	if obj, ok := instance.(map[string]any); ok {
		if v, present := obj["next_cursor"]; present && v == nil {
			delete(obj, "next_cursor")
		}
	}
	problems := explain(e.Input, instance)
	if err := e.checkFields(instance); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return nil, &ArgsError{Tool: e.Name, Problems: problems}
	}
	// The published schema stays the authority: anything it refuses that
	// explain does not describe is still refused.
	if err := e.input.Validate(instance); err != nil {
		return nil, &ArgsError{Tool: e.Name, Problems: []string{"the arguments do not match the tool's input schema: " + err.Error()}}
	}
	if !empty {
		if err := json.Unmarshal(raw, args); err != nil {
			return nil, &ArgsError{Tool: e.Name, Problems: []string{"the arguments could not be read: " + err.Error()}}
		}
	}
	return args, nil
}

// patternWords says in words what the patterns of the tools' schemas
// accept.
var patternWords = map[string]string{
	idPattern:    `a string of 1 to 30 digits (Zoho's numeric id, e.g. "4876876000000223001")`,
	docIDPattern: `a module and a record id as search returns them, e.g. "Contacts:4876876000000223001"`,
}

// explain checks instance against an object schema of the kind the tools
// declare (typed properties with enum, pattern, minimum and maximum;
// required; no additional properties) and describes each failure in plain
// words, naming the argument.
func explain(schema map[string]any, instance any) []string {
	obj, ok := instance.(map[string]any)
	if !ok {
		return []string{"the arguments must be a JSON object; got " + describe(instance)}
	}
	props, _ := schema["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	slices.Sort(names)

	var problems []string
	if required, ok := schema["required"].([]string); ok {
		for _, name := range required {
			if _, ok := obj[name]; !ok {
				problems = append(problems, name+" is required")
			}
		}
	}
	if schema["additionalProperties"] == false {
		var unknown []string
		for name := range obj {
			if _, ok := props[name]; !ok {
				unknown = append(unknown, strconv.Quote(clip(name)))
			}
		}
		slices.Sort(unknown)
		if len(unknown) > 0 {
			what := "unknown argument " + unknown[0]
			if len(unknown) > 1 {
				what = "unknown arguments " + strings.Join(unknown, ", ")
			}
			if len(names) == 0 {
				problems = append(problems, what+"; this tool takes no arguments")
			} else {
				problems = append(problems, what+"; this tool takes "+strings.Join(names, ", "))
			}
		}
	}
	for _, name := range names {
		v, present := obj[name]
		if !present {
			continue
		}
		p, _ := props[name].(map[string]any)
		if msg := explainValue(p, v); msg != "" {
			problems = append(problems, name+" must be "+msg+"; got "+describe(v))
		}
	}
	return problems
}

// explainValue returns what v should be ("an integer between 1 and 200"),
// or "" when v is fine.
func explainValue(s map[string]any, v any) string {
	types := schemaTypes(s)
	if len(types) > 0 && !slices.ContainsFunc(types, func(t string) bool { return hasType(t, v) }) {
		return typeWords(types, s)
	}
	if enum, ok := s["enum"].([]string); ok {
		if str, ok := v.(string); !ok || !slices.Contains(enum, str) {
			return "one of " + strings.Join(enum, ", ")
		}
	}
	if f, ok := v.(float64); ok {
		if r := rangeWords(s); r != "" && outOfRange(s, f) {
			return r
		}
	}
	if pat, ok := s["pattern"].(string); ok {
		if str, ok := v.(string); ok && !matchesKnown(pat, str) {
			if w, ok := patternWords[pat]; ok {
				return w
			}
			return "a string matching " + pat
		}
	}
	if str, ok := v.(string); ok {
		if r := sizeWords(s, "minLength", "maxLength", "character"); r != "" && outOfSize(s, "minLength", "maxLength", utf8.RuneCountInString(str)) {
			return "a string of " + r
		}
	}
	if list, ok := v.([]any); ok {
		if r := sizeWords(s, "minItems", "maxItems", "item"); r != "" && outOfSize(s, "minItems", "maxItems", len(list)) {
			return "an array of " + r + fmt.Sprintf(" (it has %d)", len(list))
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, item := range list {
				if msg := explainItem(items, item); msg != "" {
					return fmt.Sprintf("an array whose items are each %s; item %d is not (%s)", itemWords(items), i, msg)
				}
			}
		}
	}
	return ""
}

// explainItem says what is wrong with one item of an array ("" when
// nothing is): its type or value, or, for an object, a missing required
// key or a bad value under a key the item schema describes.
func explainItem(s map[string]any, v any) string {
	if msg := explainValue(s, v); msg != "" {
		return "got " + describe(v)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if required, ok := s["required"].([]string); ok {
		for _, name := range required {
			if _, ok := obj[name]; !ok {
				return "it has no " + name
			}
		}
	}
	props, _ := s["properties"].(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(props)) {
		if val, ok := obj[name]; ok {
			if msg := explainValue(props[name].(map[string]any), val); msg != "" {
				return name + " must be " + msg + "; got " + describe(val)
			}
		}
	}
	return ""
}

// itemWords names what an array's items must be: "a string", "an object
// with id", ….
func itemWords(s map[string]any) string {
	w := typeWords(schemaTypes(s), s)
	if required, ok := s["required"].([]string); ok && len(required) > 0 {
		w += " with " + strings.Join(required, ", ")
	}
	if w == "" {
		return "valid"
	}
	return w
}

// sizeWords is "1 to 64 characters", "at least 1 item", … or "".
func sizeWords(s map[string]any, minKey, maxKey, unit string) string {
	lo, hasLo := number(s[minKey])
	hi, hasHi := number(s[maxKey])
	plural := func(n float64) string {
		if n == 1 {
			return formatNumber(n) + " " + unit
		}
		return formatNumber(n) + " " + unit + "s"
	}
	switch {
	case hasLo && hasHi:
		return formatNumber(lo) + " to " + plural(hi)
	case hasLo:
		return "at least " + plural(lo)
	case hasHi:
		return "at most " + plural(hi)
	}
	return ""
}

func outOfSize(s map[string]any, minKey, maxKey string, n int) bool {
	if lo, ok := number(s[minKey]); ok && float64(n) < lo {
		return true
	}
	if hi, ok := number(s[maxKey]); ok && float64(n) > hi {
		return true
	}
	return false
}

func schemaTypes(s map[string]any) []string {
	switch t := s["type"].(type) {
	case string:
		return []string{t}
	case []string:
		return t
	}
	return nil
}

func hasType(t string, v any) bool {
	switch t {
	case "null":
		return v == nil
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == math.Trunc(f)
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	}
	return false
}

// typeWords names the accepted types, with the range of an integer.
func typeWords(types []string, s map[string]any) string {
	words := make([]string, 0, len(types))
	for _, t := range types {
		switch t {
		case "null":
			words = append(words, "null")
		case "integer":
			w := "an integer"
			if r := rangeWords(s); r != "" {
				w += " " + r
			}
			words = append(words, w)
		case "array", "object":
			words = append(words, "an "+t)
		default:
			words = append(words, "a "+t)
		}
	}
	return strings.Join(words, " or ")
}

// rangeWords is "between 1 and 200", "at least 1" or "".
func rangeWords(s map[string]any) string {
	lo, hasLo := number(s["minimum"])
	hi, hasHi := number(s["maximum"])
	switch {
	case hasLo && hasHi:
		return "between " + formatNumber(lo) + " and " + formatNumber(hi)
	case hasLo:
		return "at least " + formatNumber(lo)
	case hasHi:
		return "at most " + formatNumber(hi)
	}
	return ""
}

func outOfRange(s map[string]any, f float64) bool {
	if lo, ok := number(s["minimum"]); ok && f < lo {
		return true
	}
	if hi, ok := number(s["maximum"]); ok && f > hi {
		return true
	}
	return false
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// matchesKnown checks the patterns the tools use without a regexp engine
// per call; an unknown pattern is left to the schema validator.
func matchesKnown(pat, s string) bool {
	if pat == docIDPattern {
		return validDocID(s)
	}
	if pat != idPattern {
		return true
	}
	if len(s) < 1 || len(s) > 30 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// describe says what a client sent, briefly: a quoted string (clipped), a
// number, or the kind of value.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if x == "" {
			return "an empty string"
		}
		return "the string " + strconv.Quote(clip(x))
	case float64:
		return formatNumber(x)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// clip shortens what a client sent before it is quoted back.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
