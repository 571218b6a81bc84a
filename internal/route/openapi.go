package route

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Operation is a route's entry in the OpenAPI document.
type Operation struct {
	// Path is the path the document shows when it is not the route's
	// (a route whose wildcard stands for several resources).
	Path        string
	ID          string
	Summary     string
	Description string
	Params      []Param
	// Body is the JSON request body's schema (nil: none). An
	// OptionalBody may be left out.
	Body         *Schema
	OptionalBody bool
	// Responses are the answers other than the shared errors.
	Responses []Response
	// Errors are the statuses of the shared error answers the operation
	// may give (components.responses.E<status>). A guarded group's
	// operations get 401 and 403 as well.
	Errors []int
}

// Param is a path or query parameter.
type Param struct {
	Name        string  `json:"name"`
	In          string  `json:"in"`
	Required    bool    `json:"required"`
	Description string  `json:"description,omitempty"`
	Schema      *Schema `json:"schema"`
}

// PathParam is a path parameter (a string unless schema says otherwise).
func PathParam(name, desc string, schema ...*Schema) Param {
	s := String()
	if len(schema) > 0 {
		s = schema[0]
	}
	return Param{Name: name, In: "path", Required: true, Description: desc, Schema: s}
}

// QueryParam is an optional query parameter.
func QueryParam(name, desc string, schema *Schema) Param {
	return Param{Name: name, In: "query", Description: desc, Schema: schema}
}

// Response is one answer of an operation.
type Response struct {
	Status      int
	Description string
	// Schema is the body's (nil: no body); ContentType defaults to
	// application/json.
	Schema      *Schema
	ContentType string
	Headers     map[string]Header
}

// Header is a response header.
type Header struct {
	Description string  `json:"description,omitempty"`
	Schema      *Schema `json:"schema"`
}

// Spec is everything the document is built from besides the tables.
type Spec struct {
	Title, Version, Description string
	// ServerURL is the server the document names ("" : "/").
	ServerURL string
	// SecurityScheme describes the bearer API token every guarded route
	// needs.
	SecurityScheme string
	// Errors are the shared error answers by status, referred to by
	// Operation.Errors.
	Errors []Response
	// Schemas are components shared by every group.
	Schemas map[string]*Schema
	Groups  []Group
}

// The JSON form of the document.
type (
	document struct {
		OpenAPI    string                            `json:"openapi"`
		Info       info                              `json:"info"`
		Servers    []server                          `json:"servers"`
		Security   []map[string][]string             `json:"security"`
		Tags       []tag                             `json:"tags"`
		Paths      map[string]map[string]operationJS `json:"paths"`
		Components components                        `json:"components"`
	}
	info struct {
		Title       string `json:"title"`
		Version     string `json:"version"`
		Description string `json:"description,omitempty"`
	}
	server struct {
		URL string `json:"url"`
	}
	tag struct {
		Name        string `json:"name"`
		Description string `json:"description,omitempty"`
	}
	operationJS struct {
		OperationID string                 `json:"operationId"`
		Summary     string                 `json:"summary"`
		Description string                 `json:"description,omitempty"`
		Tags        []string               `json:"tags"`
		Security    *[]map[string][]string `json:"security,omitempty"`
		Parameters  []Param                `json:"parameters,omitempty"`
		RequestBody *requestBody           `json:"requestBody,omitempty"`
		Responses   map[string]any         `json:"responses"`
	}
	requestBody struct {
		Required bool             `json:"required"`
		Content  map[string]media `json:"content"`
	}
	media struct {
		Schema *Schema `json:"schema"`
	}
	responseJS struct {
		Description string            `json:"description"`
		Headers     map[string]Header `json:"headers,omitempty"`
		Content     map[string]media  `json:"content,omitempty"`
	}
	components struct {
		SecuritySchemes map[string]any        `json:"securitySchemes"`
		Responses       map[string]responseJS `json:"responses"`
		Schemas         map[string]*Schema    `json:"schemas"`
	}
)

// securityName is the API token's security scheme.
const securityName = "apiToken"

