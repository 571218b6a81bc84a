package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/bigin-mcp/bigin-mcp/bigin"
)

// DefaultRecordURL is the template of a record's page in Bigin's web app:
// the url that ChatGPT's search and fetch results give, which ChatGPT
// shows as the citation's link. Links that shipped Bigin integrations
// build have this form, with a per-organization number after "org"; that
// the number is the organization's zgid is UNVERIFIED, hence the setting
// that overrides the template (ParseRecordURL).
const DefaultRecordURL = "{web}/bigin/org{zgid}/Home#/{tab}/{id}"

// The placeholders of a record URL template.
var recordURLPlaceholders = []string{
	"{web}",    // the account's datacenter's Bigin web app, e.g. https://bigin.zoho.eu
	"{zgid}",   // the organization's zgid (GET /org, read once per account and cached)
	"{org_id}", // the organization's id, as the account holds it
	"{tab}",    // contacts, companies or deals
	"{module}", // Contacts, Accounts or Pipelines
	"{id}",     // the record's id
}

// placeholder matches anything that looks like a placeholder.
var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

// RecordURL is a checked template of a record's page in Bigin's web app.
// Its zero value is DefaultRecordURL.
type RecordURL struct{ tmpl string }

// ParseRecordURL checks a record URL template: its placeholders are
// {web}, {zgid}, {org_id}, {tab}, {module} and {id}, it names {id}, and
// filled in it is an absolute http or https URL.
func ParseRecordURL(s string) (RecordURL, error) {
	s = strings.TrimSpace(s)
	for _, p := range placeholder.FindAllString(s, -1) {
		known := false
		for _, k := range recordURLPlaceholders {
			known = known || p == k
		}
		if !known {
			return RecordURL{}, fmt.Errorf("unknown placeholder %s in %q; a template may use %s", p, s, strings.Join(recordURLPlaceholders, ", "))
		}
	}
	if !strings.Contains(s, "{id}") {
		return RecordURL{}, fmt.Errorf("%q does not name the record: it needs {id}", s)
	}
	sample := RecordURL{tmpl: s}.fill(recordLink{web: "https://bigin.zoho.com", zgid: "123456789", orgID: "111111000000033001"}, bigin.ModuleContacts, "4876876000000223001")
	u, err := url.Parse(sample)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return RecordURL{}, fmt.Errorf("%q is not an absolute http or https URL once filled in (%q)", s, sample)
	}
	return RecordURL{tmpl: s}, nil
}

// String returns the template.
func (r RecordURL) String() string {
	if r.tmpl == "" {
		return DefaultRecordURL
	}
	return r.tmpl
}

// uses reports whether the template has the placeholder.
func (r RecordURL) uses(p string) bool { return strings.Contains(r.String(), p) }

// recordLink is what a call knows to fill a record URL template in: the
// account's Bigin web app, and its organization's zgid and id.
type recordLink struct {
	web, zgid, orgID string
}

// fill returns the URL of the module's record id, "" when the template
// needs a value the call does not know (a datacenter without a web
// address, a zgid Zoho did not give): ChatGPT then shows the result
// without a link rather than with a wrong one.
func (r RecordURL) fill(l recordLink, module, id string) string {
	tab := bigin.RecordTab(module)
	values := map[string]string{"{web}": l.web, "{zgid}": l.zgid, "{org_id}": l.orgID, "{tab}": tab, "{module}": module, "{id}": id}
	tmpl := r.String()
	for p, v := range values {
		if v == "" && strings.Contains(tmpl, p) {
			return ""
		}
	}
	return placeholder.ReplaceAllStringFunc(tmpl, func(p string) string { return values[p] })
}

// metaOrg is the kind of metadata that holds the organization's zgid.
const metaOrg = "org"

// recordLink returns what the call's record URLs are made of; the zgid is
// read (GET /org, then cached with the account's metadata) only when the
// template uses it, and left empty when Zoho does not give it, so a record
// is still found when its link cannot be made.
func (c *Call) recordLink(ctx context.Context) recordLink {
	l := recordLink{web: c.Client.Datacenter().WebURL, orgID: c.orgID}
	if !c.links.uses("{zgid}") || l.web == "" && c.links.uses("{web}") {
		return l
	}
	e, err := c.meta.get(ctx, metaKey{c.account, "", metaOrg}, func(ctx context.Context) (*metaEntry, error) {
		raw, err := c.Client.Org(ctx)
		if err != nil {
			return nil, err
		}
		return &metaEntry{zgid: zgidOf(raw)}, nil
	})
	if err == nil {
		l.zgid = e.zgid
	}
	return l
}

// zgidOf reads the zgid of Zoho's org object: a string of digits (Zoho
// sends a string; a number is read too), "" for anything else.
func zgidOf(org json.RawMessage) string {
	var v struct {
		ZGID json.RawMessage `json:"zgid"`
	}
	if json.Unmarshal(org, &v) != nil {
		return ""
	}
	s := strings.Trim(string(v.ZGID), `"`)
	if !digits(s) || len(s) > 30 {
		return ""
	}
	return s
}

// digits reports whether s is one or more ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
