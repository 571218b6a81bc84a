package bigin_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin"
)

func TestDefaultDatacenters(t *testing.T) {
	t.Parallel()
	want := map[string][3]string{
		"us": {"https://accounts.zoho.com", "https://www.zohoapis.com", "https://bigin.zoho.com"},
		"eu": {"https://accounts.zoho.eu", "https://www.zohoapis.eu", "https://bigin.zoho.eu"},
		"in": {"https://accounts.zoho.in", "https://www.zohoapis.in", "https://bigin.zoho.in"},
		"au": {"https://accounts.zoho.com.au", "https://www.zohoapis.com.au", "https://bigin.zoho.com.au"},
		"jp": {"https://accounts.zoho.jp", "https://www.zohoapis.jp", "https://bigin.zoho.jp"},
		"ca": {"https://accounts.zohocloud.ca", "https://www.zohoapis.ca", "https://bigin.zohocloud.ca"},
		"sa": {"https://accounts.zoho.sa", "https://www.zohoapis.sa", "https://bigin.zoho.sa"},
		"cn": {"https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn", "https://bigin.zoho.com.cn"},
		"uk": {"https://accounts.zoho.uk", "https://www.zohoapis.uk", "https://bigin.zoho.uk"},
	}
	for _, d := range []bigin.Datacenters{bigin.DefaultDatacenters(), {}} {
		assert.Equal(t, []string{"au", "ca", "cn", "eu", "in", "jp", "sa", "uk", "us"}, d.Keys())
		for k, urls := range want {
			dc, err := d.Get(k)
			require.NoError(t, err)
			assert.Equal(t, bigin.Datacenter{Key: k, AccountsURL: urls[0], APIURL: urls[1], WebURL: urls[2]}, dc)
		}
	}
	d, err := bigin.ParseDatacenters("  ")
	require.NoError(t, err)
	assert.Equal(t, bigin.DefaultDatacenters(), d)
}

func TestParseDatacenters(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "dcs.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"us":{"accounts_url":"http://127.0.0.1:9000/","api_url":"http://127.0.0.1:9001"}}`), 0o600))

	d, err := bigin.ParseDatacenters(`{"us":{"accounts_url":"http://127.0.0.1:9000/","api_url":"http://127.0.0.1:9001//"},` +
		`"priv":{"accounts_url":"https://accounts.example.com","api_url":"https://api.example.com/zoho"},` +
		`"eu":{"api_url":"https://proxy.example.eu"},"in":{"web_url":"https://bigin.example.in/"}}`)
	require.NoError(t, err)
	us, _ := d.Get("us")
	assert.Equal(t, bigin.Datacenter{Key: "us", AccountsURL: "http://127.0.0.1:9000", APIURL: "http://127.0.0.1:9001", WebURL: "https://bigin.zoho.com"}, us,
		"override, trailing slash trimmed")
	priv, err := d.Get("priv")
	require.NoError(t, err)
	assert.Equal(t, "https://api.example.com/zoho", priv.APIURL, "an added key")
	assert.Empty(t, priv.WebURL, "an added key without web_url has no web app")
	eu, _ := d.Get("eu")
	assert.Equal(t, bigin.Datacenter{Key: "eu", AccountsURL: "https://accounts.zoho.eu", APIURL: "https://proxy.example.eu", WebURL: "https://bigin.zoho.eu"}, eu,
		"a partial override keeps the other URLs")
	in, _ := d.Get("in")
	assert.Equal(t, bigin.Datacenter{Key: "in", AccountsURL: "https://accounts.zoho.in", APIURL: "https://www.zohoapis.in", WebURL: "https://bigin.example.in"}, in,
		"web_url alone")
	ca, _ := d.Get("ca")
	assert.Equal(t, "https://www.zohoapis.ca", ca.APIURL, "untouched keys stay built in")
	assert.Len(t, d.Keys(), 10)

	f, err := bigin.ParseDatacenters("@" + file)
	require.NoError(t, err)
	us, _ = f.Get("us")
	assert.Equal(t, "http://127.0.0.1:9000", us.AccountsURL)
	assert.Equal(t, bigin.DefaultDatacenters().Keys(), f.Keys())
}

func TestParseDatacentersErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, spec, want string
	}{
		{"truncated JSON", `{"us":`, "invalid datacenters JSON (want {\"<key>\":{\"accounts_url\":\"https://…\",\"api_url\":\"https://…\"}}): the JSON ends early"},
		{"syntax", `{"us" 1}`, "invalid character '1' after object key (at byte 7)"},
		{"not an object", `["us"]`, "the whole value holds a JSON array, want an object"},
		{"datacenter not an object", `{"us":"https://x"}`, `datacenter "us": the value holds a JSON string, want an object`},
		{"URL not a string", `{"us":{"api_url":1}}`, `datacenter "us": "api_url" holds a JSON number, want a string`},
		{"empty", `{`, "the JSON ends early"},
		{"null", `null`, "invalid datacenters JSON"},
		{"trailing data", `{} {}`, "unexpected data after the object"},
		{"unknown field", `{"us":{"accounts_uri":"https://a.example"}}`, `datacenter "us": unknown field "accounts_uri"`},
		{"empty key", `{"":{"accounts_url":"https://a.example","api_url":"https://b.example"}}`, `datacenter key "" must be non-empty`},
		{"new key without api_url", `{"xx":{"accounts_url":"https://a.example"}}`, `datacenter "xx" is not built in, so it needs both accounts_url and api_url`},
		{"relative URL", `{"us":{"accounts_url":"not a url"}}`, `datacenter "us": accounts_url "not a url" must be an absolute http or https URL`},
		{"ftp URL", `{"us":{"api_url":"ftp://files.example"}}`, `datacenter "us": api_url "ftp://files.example" must be an absolute http or https URL`},
		{"no host", `{"us":{"api_url":"https://"}}`, `api_url "https://" has no host`},
		{"query", `{"us":{"api_url":"https://api.example?x=1"}}`, "must not have a query or fragment"},
		{"fragment", `{"us":{"api_url":"https://api.example#x"}}`, "must not have a query or fragment"},
		{"user info", `{"us":{"api_url":"https://u:p@api.example"}}`, "must not contain user information"},
		{"bad web URL", `{"us":{"web_url":"bigin.zoho.com"}}`, `datacenter "us": web_url "bigin.zoho.com" must be an absolute http or https URL`},
		{"web URL not a string", `{"us":{"web_url":true}}`, `datacenter "us": "web_url" holds a JSON bool, want a string`},
		{"missing file", "@/nonexistent/dcs.json", "cannot read datacenters file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bigin.ParseDatacenters(tt.spec)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "\n", "one line")
		})
	}
}

