package bigin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// APIVersion is the Bigin REST API version every operation calls.
const APIVersion = "v2"

const (
	// DefaultTimeout bounds a call, retries included, when Options.Timeout
	// is zero.
	DefaultTimeout = 30 * time.Second
	// maxBody is the largest answer read; Zoho pages are far smaller.
	maxBody = 16 << 20
	// maxDetails is the largest Zoho "details" object kept in an APIError.
	maxDetails = 4 << 10
	// getAttempts is one try plus at most two retries for idempotent GETs.
	getAttempts = 3
	// backoffBase and backoffMax bound the jittered exponential backoff.
	backoffBase = 100 * time.Millisecond
	backoffMax  = 2 * time.Second
)

// Options configures NewClient.
type Options struct {
	Datacenters Datacenters
	Datacenter  string // key into Datacenters
	Credentials Credentials
	// APIDomain is the api_domain Zoho returned earlier for this account;
	// empty means the datacenter's API base until a token response says.
	APIDomain string
	// Token is a cached access token to start with (from the store).
	Token *Token
	// OnToken is called after every successful refresh, so the caller can
	// persist the new access token. It must not block for long.
	OnToken func(Token)
	// RefreshGate, when set, wraps every refresh: it is given the access
	// token the client holds (expired, about to, or just rejected by
	// Zoho; empty when none) and the refresh itself, and returns the
	// token to use. Processes that share an account use it to elect one
	// refresher: the others return the token it obtained instead of
	// refreshing. OnToken is still called with what it returns.
	RefreshGate func(ctx context.Context, held string, refresh func(context.Context) (Token, error)) (Token, error)
	// HTTPClient is used for API and token calls; nil means a default client.
	HTTPClient *http.Client
	// Timeout bounds each call, retries included; 0 means 30 s.
	Timeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Observer is told of each upstream request and token refresh (for
	// metrics); its zero value observes nothing.
	Observer Observer
}

// Observer is told of a client's work with Zoho. Its functions may be nil;
// they run on the calling goroutine and must not block. What they receive
// never holds a token, an id or a path with an id in it.
type Observer struct {
	// Request is called after each HTTP request to the Bigin API, every
	// retry included.
	Request func(UpstreamRequest)
	// Refresh is called after each access-token refresh with its result:
	// "ok", "refused" (Zoho refused the refresh token: the account needs
	// reauthorization) or "error" (any other failure).
	Refresh func(result string)
}

// UpstreamRequest is one HTTP request to the Bigin API.
type UpstreamRequest struct {
	// Datacenter is the account's datacenter key.
	Datacenter string
	// Operation is the method and the path's template, e.g.
	// "GET /users/{id}".
	Operation string
	// Status is the HTTP status of the answer, 0 when none came.
	Status   int
	Duration time.Duration
	// RateLimited is set when Zoho refused the call for its rate limits
	// or credits.
	RateLimited bool
}

// Client calls one account's Bigin API. It is safe for concurrent use and is
// meant to be reused for the account's lifetime.
type Client struct {
	dcs     Datacenters
	dc      Datacenter
	hc      *http.Client
	timeout time.Duration
	now     func() time.Time
	cache   *tokenCache
	obs     Observer

	mu        sync.Mutex
	apiDomain string
}

// NewClient validates opts and returns a client. It makes no call. An
// unknown datacenter wraps ErrUnknownDatacenter; an APIDomain that is not a
// configured API base wraps ErrUnknownAPIDomain; a cached Token whose
// domain is not configured is dropped (it is only a cache).
func NewClient(opts Options) (*Client, error) {
	dc, err := opts.Datacenters.Get(opts.Datacenter)
	if err != nil {
		return nil, err
	}
	creds := Credentials{
		ClientID:     strings.TrimSpace(opts.Credentials.ClientID),
		ClientSecret: strings.TrimSpace(opts.Credentials.ClientSecret),
		RefreshToken: strings.TrimSpace(opts.Credentials.RefreshToken),
	}
	switch {
	case creds.RefreshToken == "":
		return nil, errors.New("bigin: the refresh token is empty")
	case creds.ClientID == "":
		return nil, errors.New("bigin: the OAuth client id is empty")
	case creds.ClientSecret == "":
		return nil, errors.New("bigin: the OAuth client secret is empty")
	}
	if opts.Timeout < 0 {
		return nil, errors.New("bigin: the timeout must not be negative")
	}
	c := &Client{dcs: opts.Datacenters, dc: dc, timeout: opts.Timeout, now: opts.Now, obs: opts.Observer}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	hc := http.DefaultClient
	if opts.HTTPClient != nil {
		hc = opts.HTTPClient
	}
	c.hc = &http.Client{Transport: hc.Transport, Jar: hc.Jar, Timeout: hc.Timeout, CheckRedirect: noRedirect}
	if c.apiDomain, err = resolveAPIDomain(c.dcs, dc, opts.APIDomain); err != nil {
		return nil, err
	}
	c.cache = &tokenCache{
		now:     c.now,
		timeout: c.timeout,
		onToken: opts.OnToken,
		fetch: func(ctx context.Context) (Token, error) {
			t, err := refreshToken(ctx, c.hc, c.dcs, c.dc, creds, c.now)
			if err == nil {
				c.mu.Lock()
				c.apiDomain = t.APIDomain
				c.mu.Unlock()
			}
			if c.obs.Refresh != nil {
				switch {
				case err == nil:
					c.obs.Refresh("ok")
				case errors.Is(err, ErrRefreshRefused):
					c.obs.Refresh("refused")
				default:
					c.obs.Refresh("error")
				}
			}
			return t, err
		},
	}
	if gate := opts.RefreshGate; gate != nil {
		fetch := c.cache.fetch
		c.cache.fetch = func(ctx context.Context) (Token, error) {
			t, err := gate(ctx, c.cache.held(), fetch)
			if err == nil && t.APIDomain != "" {
				if base, derr := resolveAPIDomain(c.dcs, dc, t.APIDomain); derr == nil {
					t.APIDomain = base
					c.mu.Lock()
					c.apiDomain = base
					c.mu.Unlock()
				}
			}
			return t, err
		}
	}
	if t := opts.Token; t != nil && t.AccessToken != "" {
		domain := t.APIDomain
		if domain == "" {
			domain = c.apiDomain
		}
		if base, err := resolveAPIDomain(c.dcs, dc, domain); err == nil {
			c.cache.tok = Token{AccessToken: t.AccessToken, Expiry: t.Expiry, APIDomain: base}
			c.apiDomain = base
		}
	}
	return c, nil
}

// errNoRefresh is what a client holding one access token answers when
// that token stops working.
var errNoRefresh = errors.New("bigin: this client holds one short-lived access token and cannot refresh it")

// NewTokenClient returns a client that calls the API with one access
// token and never refreshes it (a person's sign-in token, used once and
// dropped). tok.APIDomain must be a configured API base (SignInExchange
// returns one).
func NewTokenClient(dcs Datacenters, datacenter string, tok Token, httpClient *http.Client, now func() time.Time) (*Client, error) {
	c, err := NewClient(Options{
		Datacenters: dcs, Datacenter: datacenter, APIDomain: tok.APIDomain, Token: &tok,
		Credentials: Credentials{ClientID: "-", ClientSecret: "-", RefreshToken: "-"},
		HTTPClient:  httpClient, Now: now,
	})
	if err != nil {
		return nil, err
	}
	c.cache.fetch = func(context.Context) (Token, error) { return Token{}, errNoRefresh }
	return c, nil
}

// Refresh forces a token refresh now (used to verify new credentials). If
// a refresh is already running, it waits for that one instead.
func (c *Client) Refresh(ctx context.Context) (Token, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.cache.refresh(ctx)
}

// APIDomain returns the API base this client calls.
func (c *Client) APIDomain() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.apiDomain
}