// Document builds the OpenAPI 3.1 document of spec's groups: one
// operation per Operation of every route. It fails when a table is
// inconsistent: a route without an operation, an operation whose path the
// route's pattern does not match or whose path parameters it does not
// declare, two operations with one id or one method and path, or a
// reference to an error answer or schema that is not declared.
func Document(spec Spec) ([]byte, error) {
	doc := document{
		OpenAPI:  "3.1.0",
		Info:     info{Title: spec.Title, Version: spec.Version, Description: spec.Description},
		Servers:  []server{{URL: "/"}},
		Security: []map[string][]string{{securityName: {}}},
		Paths:    map[string]map[string]operationJS{},
		Components: components{
			SecuritySchemes: map[string]any{securityName: map[string]string{"type": "http", "scheme": "bearer", "description": spec.SecurityScheme}},
			Responses:       map[string]responseJS{},
			Schemas:         map[string]*Schema{},
		},
	}
	if spec.ServerURL != "" {
		doc.Servers[0].URL = spec.ServerURL
	}
	for _, e := range spec.Errors {
		doc.Components.Responses[errorRef(e.Status)] = response(e)
	}
	for name, s := range spec.Schemas {
		doc.Components.Schemas[name] = s
	}
	var errs []error
	ids := map[string]bool{}
	for _, g := range spec.Groups {
		if !slices.ContainsFunc(doc.Tags, func(t tag) bool { return t.Name == g.Tag }) {
			doc.Tags = append(doc.Tags, tag{Name: g.Tag, Description: g.TagDescription})
		}
		for name, s := range g.Schemas {
			if _, dup := doc.Components.Schemas[name]; dup {
				errs = append(errs, fmt.Errorf("schema %s is declared twice", name))
			}
			doc.Components.Schemas[name] = s
		}
		for _, rt := range g.Routes {
			if rt.Handle == nil {
				errs = append(errs, fmt.Errorf("%s has no handler", rt.Pattern()))
			}
			if len(rt.Ops) == 0 {
				errs = append(errs, fmt.Errorf("%s has no OpenAPI operation", rt.Pattern()))
			}
			for _, op := range rt.Ops {
				path := or(op.Path, rt.Path)
				if err := checkOperation(rt, path, op); err != nil {
					errs = append(errs, err)
					continue
				}
				if ids[op.ID] {
					errs = append(errs, fmt.Errorf("%s %s: operation id %s is used twice", rt.Method, path, op.ID))
				}
				ids[op.ID] = true
				item := doc.Paths[path]
				if item == nil {
					item = map[string]operationJS{}
					doc.Paths[path] = item
				}
				method := strings.ToLower(rt.Method)
				if _, dup := item[method]; dup {
					errs = append(errs, fmt.Errorf("%s %s is documented twice", rt.Method, path))
				}
				item[method] = operation(g, op)
			}
		}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("route: the OpenAPI document: %w", err)
	}
	errs = append(errs, checkRefs(b, doc)...)
	if len(errs) > 0 {
		return nil, fmt.Errorf("route: the OpenAPI document: %w", errors.Join(errs...))
	}
	return b, nil
}

// or is a, or b when a is empty.
func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

var pathParamRE = regexp.MustCompile(`\{([^}/]+)\}`)

// checkOperation reports an operation that does not fit its route: its
// path must be one the route's pattern serves, with each path parameter
// declared once and no other.
func checkOperation(rt Route, path string, op Operation) error {
	where := rt.Method + " " + path
	if op.ID == "" || op.Summary == "" {
		return fmt.Errorf("%s: an operation needs an ID and a Summary", where)
	}
	sample := pathParamRE.ReplaceAllString(path, "p1")
	mux := http.NewServeMux()
	mux.HandleFunc(rt.Pattern(), func(http.ResponseWriter, *http.Request) {})
	req, err := http.NewRequest(rt.Method, sample, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if _, pattern := mux.Handler(req); pattern != rt.Pattern() {
		return fmt.Errorf("%s is not served by route %s", where, rt.Pattern())
	}
	var inPath, declared []string
	for _, m := range pathParamRE.FindAllStringSubmatch(path, -1) {
		inPath = append(inPath, m[1])
	}
	for _, p := range op.Params {
		if p.In == "path" {
			declared = append(declared, p.Name)
		}
	}
	slices.Sort(inPath)
	slices.Sort(declared)
	if !slices.Equal(inPath, declared) {
		return fmt.Errorf("%s: path parameters %v, declared %v", where, inPath, declared)
	}
	return nil
}

// operation is op's JSON form in group g.
func operation(g Group, op Operation) operationJS {
	o := operationJS{OperationID: op.ID, Summary: op.Summary, Description: op.Description, Tags: []string{g.Tag}, Parameters: op.Params, Responses: map[string]any{}}
	if g.Public {
		o.Security = &[]map[string][]string{}
	} else if g.Scope != "" {
		o.Description = strings.TrimSpace(o.Description + " Scope: " + g.Scope + ".")
	}
	if op.Body != nil {
		o.RequestBody = &requestBody{Required: !op.OptionalBody, Content: map[string]media{"application/json": {Schema: op.Body}}}
	}
	for _, r := range op.Responses {
		key := strconv.Itoa(r.Status)
		if prev, ok := o.Responses[key].(responseJS); ok && r.Schema != nil {
			// Another form of the same answer (e.g. JSON Lines beside JSON).
			if prev.Content == nil {
				prev.Content = map[string]media{}
			}
			prev.Content[or(r.ContentType, "application/json")] = media{Schema: r.Schema}
			o.Responses[key] = prev
			continue
		}
		o.Responses[key] = response(r)
	}
	errs := op.Errors
	if !g.Public {
		errs = append([]int{http.StatusUnauthorized, http.StatusForbidden}, errs...)
	}
	for _, status := range errs {
		o.Responses[strconv.Itoa(status)] = map[string]string{"$ref": "#/components/responses/" + errorRef(status)}
	}
	return o
}

func errorRef(status int) string { return "E" + strconv.Itoa(status) }

func response(r Response) responseJS {
	out := responseJS{Description: r.Description, Headers: r.Headers}
	if r.Schema != nil {
		out.Content = map[string]media{or(r.ContentType, "application/json"): {Schema: r.Schema}}
	}
	return out
}

var refRE = regexp.MustCompile(`"\$ref": "#/components/(responses|schemas)/([^"]+)"`)

// checkRefs reports every reference in the document to a component it
// does not declare.
func checkRefs(b []byte, doc document) []error {
	var errs []error
	seen := map[string]bool{}
	for _, m := range refRE.FindAllStringSubmatch(string(b), -1) {
		kind, name := m[1], m[2]
		if seen[kind+name] {
			continue
		}
		seen[kind+name] = true
		ok := false
		switch kind {
		case "responses":
			_, ok = doc.Components.Responses[name]
		case "schemas":
			_, ok = doc.Components.Schemas[name]
		}
		if !ok {
			errs = append(errs, fmt.Errorf("%s %s is referred to but not declared", kind, name))
		}
	}
	return errs
}
