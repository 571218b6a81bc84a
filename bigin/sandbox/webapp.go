package sandbox

import (
	"html/template"
	"net/http"
	"strings"
)

// recordPage serves GET /bigin/org{zgid}/Home, the page a link to a record
// in Bigin's web app opens (…/Home#/deals/{id}). The sandbox imitates
// Zoho's API, not its web app: the page says so, so that a link from a
// demo's search result lands somewhere that explains itself. The
// fragment that names the record never reaches a server. Another org
// number is not found, as it would not be in Bigin.
func (s *Sandbox) recordPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	org, zgid := s.org.CompanyName, s.org.ZGID
	s.mu.Unlock()
	if r.URL.Path != "/bigin/org"+zgid+"/Home" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return
	}
	writePage(w, recordPageTemplate, map[string]string{"Org": org, "Path": r.URL.Path})
}

// isRecordPage reports whether a path is one of the web app's pages:
// /bigin/org… (the API is /bigin/v1/ and /bigin/v2/).
func isRecordPage(path string) bool { return strings.HasPrefix(path, "/bigin/org") }

var recordPageTemplate = template.Must(template.New("record").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Org}} (sandbox Bigin)</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#222}</style>
</head>
<body>
<h1>{{.Org}}</h1>
<p>This is the sandbox Bigin, which answers Zoho's API but has no web app.
In a real organization this link ({{.Path}}#/…) opens the record that the
part after <code>#</code> names: <code>contacts</code>, <code>companies</code>
or <code>deals</code>, then its id.</p>
<p>Read the record through the MCP URL instead: <code>fetch</code> with the
id the search result gave, or <code>get_single_zohobigin_record_by_id</code>.</p>
</body>
</html>
`))