// answer is a decoded successful response: status and the top-level JSON
// object (nil for 204 No Content).
type answer struct {
	status int
	top    map[string]json.RawMessage
	arrays map[string][]json.RawMessage // elements of top's array values
}

// shape says how an answer's arrays are read.
type shape int

const (
	// wrappedErrors: an array item with a "code" is Zoho's error wrapped in
	// the resource key (the directory answers: users, org, roles).
	wrappedErrors shape = iota
	// recordItems: array items are records, never read as errors (a
	// record may have a field named "code" or "status").
	recordItems
	// writeOutcomes: the answer to a multi-record write, whose "data"
	// items are per-record outcomes; a 207 or 400 with a "data" array is
	// read per record, not as a failure of the call.
	writeOutcomes
)

// request is one API call: its method, path below /bigin/v2, query, JSON
// body (nil for none) and how to read the answer.
type request struct {
	method string
	path   string
	query  url.Values
	body   []byte
	shape  shape
}

// call makes a bodiless call whose arrays may hold wrapped Zoho errors.
func (c *Client) call(ctx context.Context, method, path string, q url.Values) (*answer, error) {
	return c.do(ctx, request{method: method, path: path, query: q})
}

// do makes one API call under the client's timeout: it gets a token,
// sends the request (retrying a GET on network errors and 5xx), and on a
// 401 INVALID_TOKEN or AUTHENTICATION_FAILURE refreshes once and retries
// once (Zoho refuses those before acting, so a write is not repeated).
// Any other 401, OAUTH_SCOPE_MISMATCH above all, is returned as it is:
// a new token carries the same scopes.
func (c *Client) do(ctx context.Context, req request) (*answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	for try := 0; ; try++ {
		tok, err := c.cache.get(ctx)
		if err != nil {
			return nil, err
		}
		a, err := c.send(ctx, tok, req)
		var ae *APIError
		if try == 0 && errors.As(err, &ae) && ae.Status == http.StatusUnauthorized &&
			(ae.Code == "INVALID_TOKEN" || ae.Code == "AUTHENTICATION_FAILURE") {
			c.cache.invalidate(tok.AccessToken)
			continue
		}
		return a, err
	}
}

