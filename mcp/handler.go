package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bigin-mcp/bigin-mcp/internal/catalog"
	"github.com/bigin-mcp/bigin-mcp/internal/clock"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/internal/ratelimit"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Resolver is what the MCP endpoints need of the policy.
type Resolver interface {
	Resolve(ctx context.Context, token string) (*tokens.Resolved, error)
	AuthenticateAPIToken(ctx context.Context, token string) (*tokens.APIToken, error)
}

// OAuthVerifier checks the access tokens of oauth URLs (tokens.OAuth).
type OAuthVerifier interface {
	Authenticate(ctx context.Context, res *tokens.Resolved, accessToken string) (*tokens.OAuthGrant, error)
}

// Options configures NewHandler.
type Options struct {
	Resolver Resolver
	// OAuth checks access tokens of oauth URLs; without it every request
	// to an oauth URL is refused with 401.
	OAuth    OAuthVerifier
	Catalog  *catalog.Catalog
	Executor *catalog.Executor
	// PublicURL is the server's public base URL; its origin is always
	// allowed and its host accepted on loopback.
	PublicURL string
	// AllowedOrigins are the other browser Origins accepted.
	AllowedOrigins []string
	// Version is the build version reported in initialize.
	Version string
	// KeepAlive is how often an open legacy SSE stream gets a keep-alive
	// comment; 0 means DefaultKeepAlive.
	KeepAlive time.Duration
	// Observe, when set, is told of every MCP request handled (for
	// metrics).
	Observe func(Operation)
	Clock   clock.Clock // nil: the system clock
	Logger  *slog.Logger
	// Failures, when set, is the per-address budget of wrong bearer
	// tokens (API tokens on api_token URLs, access tokens on oauth URLs):
	// past it, a request with a bearer token gets 429 unchecked.
	Failures *ratelimit.FailureBudget

	// MaxSSEStreams caps the legacy SSE streams open at once, in total
	// (0: DefaultMaxSSEStreams); MaxSSEStreamsPerURL caps them per MCP
	// URL (0: DefaultMaxSSEStreamsPerURL). A stream past a cap is
	// answered 429 with Retry-After.
	MaxSSEStreams       int
	MaxSSEStreamsPerURL int
	// MaxSSEAnswersInFlight caps, per legacy SSE session, the requests
	// it accepted whose answers its stream has not yet taken (0:
	// DefaultMaxSSEAnswersInFlight); one more is answered 429 with
	// Retry-After. SSEWriteTimeout bounds each write to a legacy SSE
	// stream (0: DefaultSSEWriteTimeout): a stream whose client has not
	// taken a write within it is ended, and its session with it.
	MaxSSEAnswersInFlight int
	SSEWriteTimeout       time.Duration
	// StructuredOnly, an opt-in, leaves out the text block of successful
	// tool results for clients on protocol 2026-07-28 or later; earlier
	// clients always get both. Off, every result carries both blocks:
	// clients on 2026-07-28 that hand a model only content (the OpenAI
	// Agents SDK by default) would otherwise pass it an empty result.
	StructuredOnly bool
}

// Handler serves the MCP endpoints.
type Handler struct {
	opts       Options
	exec       *catalog.Executor
	toolsMu    sync.Mutex
	tools      map[string]*sdk.Tool // by name and the modules they offer, shared by every server; never mutated
	clock      clock.Clock
	logger     *slog.Logger
	publicHost string
	origins    map[string]bool
	keepAlive  time.Duration
	routes     *http.ServeMux
	// streamable answers POSTs with JSON; streamableSSE with an event
	// stream, for clients that accept only text/event-stream.
	streamable    *sdk.StreamableHTTPHandler
	streamableSSE *sdk.StreamableHTTPHandler
	streams       *sseStreams
	sessions      *sseSessions
	writeTimeout  time.Duration // of each write to a legacy SSE stream

	mu      sync.Mutex
	servers map[string]*cachedServer // by MCP server id
	builds  int                      // since the last prune

	closing   chan struct{} // closed by CloseStreams
	closeOnce sync.Once
}

// cachedServer is the go-sdk server built for one version of one MCP URL,
// with the SSE handler whose sessions belong to that URL alone.
type cachedServer struct {
	version int64
	server  *sdk.Server
	sse     *sdk.SSEHandler
	res     *tokens.Resolved // stale once this version of the URL is
}

// pruneEvery is how many server builds pass between sweeps of stale
// entries (deleted, expired or changed URLs) out of the server cache.
const pruneEvery = 256

