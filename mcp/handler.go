package mcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bigin-mcp/bigin-mcp/internal/catalog"
	"github.com/bigin-mcp/bigin-mcp/internal/clock"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Resolver is what the MCP endpoints need of the policy.
type Resolver interface {
	Resolve(ctx context.Context, token string) (*tokens.Resolved, error)
	AuthenticateAPIToken(ctx context.Context, token string) (*tokens.APIToken, error)
}

// Options configures NewHandler.
type Options struct {
	Resolver Resolver
	Catalog  *catalog.Catalog
	Executor *catalog.Executor
	// PublicURL is the server's public base URL; its origin is always
	// allowed and its host accepted on loopback.
	PublicURL string
	// AllowedOrigins are the other browser Origins accepted.
	AllowedOrigins []string
	// Version is the build version reported in initialize.
	Version string
	Clock   clock.Clock // nil: the system clock
	Logger  *slog.Logger
}

// Handler serves the MCP endpoints.
type Handler struct {
	opts       Options
	exec       *catalog.Executor
	tools      map[string]*sdk.Tool // by name, shared by every server; never mutated
	clock      clock.Clock
	logger     *slog.Logger
	publicHost string
	origins    map[string]bool
	streamable *sdk.StreamableHTTPHandler

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

type ctxKey struct{}

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
		opts:    opts,
		exec:    opts.Executor,
		tools:   map[string]*sdk.Tool{},
		clock:   clock.OrSystem(opts.Clock),
		logger:  logger,
		origins: map[string]bool{},
		servers: map[string]*cachedServer{},
		closing: make(chan struct{}),
	}
	for _, e := range opts.Catalog.Entries() {
		h.tools[e.Name] = sdkTool(e)
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
	h.streamable = sdk.NewStreamableHTTPHandler(h.serverFromContext, &sdk.StreamableHTTPOptions{
		Stateless:                  true,
		JSONResponse:               true,
		DisableLocalhostProtection: true, // checkHost does it, allowing the public host
		MaxRequestBodyBytes:        httpx.MaxBodyBytes,
		Logger:                     logger,
	})
	return h, nil
}

// Register mounts the MCP endpoints on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("/mcp/{token}", h.serveStreamable)
	mux.HandleFunc("/mcp/{token}/sse", h.serveSSE)
}

func (h *Handler) serveStreamable(w http.ResponseWriter, r *http.Request) {
	res, ok := h.admit(w, r)
	if !ok {
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		httpx.WriteErrorStatus(w, http.StatusMethodNotAllowed, tokens.CodeInvalidArgument,
			"this endpoint is stateless streamable HTTP: send JSON-RPC messages with POST (GET and DELETE are not used)")
		return
	}
	h.streamable.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, res)))
}

func (h *Handler) serveSSE(w http.ResponseWriter, r *http.Request) {
	res, ok := h.admit(w, r)
	if !ok {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		httpx.WriteErrorStatus(w, http.StatusMethodNotAllowed, tokens.CodeInvalidArgument, "use GET to open the event stream and POST to send messages")
		return
	}
	cs := h.server(res)
	ctx := context.WithValue(r.Context(), ctxKey{}, res)
	if r.Method == http.MethodGet {
		// The stream ends when the URL is changed, deleted or expires:
		// the client reconnects and sees the new state.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		if exp := res.Server.ExpiresAt; exp != nil {
			t := h.clock.AfterFunc(exp.Sub(h.clock.Now()), cancel)
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
	}
	cs.sse.ServeHTTP(w, r.WithContext(ctx))
}

// CloseStreams ends every open SSE stream, for a graceful shutdown
// (http.Server.RegisterOnShutdown): Shutdown does not wait for hijacked or
// long-lived streams on its own.
func (h *Handler) CloseStreams() {
	h.closeOnce.Do(func() { close(h.closing) })
}