// send sends one request, retrying an idempotent GET at most twice on
// network errors and 5xx with jittered exponential backoff. Writes (POST,
// PUT, DELETE) and 429 are never retried.
func (c *Client) send(ctx context.Context, tok Token, req request) (*answer, error) {
	attempts := 1
	if req.method == http.MethodGet {
		attempts = getAttempts
	}
	var err error
	for i := range attempts {
		if i > 0 {
			if serr := sleep(ctx, backoff(i)); serr != nil {
				return nil, err
			}
		}
		var a *answer
		a, err = c.once(ctx, tok, req)
		if err == nil || !retryable(ctx, err) {
			return a, err
		}
	}
	return nil, err
}

// retryable reports whether a failed GET may be tried again.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500
	}
	return true // a network error
}

// backoff is the delay before retry n (1-based): base·2^(n-1), capped, with
// equal jitter.
func backoff(n int) time.Duration {
	d := backoffBase << (n - 1)
	if d > backoffMax || d <= 0 {
		d = backoffMax
	}
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// once sends one request and decodes the answer.
func (c *Client) once(ctx context.Context, tok Token, r request) (*answer, error) {
	method, path := r.method, r.path
	u := tok.APIDomain + "/bigin/" + APIVersion + path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("bigin: build request: %w", err)
	}
	req.Header.Set("Authorization", "Zoho-oauthtoken "+tok.AccessToken)
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.observe(method, path, 0, start, nil)
		return nil, fmt.Errorf("bigin: %w", err)
	}
	defer resp.Body.Close()
	answerBody, err := readBody(resp)
	if err != nil {
		c.observe(method, path, resp.StatusCode, start, nil)
		return nil, fmt.Errorf("bigin: read the answer to %s %s: %w", method, path, err)
	}
	a, err := decodeAs(r.shape, resp.StatusCode, resp.Header, answerBody, c.now())
	c.observe(method, path, resp.StatusCode, start, err)
	return a, err
}