// NewHandler builds the MCP endpoints.
func NewHandler(opts Options) (*Handler, error) {
	if opts.Resolver == nil || opts.Catalog == nil || opts.Executor == nil {
		return nil, errors.New("mcp: Resolver, Catalog and Executor are required")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{
		opts:      opts,
		exec:      opts.Executor,
		tools:     map[string]*sdk.Tool{},
		clock:     clock.OrSystem(opts.Clock),
		logger:    logger,
		origins:   map[string]bool{},
		keepAlive: opts.KeepAlive,
		servers:   map[string]*cachedServer{},
		closing:   make(chan struct{}),
	}
	if h.keepAlive <= 0 {
		h.keepAlive = DefaultKeepAlive
	}
	h.streams = newSSEStreams(opts.MaxSSEStreams, opts.MaxSSEStreamsPerURL)
	h.sessions = newSSESessions(opts.MaxSSEAnswersInFlight)
	h.writeTimeout = opts.SSEWriteTimeout
	if h.writeTimeout <= 0 {
		h.writeTimeout = DefaultSSEWriteTimeout
	}
	if opts.PublicURL != "" {
		u, err := url.Parse(opts.PublicURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("mcp: public URL %q is not an absolute URL", opts.PublicURL)
		}
		h.publicHost = strings.ToLower(u.Host)
		h.origins[strings.ToLower(u.Scheme+"://"+u.Host)] = true
	}
	for _, o := range opts.AllowedOrigins {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			h.origins[strings.ToLower(o)] = true
		}
	}
	for _, jsonResponse := range []bool{true, false} {
		sh := sdk.NewStreamableHTTPHandler(h.serverFromContext, &sdk.StreamableHTTPOptions{
			Stateless:                  true,
			JSONResponse:               jsonResponse,
			DisableLocalhostProtection: true, // checkHost does it, allowing the public host
			MaxRequestBodyBytes:        httpx.MaxBodyBytes,
			Logger:                     logger,
		})
		if jsonResponse {
			h.streamable = sh
		} else {
			h.streamableSSE = sh
		}
	}
	h.routes = http.NewServeMux()
	h.routes.Handle("/mcp/{token}", h.admission("POST, OPTIONS", http.HandlerFunc(h.serveStreamable)))
	h.routes.Handle("/mcp/{token}/sse", h.admission("GET, POST, OPTIONS", http.HandlerFunc(h.serveSSE)))
	return h, nil
}

// Mount returns a handler that serves every path under /mcp/ (and /mcp
// itself) and passes every other request to next. The MCP paths are taken
// before next sees them so that a path no route matches, or an unclean one
// such as /mcp//<token>, gets the same JSON-RPC 404 as an unknown token
// rather than ServeMux's plain-text 404 or its redirect.
func (h *Handler) Mount(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p != "/mcp" && !strings.HasPrefix(p, "/mcp/") {
			next.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// ServeHTTP serves the MCP endpoints; any other path gets the JSON-RPC 404
// of an unknown URL.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	escaped := r.URL.EscapedPath()
	if _, pattern := h.routes.Handler(r); pattern == "" || path.Clean(escaped) != escaped {
		// Like an unknown token, refused without reading the body: the
		// same answer for every URL that is not a live MCP URL.
		h.notFound(w, nil)
		return
	}
	h.routes.ServeHTTP(w, r)
}

// notFound is the one answer for every URL that is not a live MCP URL, so
// that it tells nothing about which tokens exist.
func (h *Handler) notFound(w http.ResponseWriter, id json.RawMessage) {
	writeRPCError(w, id, tokens.CodeNotFound, "no MCP server at this URL (unknown, deleted or expired)")
}

// serveStreamable serves an admitted request to the URL itself:
// stateless streamable HTTP, POST only.
func (h *Handler) serveStreamable(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		writeRPCError(w, nil, tokens.CodeMethodNotAllowed,
			"this endpoint is stateless streamable HTTP: send JSON-RPC messages with POST (GET and DELETE are not used)")
		return
	}
	// Some clients send only one side of the Accept the go-sdk requires
	// (both application/json and text/event-stream): serve JSON to those
	// that accept JSON (or say nothing), an event stream to those that
	// accept only that.
	id := requestID(bodyFrom(r.Context()))
	target := h.streamable
	jsonOK, streamOK := accepts(r.Header.Values("Accept"))
	switch {
	case jsonOK || len(r.Header.Values("Accept")) == 0:
	case streamOK:
		target = h.streamableSSE
		w.Header().Set("X-Accel-Buffering", "no")
	default:
		writeRPCErrorStatus(w, id, http.StatusNotAcceptable, tokens.CodeInvalidArgument,
			"Accept must include application/json or text/event-stream")
		return
	}
	r = r.WithContext(r.Context()) // a shallow copy, given its own headers
	r.Header = r.Header.Clone()
	r.Header.Set("Accept", "application/json, text/event-stream")
	ew := &rpcErrorWriter{ResponseWriter: w, id: id}
	target.ServeHTTP(ew, r)
	ew.finish()
}

