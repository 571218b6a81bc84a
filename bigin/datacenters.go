package bigin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"
)

// Datacenter is one Zoho datacenter: its accounts server, API base, and
// the address of Bigin's web app there.
type Datacenter struct {
	Key         string `json:"-"`            // e.g. "us"
	AccountsURL string `json:"accounts_url"` // e.g. https://accounts.zoho.com
	APIURL      string `json:"api_url"`      // e.g. https://www.zohoapis.com
	// WebURL is where the datacenter's users open Bigin in a browser,
	// e.g. https://bigin.zoho.com: the base of a record's page
	// (RecordTab). Empty when unknown (a datacenter added by
	// configuration without one); links to records are then left out.
	WebURL string `json:"web_url,omitempty"`
}

// Datacenters is an immutable table of datacenters by key. The zero value
// is the built-in table.
type Datacenters struct{ m map[string]Datacenter }

// builtin is the table of Zoho's datacenters. The location codes
// other than us and in, and the whole uk row's API host, are UNVERIFIED:
// they follow Zoho Accounts' naming (uk's API host is a guess, Bigin lists
// no UK datacenter). Canada does not follow the pattern: its accounts
// server is zohocloud.ca but its API host is zohoapis.ca.
//
// The web app's hosts of us, eu and in are seen in links to records that
// shipped integrations build; the others follow the accounts server's
// domain and are UNVERIFIED (ca's above all: bigin.zohocloud.ca after its
// accounts server, not zoho.ca).
func builtin() []Datacenter {
	return []Datacenter{
		{Key: "us", AccountsURL: "https://accounts.zoho.com", APIURL: "https://www.zohoapis.com", WebURL: "https://bigin.zoho.com"},
		{Key: "eu", AccountsURL: "https://accounts.zoho.eu", APIURL: "https://www.zohoapis.eu", WebURL: "https://bigin.zoho.eu"},
		{Key: "in", AccountsURL: "https://accounts.zoho.in", APIURL: "https://www.zohoapis.in", WebURL: "https://bigin.zoho.in"},
		{Key: "au", AccountsURL: "https://accounts.zoho.com.au", APIURL: "https://www.zohoapis.com.au", WebURL: "https://bigin.zoho.com.au"},
		{Key: "jp", AccountsURL: "https://accounts.zoho.jp", APIURL: "https://www.zohoapis.jp", WebURL: "https://bigin.zoho.jp"},
		{Key: "ca", AccountsURL: "https://accounts.zohocloud.ca", APIURL: "https://www.zohoapis.ca", WebURL: "https://bigin.zohocloud.ca"},
		{Key: "sa", AccountsURL: "https://accounts.zoho.sa", APIURL: "https://www.zohoapis.sa", WebURL: "https://bigin.zoho.sa"},
		{Key: "cn", AccountsURL: "https://accounts.zoho.com.cn", APIURL: "https://www.zohoapis.com.cn", WebURL: "https://bigin.zoho.com.cn"},
		{Key: "uk", AccountsURL: "https://accounts.zoho.uk", APIURL: "https://www.zohoapis.uk", WebURL: "https://bigin.zoho.uk"},
	}
}

// RecordTab returns the part of a record's page address in Bigin's web
// app that names its module (…/Home#/{tab}/{record id}): deals for
// Pipelines and companies for Accounts, as links that shipped
// integrations build show, and contacts for Contacts, which follows them
// (UNVERIFIED); "" for the modules whose pages are not known.
func RecordTab(module string) string {
	switch module {
	case ModuleContacts:
		return "contacts"
	case ModuleAccounts:
		return "companies"
	case ModulePipelines:
		return "deals"
	}
	return ""
}

// Datacenter returns the datacenter the client calls.
func (c *Client) Datacenter() Datacenter { return c.dc }

// DefaultDatacenters returns the built-in table.
func DefaultDatacenters() Datacenters {
	m := map[string]Datacenter{}
	for _, dc := range builtin() {
		m[dc.Key] = dc
	}
	return Datacenters{m: m}
}

// ParseDatacenters returns the built-in table with the JSON spec (inline, or
// "@path" to read a file) merged over it. An empty spec gives the built-in
// table. A key of the built-in table may override any of its URLs and
// keep the others; a new key needs accounts_url and api_url, and web_url
// is optional. Errors name what is wrong in one line.
func ParseDatacenters(spec string) (Datacenters, error) {
	d := DefaultDatacenters()
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return d, nil
	}
	raw := []byte(spec)
	if path, ok := strings.CutPrefix(spec, "@"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return Datacenters{}, fmt.Errorf("cannot read datacenters file: %w", err)
		}
		raw = b
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var in map[string]json.RawMessage
	if err := dec.Decode(&in); err != nil {
		return Datacenters{}, fmt.Errorf(`invalid datacenters JSON (want {"<key>":{"accounts_url":"https://…","api_url":"https://…"}}): %s`, jsonProblem(err, "the whole value"))
	}
	if dec.More() {
		return Datacenters{}, errors.New("invalid datacenters JSON: unexpected data after the object")
	}
	if in == nil {
		return Datacenters{}, errors.New(`invalid datacenters JSON: want an object like {"us":{"accounts_url":"https://…","api_url":"https://…"}}`)
	}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.TrimSpace(k) == "" || k != strings.TrimSpace(k) {
			return Datacenters{}, fmt.Errorf("datacenter key %q must be non-empty and have no surrounding spaces", k)
		}
		var v struct {
			AccountsURL *string `json:"accounts_url"`
			APIURL      *string `json:"api_url"`
			WebURL      *string `json:"web_url"`
		}
		vd := json.NewDecoder(bytes.NewReader(in[k]))
		vd.DisallowUnknownFields()
		if err := vd.Decode(&v); err != nil {
			return Datacenters{}, fmt.Errorf("datacenter %q: %s", k, jsonProblem(err, "the value"))
		}
		dc, known := d.m[k]
		dc.Key = k
		if !known && (v.AccountsURL == nil || v.APIURL == nil) {
			return Datacenters{}, fmt.Errorf("datacenter %q is not built in, so it needs both accounts_url and api_url", k)
		}
		if v.AccountsURL != nil {
			u, err := cleanURL(*v.AccountsURL)
			if err != nil {
				return Datacenters{}, fmt.Errorf("datacenter %q: accounts_url %w", k, err)
			}
			dc.AccountsURL = u
		}
		if v.APIURL != nil {
			u, err := cleanURL(*v.APIURL)
			if err != nil {
				return Datacenters{}, fmt.Errorf("datacenter %q: api_url %w", k, err)
			}
			dc.APIURL = u
		}
		if v.WebURL != nil {
			u, err := cleanURL(*v.WebURL)
			if err != nil {
				return Datacenters{}, fmt.Errorf("datacenter %q: web_url %w", k, err)
			}
			dc.WebURL = u
		}
		d.m[k] = dc
	}
	return d, nil
}

