package bigin_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

// fixture is one sandbox datacenter on loopback and a table pointing the
// datacenter key at it.
type fixture struct {
	key string
	sb  *sandbox.Sandbox
	ts  *httptest.Server
	dcs bigin.Datacenters
}

func newFixture(t *testing.T, opts sandbox.Options) *fixture {
	t.Helper()
	if opts.Location == "" {
		opts.Location = "us"
	}
	sb := sandbox.New(opts)
	ts := httptest.NewServer(sb)
	t.Cleanup(ts.Close)
	sb.SetBaseURL(ts.URL)
	return &fixture{key: opts.Location, sb: sb, ts: ts, dcs: tableFor(t, map[string]string{opts.Location: ts.URL})}
}

// tableFor builds a datacenter table whose keys point at the URLs (the
// accounts server and the API on one host, as a sandbox serves them).
func tableFor(t *testing.T, urls map[string]string) bigin.Datacenters {
	t.Helper()
	spec := map[string]map[string]string{}
	for k, u := range urls {
		spec[k] = map[string]string{"accounts_url": u, "api_url": u}
	}
	raw, err := json.Marshal(spec)
	require.NoError(t, err)
	dcs, err := bigin.ParseDatacenters(string(raw))
	require.NoError(t, err)
	return dcs
}

// tokenLog records the tokens OnToken received.
type tokenLog struct {
	mu   sync.Mutex
	toks []bigin.Token
}

func (l *tokenLog) add(t bigin.Token) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.toks = append(l.toks, t)
}

func (l *tokenLog) all() []bigin.Token {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]bigin.Token(nil), l.toks...)
}

func (l *tokenLog) last() bigin.Token {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.toks) == 0 {
		return bigin.Token{}
	}
	return l.toks[len(l.toks)-1]
}

// options returns client options for the fixture's primary admin, with a
// fresh refresh token; mods adjust them.
func (f *fixture) options(t *testing.T, log *tokenLog, mods ...func(*bigin.Options)) bigin.Options {
	t.Helper()
	o := bigin.Options{
		Datacenters: f.dcs,
		Datacenter:  f.key,
		Credentials: bigin.Credentials{ClientID: f.sb.ClientID(), ClientSecret: f.sb.ClientSecret(), RefreshToken: f.sb.IssueRefreshToken()},
		Timeout:     10 * time.Second,
	}
	if log != nil {
		o.OnToken = log.add
	}
	for _, m := range mods {
		m(&o)
	}
	return o
}

func (f *fixture) client(t *testing.T, log *tokenLog, mods ...func(*bigin.Options)) *bigin.Client {
	t.Helper()
	c, err := bigin.NewClient(f.options(t, log, mods...))
	require.NoError(t, err)
	return c
}

// lastRequest is the sandbox's latest API request.
func (f *fixture) lastRequest(t *testing.T) sandbox.Request {
	t.Helper()
	reqs := f.sb.APIRequests()
	require.NotEmpty(t, reqs)
	return reqs[len(reqs)-1]
}

// ids reads the "id" of each record.
func ids(t *testing.T, recs []json.RawMessage) []string {
	t.Helper()
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = idOf(t, r)
	}
	return out
}

func idOf(t *testing.T, rec json.RawMessage) string {
	t.Helper()
	var v struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(rec, &v))
	require.NotEmpty(t, v.ID)
	return v.ID
}

// counter is an http.Handler that only counts requests.
type counter struct{ n atomic.Int64 }

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"users":[],"org":[{"id":"1"}]}`))
}

// timeIn is now plus seconds.
func timeIn(t *testing.T, seconds int) time.Time {
	t.Helper()
	return time.Now().Add(time.Duration(seconds) * time.Second)
}