// accepts reports whether the Accept values admit JSON and an event
// stream, with wildcards, ignoring parameters and quality values.
func accepts(values []string) (jsonOK, streamOK bool) {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, _, _ := strings.Cut(part, ";")
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case "application/json", "application/*":
				jsonOK = true
			case "text/event-stream", "text/*":
				streamOK = true
			case "*/*":
				jsonOK, streamOK = true, true
			}
		}
	}
	return jsonOK, streamOK
}

// serveSSE serves an admitted request to the URL's legacy SSE endpoint:
// GET opens the event stream of a session, POST sends it a message.
func (h *Handler) serveSSE(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	res := resolvedFrom(ctx)
	switch r.Method {
	case http.MethodPost:
		// A message to a session, from the caller that opened it: it
		// holds a place among the session's answers until its answer is
		// written on the stream.
		if !h.checkSessionCaller(w, r, res) {
			return
		}
		done, ok := h.reserveAnswer(w, r, res)
		if !ok {
			return
		}
		ew := &rpcErrorWriter{ResponseWriter: w, id: requestID(bodyFrom(ctx))}
		h.server(res).sse.ServeHTTP(ew, r)
		ew.finish()
		done(ew.statusCode())
		return
	case http.MethodGet:
	default:
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		writeRPCError(w, nil, tokens.CodeMethodNotAllowed, "use GET to open the event stream and POST to send messages")
		return
	}
	release, ok := h.openStream(w, r, res)
	if !ok {
		return
	}
	defer release()
	// The stream ends when the URL is changed, deleted or expires: the
	// client reconnects and sees the new state.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if exp := res.Server.ExpiresAt; exp != nil {
		t := h.clock.AfterFunc(exp.Sub(h.clock.Now()), cancel)
		defer t.Stop()
	}
	if who := tokens.CallerFrom(ctx); who != nil && who.Grant != nil { // the stream lives no longer than its access token
		t := h.clock.AfterFunc(who.Grant.AccessExpiresAt.Sub(h.clock.Now()), cancel)
		defer t.Stop()
	}
	go func() {
		select {
		case <-res.Done():
		case <-h.closing:
		case <-ctx.Done():
		}
		cancel()
	}()
	// Proxies must pass events on at once, and see traffic often enough
	// not to cut an idle stream. The keep-alive timer is scheduled after
	// the expiry timer. A client that stops reading holds a write past
	// the write timeout: the stream ends, and its session with what it
	// held.
	w.Header().Set("X-Accel-Buffering", "no")
	dw := &deadlineWriter{ResponseWriter: w, clock: h.clock, timeout: h.writeTimeout, stalled: func() {
		httpx.Annotate(ctx, "sse_ended", "write_timeout")
		cancel()
	}}
	ka := newKeepAliveWriter(dw, h.clock, h.keepAlive)
	defer ka.stop()
	sw := &sessionWriter{ResponseWriter: ka, sessions: h.sessions, serverID: res.Server.ID, owner: sessionOwner(tokens.CallerFrom(ctx))}
	defer sw.close()
	ew := &rpcErrorWriter{ResponseWriter: sw}
	h.server(res).sse.ServeHTTP(ew, r.WithContext(ctx))
	ew.finish()
}

// CloseStreams ends every open SSE stream, for a graceful shutdown
// (http.Server.RegisterOnShutdown): Shutdown does not wait for hijacked or
// long-lived streams on its own.
func (h *Handler) CloseStreams() {
	h.closeOnce.Do(func() { close(h.closing) })
}

// serverFromContext returns the go-sdk server of the URL the request was
// admitted for.
func (h *Handler) serverFromContext(r *http.Request) *sdk.Server {
	res := resolvedFrom(r.Context())
	if res == nil {
		return nil
	}
	return h.server(res).server
}