// cleanURL checks that s is an absolute http(s) URL with a host and no
// query or fragment, and trims its trailing slashes.
func cleanURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "", fmt.Errorf("%q is not a URL", s)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("%q must be an absolute http or https URL", s)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("%q has no host", s)
	case u.User != nil:
		return "", fmt.Errorf("%q must not contain user information", s)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(s, "?#"):
		return "", fmt.Errorf("%q must not have a query or fragment", s)
	}
	return strings.TrimRight(s, "/"), nil
}

// jsonProblem says in one line what is wrong with the JSON, without Go
// type names; whole names the value decoded.
func jsonProblem(err error, whole string) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%s (at byte %d)", strings.TrimPrefix(se.Error(), "json: "), se.Offset)
	case errors.As(err, &te):
		at := whole
		if te.Field != "" {
			at = fmt.Sprintf("%q", te.Field)
		}
		want := "an object"
		if strings.HasSuffix(te.Field, "_url") {
			want = "a string"
		}
		return fmt.Sprintf("%s holds a JSON %s, want %s", at, te.Value, want)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the JSON ends early"
	}
	return oneLine(strings.TrimPrefix(err.Error(), "json: "))
}

// oneLine keeps an error text on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func (d Datacenters) table() map[string]Datacenter {
	if d.m == nil {
		return DefaultDatacenters().m
	}
	return d.m
}

// Get returns the datacenter with the key, or an error wrapping
// ErrUnknownDatacenter that names the valid keys.
func (d Datacenters) Get(key string) (Datacenter, error) {
	if dc, ok := d.table()[key]; ok {
		return dc, nil
	}
	return Datacenter{}, fmt.Errorf("%w %q; valid datacenters: %s", ErrUnknownDatacenter, key, strings.Join(d.Keys(), ", "))
}

// Keys returns the keys in sorted order.
func (d Datacenters) Keys() []string {
	t := d.table()
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// regionNames names the regions of the built-in datacenters.
func regionNames() map[string]string {
	return map[string]string{
		"us": "United States", "eu": "Europe", "in": "India", "au": "Australia", "jp": "Japan",
		"ca": "Canada", "sa": "Saudi Arabia", "cn": "China", "uk": "United Kingdom",
	}
}

// Label names datacenter key for a person choosing where their Zoho
// account lives: its region and the host of its accounts server, such as
// "Europe (zoho.eu)". A datacenter whose accounts server is not Zoho's own
// (one overridden by configuration, such as the demo's sandbox) shows
// that server's host, so the label never names a Zoho the person will not
// be sent to; a key with no known region is named by itself.
func (d Datacenters) Label(key string) string {
	name := regionNames()[key]
	if name == "" {
		name = key
	}
	dc, err := d.Get(key)
	if err != nil {
		return name
	}
	host := dc.AccountsURL
	if u, err := url.Parse(dc.AccountsURL); err == nil && u.Host != "" {
		host = u.Host
	}
	if builtin, err := DefaultDatacenters().Get(key); err == nil && builtin.AccountsURL == dc.AccountsURL {
		host = strings.TrimPrefix(host, "accounts.")
	}
	return name + " (" + host + ")"
}

// ByAccountsServer finds the datacenter whose accounts server is u,
// comparing scheme and host only (host case and a trailing slash do not
// matter). When several match, the first key in sorted order wins.
func (d Datacenters) ByAccountsServer(u string) (Datacenter, bool) {
	return d.find(u, func(dc Datacenter) string { return dc.AccountsURL })
}

// ByAPIDomain finds the datacenter whose API base is u, compared as in
// ByAccountsServer.
func (d Datacenters) ByAPIDomain(u string) (Datacenter, bool) {
	return d.find(u, func(dc Datacenter) string { return dc.APIURL })
}

func (d Datacenters) find(u string, field func(Datacenter) string) (Datacenter, bool) {
	want, ok := origin(u)
	if !ok {
		return Datacenter{}, false
	}
	t := d.table()
	for _, k := range d.Keys() {
		if got, ok := origin(field(t[k])); ok && got == want {
			return t[k], true
		}
	}
	return Datacenter{}, false
}

// origin normalises an absolute http(s) URL to scheme://host[:port], with
// the host in lower case and a default port dropped.
func origin(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || u.User != nil {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, true
}
