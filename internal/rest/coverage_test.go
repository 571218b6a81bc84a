package rest_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// documented reads the served /openapi.json: its operations as
// "METHOD /path".
func documented(t *testing.T, s *stack) []string {
	t.Helper()
	r := s.RequestAs("", "", http.MethodGet, "/openapi.json", nil)
	require.Equal(t, http.StatusOK, r.Status)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &doc))
	var ops []string
	for path, item := range doc.Paths {
		for method := range item {
			ops = append(ops, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(ops)
	return ops
}

// notRouted matches the 404 of a path no route serves (httpx.NotRouted).
var notRouted = regexp.MustCompile(`"no [a-z]+ endpoint at `)

// TestEveryDocumentedOperationIsServed sends each operation of the
// document to the running server and requires that a route answered it:
// neither ServeMux's 404 or 405 nor a surface's "no … endpoint". The
// tables put each operation beside its route; this holds the served mux
// to them, the health endpoints included.
func TestEveryDocumentedOperationIsServed(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ops := documented(t, s)
	require.Greater(t, len(ops), 40, "the document lists the operations")
	param := regexp.MustCompile(`\{[^}]+\}`)
	for _, op := range ops {
		t.Run(op, func(t *testing.T) {
			method, path, _ := strings.Cut(op, " ")
			var body any
			if method == http.MethodPost || method == http.MethodPatch {
				body = map[string]any{"name": ""}
			}
			r := s.Request(method, param.ReplaceAllString(path, "1"), body)
			assert.NotEqual(t, http.StatusMethodNotAllowed, r.Status, "%s", r.Body)
			assert.NotRegexp(t, notRouted, string(r.Body))
			assert.NotContains(t, string(r.Body), "404 page not found")
		})
	}
}

// TestDocsEndpointsAreInTheDocument: every endpoint the reference docs
// show (a curl example or a `METHOD /path` in the text or a table) is an
// operation of /openapi.json.
func TestDocsEndpointsAreInTheDocument(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ops := documented(t, s)
	found := map[string]string{} // "METHOD /path" → the doc that shows it
	for _, name := range []string{"admin-api.md", "rest.md", "operations.md", "oauth.md"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "docs", name))
		require.NoError(t, err)
		for _, ep := range docEndpoints(string(b)) {
			found[ep] = name
		}
	}
	// The docs must be read: these are shown in them.
	for _, want := range []string{
		"GET /admin/audit", "DELETE /admin/connect-links/{}", "GET /admin/connect-links", "POST /admin/api-tokens",
		"PATCH /admin/integrated-accounts/{}/mcp/{}", "GET /unified/user-directory/roles/{}", "DELETE /proxy/users/{}",
		"GET /integrated-account/{}/tools", "POST /integrated-account/{}/tools/list_all_zohobigin_users", "GET /openapi.json",
	} {
		assert.Contains(t, found, want, "the docs' endpoints were not all read")
	}
	// Shown in the docs, but not endpoints of the HTTP APIs.
	notAPI := map[string]string{
		"GET /metrics":  "served on BIGIN_MCP_METRICS_ADDR, not the API's address",
		"GET /users/{}": "a metric label naming Zoho's call",
		"GET /":         "redirects a browser to the web UI, not an API endpoint",
	}
	for ep, doc := range found {
		if _, ok := notAPI[ep]; ok {
			continue
		}
		assert.True(t, slices.ContainsFunc(ops, func(op string) bool { return sameEndpoint(ep, op) }),
			"docs/%s shows %s, which /openapi.json does not document", doc, ep)
	}
}

var (
	curlRE    = regexp.MustCompile(`curl\s[^\n]*`)
	curlXRE   = regexp.MustCompile(`-X\s+([A-Z]+)`)
	curlURLRE = regexp.MustCompile(`\$BASE(/[^\s"'?]*)`)
	inlineRE  = regexp.MustCompile("`(?:(GET|POST|PATCH|PUT|DELETE)`/`)?(GET|POST|PATCH|PUT|DELETE) (/[^`\\s?]*)")
	placeRE   = regexp.MustCompile(`<[^>]+>|\{[^}]+\}`)
)

// docEndpoints are the endpoints a Markdown text shows, as "METHOD
// /path" with each placeholder (<id>, {id}) as {}: curl examples (lines
// ending in \ continue), and `METHOD /path` (or `GET`/`DELETE /path`)
// in the text. Zoho's own paths (/bigin/…) and elided ones (…) are not
// the server's.
func docEndpoints(md string) []string {
	md = strings.ReplaceAll(md, "\\\n", " ")
	var out []string
	add := func(method, path string) {
		if strings.HasPrefix(path, "/bigin/") || strings.Contains(path, "…") {
			return
		}
		out = append(out, method+" "+placeRE.ReplaceAllString(path, "{}"))
	}
	for _, line := range curlRE.FindAllString(md, -1) {
		u := curlURLRE.FindStringSubmatch(line)
		if u == nil {
			continue
		}
		method := http.MethodGet
		if m := curlXRE.FindStringSubmatch(line); m != nil {
			method = m[1]
		} else if strings.Contains(line, " -d ") {
			method = http.MethodPost
		}
		add(method, u[1])
	}
	for _, m := range inlineRE.FindAllStringSubmatch(md, -1) {
		if m[1] != "" {
			add(m[1], m[3])
		}
		add(m[2], m[3])
	}
	return out
}

// sameEndpoint reports whether a docs endpoint (placeholders as {}) is
// the document's operation op (parameters as {name}).
func sameEndpoint(ep, op string) bool {
	em, ep, _ := strings.Cut(ep, " ")
	om, op, _ := strings.Cut(op, " ")
	es, os := strings.Split(ep, "/"), strings.Split(op, "/")
	if em != om || len(es) != len(os) {
		return false
	}
	for i := range es {
		param := strings.HasPrefix(os[i], "{")
		if es[i] != os[i] && !param {
			return false
		}
		if es[i] == "{}" && !param {
			return false
		}
	}
	return true
}