// server returns the go-sdk server for this version of the URL, building
// it on first use (outside the lock: concurrent first requests may both
// build, and one result is kept). Servers are shared by concurrent
// requests; the tool definitions and their encoded schemas are shared by
// every server.
func (h *Handler) server(res *tokens.Resolved) *cachedServer {
	h.mu.Lock()
	cs := h.servers[res.Server.ID]
	h.mu.Unlock()
	if cs != nil && cs.version == res.Version {
		return cs
	}
	srv := h.build(res)
	h.mu.Lock()
	defer h.mu.Unlock()
	cs = h.servers[res.Server.ID]
	if cs != nil && cs.version == res.Version {
		return cs // built meanwhile by another request
	}
	h.builds++
	if h.builds >= pruneEvery {
		h.builds = 0
		h.pruneLocked()
	}
	next := &cachedServer{version: res.Version, server: srv, res: res}
	if cs != nil {
		next.sse = cs.sse // open streams of the old version end through res.Done
	} else {
		next.sse = sdk.NewSSEHandler(func(r *http.Request) *sdk.Server { return h.serverFromContext(r) },
			&sdk.SSEOptions{DisableLocalhostProtection: true, MaxRequestBodyBytes: httpx.MaxBodyBytes})
	}
	h.servers[res.Server.ID] = next
	return next
}

// pruneLocked drops cache entries whose URL version is stale: the URL was
// deleted, expired or changed (a changed one is rebuilt on its next
// request). Their SSE streams have already been closed through Done.
func (h *Handler) pruneLocked() {
	for id, cs := range h.servers {
		if cs.res.Stale() {
			delete(h.servers, id)
		}
	}
}

func (h *Handler) build(res *tokens.Resolved) *sdk.Server {
	srv := sdk.NewServer(&sdk.Implementation{Name: "bigin-mcp", Title: "Zoho Bigin", Version: h.opts.Version}, &sdk.ServerOptions{
		Instructions: h.instructions(res),
		Capabilities: &sdk.ServerCapabilities{Tools: &sdk.ToolCapabilities{}},
		// Every list this server gives depends on the URL's policy, so no
		// shared intermediary may cache it ("public", the default, would
		// let one).
		SetCacheable: func(_ context.Context, _ sdk.Request, c *sdk.Cacheable) { c.CacheScope = "private" },
	})
	srv.AddReceivingMiddleware(h.middleware)
	srv.AddReceivingMiddleware(writeOnce(h.opts.StructuredOnly))
	for _, name := range res.Tools {
		if e, ok := h.opts.Catalog.Lookup(name); ok {
			srv.AddTool(h.sdkTool(e, res.Server.Config), h.toolHandler(e, res))
		}
	}
	return srv
}

func (h *Handler) instructions(res *tokens.Resolved) string {
	org := res.Account.OrgName
	if org == "" {
		org = res.Account.Name
	}
	var b strings.Builder
	fmt.Fprintf(&b, "This server works on one Zoho Bigin organization: %q (org id %s, datacenter %s). ", org, res.Account.OrgID, res.Account.Datacenter)
	readOnly, records := true, false
	for _, t := range res.Tools {
		if e, ok := h.opts.Catalog.Lookup(t); ok {
			readOnly = readOnly && e.Annotations().ReadOnly
			records = records || len(e.Modules) > 0
		}
	}
	if readOnly {
		b.WriteString("This URL is read-only: its tools only read, and nothing can be changed through it. ")
	} else {
		b.WriteString("This URL can change data: confirm a create, update or delete with the person you act for first; deleting is permanent. ")
	}
	if records {
		b.WriteString("Record modules go by Zoho's API names (Accounts are the app's Companies, Pipelines its Deals)")
		if slices.Contains(res.Tools, "describe_zohobigin_module") { // a URL of ChatGPT's search and fetch alone has not
			b.WriteString("; describe_zohobigin_module lists a module's fields")
		}
		b.WriteString(". ")
		if m := res.Server.Config.Modules; len(m) > 0 {
			fmt.Fprintf(&b, "Record tools act only on these modules: %s. ", strings.Join(m, ", "))
		}
	}
	fmt.Fprintf(&b, "Tools: %s. ", strings.Join(res.Tools, ", "))
	b.WriteString("List tools page with next_cursor. Failures come back as tool results with isError and a structured error (status, code, message, rate limits) that says what to do.")
	return b.String()
}