func TestDatacenterLookups(t *testing.T) {
	t.Parallel()
	d := bigin.DefaultDatacenters()
	_, err := d.Get("mars")
	require.ErrorIs(t, err, bigin.ErrUnknownDatacenter)
	assert.Equal(t, `unknown datacenter "mars"; valid datacenters: au, ca, cn, eu, in, jp, sa, uk, us`, err.Error())

	tests := []struct {
		in      string
		byAcc   string
		byAPI   string
		comment string
	}{
		{"https://accounts.zoho.com", "us", "", "exact"},
		{"https://ACCOUNTS.Zoho.EU/", "eu", "", "host case and trailing slash"},
		{"https://accounts.zoho.in:443", "in", "", "default port"},
		{"https://accounts.zohocloud.ca", "ca", "", "Canada's accounts host"},
		{"https://www.zohoapis.ca", "", "ca", "Canada's API host"},
		{"https://www.zohoapis.com.au/", "", "au", ""},
		{"http://accounts.zoho.com", "", "", "scheme matters"},
		{"https://accounts.zoho.com.evil.example", "", "", "suffix attack"},
		{"https://www.zohoapis.com@evil.example", "", "", "user info"},
		{"accounts.zoho.com", "", "", "not absolute"},
		{"", "", "", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.in+" "+tt.comment, func(t *testing.T) {
			dc, ok := d.ByAccountsServer(tt.in)
			assert.Equal(t, tt.byAcc != "", ok)
			assert.Equal(t, tt.byAcc, dc.Key)
			dc, ok = d.ByAPIDomain(tt.in)
			assert.Equal(t, tt.byAPI != "", ok)
			assert.Equal(t, tt.byAPI, dc.Key)
		})
	}
}

func TestNewClientErrors(t *testing.T) {
	t.Parallel()
	good := bigin.Options{Datacenter: "us", Credentials: bigin.Credentials{ClientID: "1000.X", ClientSecret: "s", RefreshToken: "1000.r.t"}}
	tests := []struct {
		name string
		mod  func(*bigin.Options)
		want string
	}{
		{"empty refresh token", func(o *bigin.Options) { o.Credentials.RefreshToken = "  " }, "bigin: the refresh token is empty"},
		{"empty client id", func(o *bigin.Options) { o.Credentials.ClientID = "" }, "bigin: the OAuth client id is empty"},
		{"empty client secret", func(o *bigin.Options) { o.Credentials.ClientSecret = "" }, "bigin: the OAuth client secret is empty"},
		{"unknown datacenter", func(o *bigin.Options) { o.Datacenter = "xx" }, `unknown datacenter "xx"; valid datacenters: au, ca, cn, eu, in, jp, sa, uk, us`},
		{"negative timeout", func(o *bigin.Options) { o.Timeout = -1 }, "bigin: the timeout must not be negative"},
		{"unconfigured api domain", func(o *bigin.Options) { o.APIDomain = "https://evil.example" }, `bigin: api_domain is not a configured datacenter: "https://evil.example"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good
			tt.mod(&o)
			_, err := bigin.NewClient(o)
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
		})
	}
	c, err := bigin.NewClient(good)
	require.NoError(t, err)
	assert.Equal(t, "https://www.zohoapis.com", c.APIDomain(), "the datacenter's API base until Zoho says")
	o := good
	o.APIDomain = "https://www.zohoapis.eu/"
	c, err = bigin.NewClient(o)
	require.NoError(t, err)
	assert.Equal(t, "https://www.zohoapis.eu", c.APIDomain(), "another configured datacenter's API base is accepted")
}

// TestDatacenterLabel: the picker's label names the region and the server
// the person will really be sent to.
func TestDatacenterLabel(t *testing.T) {
	t.Parallel()
	d, err := bigin.ParseDatacenters(`{"us":{"accounts_url":"http://127.0.0.1:8099"},"acme":{"accounts_url":"https://login.acme.test","api_url":"https://api.acme.test"}}`)
	require.NoError(t, err)
	for key, want := range map[string]string{
		"eu":      "Europe (zoho.eu)",
		"ca":      "Canada (zohocloud.ca)",
		"au":      "Australia (zoho.com.au)",
		"us":      "United States (127.0.0.1:8099)",
		"acme":    "acme (login.acme.test)",
		"unknown": "unknown",
	} {
		assert.Equal(t, want, d.Label(key), key)
	}
}