// observe reports one upstream request to the Observer.
func (c *Client) observe(method, path string, status int, start time.Time, err error) {
	if c.obs.Request == nil {
		return
	}
	var ae *APIError
	c.obs.Request(UpstreamRequest{
		Datacenter: c.dc.Key, Operation: method + " " + pathTemplate(path), Status: status,
		Duration: time.Since(start), RateLimited: errors.As(err, &ae) && ae.RateLimited(),
	})
}

// pathTemplate replaces the ids in an API path with {id}
// ("/users/123" → "/users/{id}"), so an operation names no record.
func pathTemplate(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if s != "" && strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0 {
			segs[i] = "{id}"
		}
	}
	return strings.Join(segs, "/")
}

// readBody reads an answer whole (at most maxBody+1 bytes, so decode can
// refuse a larger one). When the length is declared it is read into one
// allocation of that size: io.ReadAll's doubling leaves about as much
// garbage again as a 100 KB page of users (seen in the tool-call memory
// profile). A chunked answer is read with io.ReadAll. (A sync.Pool of
// buffers did not help there: the go-sdk's allocation rate runs a GC every
// few calls, and a GC empties the pool.)
func readBody(resp *http.Response) ([]byte, error) {
	r := io.LimitReader(resp.Body, maxBody+1)
	if n := resp.ContentLength; n >= 0 && n <= maxBody {
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	return readGrowing(r)
}

// firstRead is the buffer an answer of unknown length is first read into.
const firstRead = 16 << 10

// readGrowing reads r to the end into a buffer that doubles from
// firstRead: a page of 100 users (about 100 KB, sent chunked or
// compressed, so without a length) takes 4 allocations, where io.ReadAll
// grows a 512-byte buffer by about a quarter at a time (17 allocations
// and as many copies).
func readGrowing(r io.Reader) ([]byte, error) {
	b := make([]byte, 0, firstRead)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = slices.Grow(b, cap(b)) // doubles
		}
	}
}

// decodeAs reads a Bigin answer. 204 is never decoded. Zoho's error
// bodies become an APIError whatever the status (Zoho sends some errors
// with 200): at the top level always, and wrapped in the resource key
// when sh is wrappedErrors. Bodies that are not a JSON object and non-2xx
// answers without a Zoho error are errors too, except that a write's
// answer (writeOutcomes) with a "data" array is read per record whatever
// its status (Zoho answers 207 when some records failed, 400 when all
// did).
func decodeAs(sh shape, status int, h http.Header, body []byte, now time.Time) (*answer, error) {
	fail := func(code, msg string, details json.RawMessage) error {
		rl, wait := rateLimitOf(h, now)
		if len(details) > maxDetails || string(details) == "null" {
			details = nil
		}
		return &APIError{Status: status, Code: code, Message: msg, Details: details, RateLimit: rl, RetryAfter: wait}
	}
	if status == http.StatusNoContent {
		return &answer{status: status}, nil
	}
	if len(body) > maxBody {
		return nil, fail(CodeInvalidResponse, "the answer is larger than 16 MiB", nil)
	}
	// One validating pass that also splits the top level and its arrays
	// (see jsonscan.go): records stay as Zoho's bytes.
	top, arrays, object, valid := scanAnswer(body)
	if !object || !valid {
		return nil, fail(CodeInvalidResponse, fmt.Sprintf("Zoho answered HTTP %d with a body that is not a JSON object", status), nil)
	}
	if ze, ok := zohoError(top); ok {
		return nil, fail(clip(ze.Code), clip(ze.Message), ze.Details)
	}
	if sh == writeOutcomes {
		if _, ok := arrays["data"]; ok && (status >= 200 && status <= 299 || status == http.StatusBadRequest) {
			return &answer{status: status, top: top, arrays: arrays}, nil
		}
	}
	if sh == wrappedErrors {
		if err := wrappedError(arrays); err != nil {
			return nil, fail(clip(err.Code), clip(err.Message), err.Details)
		}
	}
	if status < 200 || status > 299 {
		return nil, fail(CodeInvalidResponse, fmt.Sprintf("Zoho answered HTTP %d without an error code", status), nil)
	}
	return &answer{status: status, top: top, arrays: arrays}, nil
}