// admit runs the checks every MCP request passes before the SDK sees it:
// Host and Origin (DNS rebinding), CORS preflight, the token, the API token
// when the URL requires one, and the body limit. It writes the error
// response itself and reports whether to go on.
func (h *Handler) admit(w http.ResponseWriter, r *http.Request) (*tokens.Resolved, bool) {
	if !h.hostAllowed(r) {
		httpx.WriteErrorStatus(w, http.StatusForbidden, tokens.CodePermissionDenied, "the Host header is not this server's")
		return nil, false
	}
	origin := r.Header.Get("Origin")
	if origin != "" {
		if !h.origins[strings.ToLower(strings.TrimRight(origin, "/"))] {
			httpx.WriteErrorStatus(w, http.StatusForbidden, tokens.CodePermissionDenied,
				"this Origin is not allowed; add it to BIGIN_MCP_ALLOWED_ORIGINS")
			return nil, false
		}
		hdr := w.Header()
		hdr.Set("Access-Control-Allow-Origin", origin)
		hdr.Add("Vary", "Origin")
		hdr.Set("Access-Control-Expose-Headers", "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate")
	}
	if r.Method == http.MethodOptions {
		hdr := w.Header()
		hdr.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
		hdr.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID")
		hdr.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return nil, false
	}
	res, err := h.opts.Resolver.Resolve(r.Context(), r.PathValue("token"))
	if errors.Is(err, tokens.ErrUnavailable) {
		httpx.WriteError(w, tokens.CodeUnavailable, "this replica cannot confirm its view of the store is current; try again shortly")
		return nil, false
	}
	if err != nil {
		if !errors.Is(err, tokens.ErrNotFound) {
			h.logger.Error("resolve MCP token", "err", err)
		}
		httpx.WriteErrorStatus(w, http.StatusNotFound, tokens.CodeNotFound, "no MCP server at this URL (unknown, deleted or expired)")
		return nil, false
	}
	httpx.Annotate(r.Context(), "mcp_server_id", res.Server.ID)
	httpx.Annotate(r.Context(), "mcp_token", "bmcp_…")
	if res.Server.Config.RequireAPITokenAuth {
		bearer, ok := httpx.BearerToken(r)
		if ok {
			_, err = h.opts.Resolver.AuthenticateAPIToken(r.Context(), bearer)
		}
		if !ok || err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="bigin-mcp"`)
			httpx.WriteErrorStatus(w, http.StatusUnauthorized, tokens.CodeUnauthenticated,
				"this MCP URL requires Authorization: Bearer <api token>")
			return nil, false
		}
	}
	if r.Method == http.MethodPost {
		if ct := r.Header.Get("Content-Type"); ct != "" {
			if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
				httpx.WriteErrorStatus(w, http.StatusUnsupportedMediaType, tokens.CodeUnsupportedMediaType, "Content-Type must be application/json")
				return nil, false
			}
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				httpx.WriteErrorStatus(w, http.StatusRequestEntityTooLarge, tokens.CodeTooLarge, "request body is over 1 MiB")
			} else {
				httpx.WriteErrorStatus(w, http.StatusBadRequest, tokens.CodeInvalidArgument, "could not read the request body")
			}
			return nil, false
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return res, true
}

// hostAllowed is the DNS-rebinding check: on a loopback
// listener, the Host must be loopback or the public URL's host.
func (h *Handler) hostAllowed(r *http.Request) bool {
	la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok || la == nil || !isLoopback(la.String()) {
		return true
	}
	if isLoopback(r.Host) {
		return true
	}
	return h.publicHost != "" && strings.EqualFold(r.Host, h.publicHost)
}

func isLoopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (h *Handler) serverFromContext(r *http.Request) *sdk.Server {
	res, _ := r.Context().Value(ctxKey{}).(*tokens.Resolved)
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
	})
	for _, name := range res.Tools {
		if e, ok := h.opts.Catalog.Lookup(name); ok {
			srv.AddTool(h.tools[name], h.toolHandler(e, res))
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
	fmt.Fprintf(&b, "This server administers one Zoho Bigin organization: %q (org id %s, datacenter %s). ", org, res.Account.OrgID, res.Account.Datacenter)
	readOnly := true
	for _, t := range res.Tools {
		if e, ok := h.opts.Catalog.Lookup(t); ok && !e.Annotations().ReadOnly {
			readOnly = false
		}
	}
	if readOnly {
		b.WriteString("This URL is read-only: it can list and read users, the organization, roles and profiles, and cannot change anything. ")
	} else {
		b.WriteString("This URL can delete users: deleting is permanent, so confirm the user with the person you act for first. ")
	}
	fmt.Fprintf(&b, "Tools: %s. ", strings.Join(res.Tools, ", "))
	b.WriteString("List tools page with next_cursor. Failures come back as tool results with isError and a structured error (status, code, message, rate limits) that says what to do.")
	return b.String()
}