// wrappedError finds Zoho's error wrapped in a resource array, as in
// {"users":[{"code","details","message","status":"error"}]}.
func wrappedError(arrays map[string][]json.RawMessage) *zohoErr {
	for _, elems := range arrays {
		for _, el := range elems {
			// Only an object with a "code" key can be a wrapped error;
			// records do not have one, so a byte search skips them
			// without decoding, and only the four error keys are
			// decoded (decoding every record into a map here cost
			// thousands of allocations per page of users).
			if el[0] != '{' || !bytes.Contains(el, []byte(`"code"`)) {
				continue
			}
			var it errorProbe
			if json.Unmarshal(el, &it) != nil || it.Code == nil {
				continue
			}
			if ze, ok := zohoError(it.fields()); ok {
				return &ze
			}
		}
	}
	return nil
}

// errorProbe reads just the keys of a Zoho error from an array item, so
// that records are scanned without being decoded.
type errorProbe struct {
	Code    json.RawMessage `json:"code"`
	Status  json.RawMessage `json:"status"`
	Message json.RawMessage `json:"message"`
	Details json.RawMessage `json:"details"`
}

func (p errorProbe) fields() map[string]json.RawMessage {
	m := map[string]json.RawMessage{"code": p.Code, "message": p.Message, "details": p.Details}
	if p.Status != nil {
		m["status"] = p.Status
	}
	return m
}

// zohoErr is Zoho's error object {"code","details","message","status"}.
type zohoErr struct {
	Code    string          `json:"code"`
	Details json.RawMessage `json:"details"`
	Message string          `json:"message"`
	Status  string          `json:"status"`
}

// zohoError reads o as a Zoho error: a string code and a status of
// "error", or a code with no status at all. Records never carry a code.
func zohoError(o map[string]json.RawMessage) (zohoErr, bool) {
	rawCode, ok := o["code"]
	if !ok {
		return zohoErr{}, false
	}
	var ze zohoErr
	if json.Unmarshal(rawCode, &ze.Code) != nil || ze.Code == "" {
		return zohoErr{}, false
	}
	_ = json.Unmarshal(o["message"], &ze.Message)
	if raw, ok := o["status"]; ok {
		if json.Unmarshal(raw, &ze.Status) != nil || ze.Status != "error" {
			return zohoErr{}, false
		}
	}
	ze.Details = o["details"]
	return ze, true
}

// field decodes one key of an answer into v; a missing or malformed key is
// an INVALID_RESPONSE error naming it.
func (a *answer) field(key string, v any) error {
	raw, ok := a.top[key]
	if !ok || json.Unmarshal(raw, v) != nil {
		return &APIError{Status: a.status, Code: CodeInvalidResponse, Message: fmt.Sprintf("the answer has no valid %q", key)}
	}
	return nil
}

// records decodes the array under key, keeping each record's bytes.
func (a *answer) records(key string) ([]json.RawMessage, error) {
	recs, ok := a.arrays[key]
	if !ok {
		return nil, &APIError{Status: a.status, Code: CodeInvalidResponse, Message: fmt.Sprintf("the answer has no valid %q", key)}
	}
	for _, r := range recs {
		if r[0] != '{' { // elements start at their first byte, never at a space
			return nil, &APIError{Status: a.status, Code: CodeInvalidResponse, Message: fmt.Sprintf("the answer's %q holds a value that is not an object", key)}
		}
	}
	return recs, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
