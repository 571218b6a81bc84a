// Package app is the one wiring of bigin-mcp: from a Store and a Config it
// builds the policy, the Zoho clients, the tool catalog and its executor,
// and every HTTP surface (MCP, admin API, REST face, connect pages, the
// web UI, health), behind the request log. `serve`, `demo`, the load tool
// and the tests all run this same stack.
package app

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/admin"
	"github.com/bigin-mcp/bigin-mcp/internal/catalog"
	"github.com/bigin-mcp/bigin-mcp/internal/clock"
	"github.com/bigin-mcp/bigin-mcp/internal/connect"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/internal/metrics"
	"github.com/bigin-mcp/bigin-mcp/internal/oauth"
	"github.com/bigin-mcp/bigin-mcp/internal/ratelimit"
	"github.com/bigin-mcp/bigin-mcp/internal/rest"
	"github.com/bigin-mcp/bigin-mcp/internal/route"
	"github.com/bigin-mcp/bigin-mcp/internal/ui"
	"github.com/bigin-mcp/bigin-mcp/internal/zoho"
	"github.com/bigin-mcp/bigin-mcp/mcp"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Config is what the stack needs beyond its Store.
type Config struct {
	// PublicURL is the base of minted URLs and of the OAuth redirect URI.
	PublicURL   string
	Datacenters bigin.Datacenters
	// ZohoClientID and ZohoClientSecret are the server's Zoho OAuth
	// client: for connect links and accounts created without their own.
	ZohoClientID     string
	ZohoClientSecret string
	// AllowedOrigins are browser Origins accepted on MCP endpoints besides
	// the public URL's.
	AllowedOrigins []string
	// SecretKey is the master key (32 bytes); the keys that sign cursors
	// and OAuth states are derived from it, so both survive a restart.
	SecretKey []byte
	// Version is the build version reported to MCP clients.
	Version string
	// HTTPClient calls Zoho; nil means one client over bigin.NewTransport,
	// shared by every account.
	HTTPClient *http.Client
	// BiginTimeout bounds each Bigin call; 0 means the client's default.
	BiginTimeout time.Duration
	// CIMD configures fetching OAuth Client ID Metadata Documents (tests
	// allow loopback and trust their own CA; serve sets only
	// AllowLoopback, from BIGIN_MCP_CIMD_ALLOW_LOOPBACK; production keeps
	// the zero value).
	CIMD oauth.CIMDOptions
	// MaxResultChars is the server's result budget: the most characters
	// of result text a list tool puts in one page (0 means
	// catalog.DefaultMaxResultChars). A URL's config may set its own.
	MaxResultChars int
	// RecordURL is the template of a record's page in Bigin's web app,
	// the url of ChatGPT's search and fetch results (the zero value is
	// catalog.DefaultRecordURL).
	RecordURL catalog.RecordURL
	// AuditRetention is how long audit entries are kept: 0 means
	// tokens.DefaultAuditRetention (90 days), negative means forever.
	AuditRetention time.Duration
	// Metrics turns on the Prometheus collectors (App.Metrics); they are
	// served by whoever serves App.Metrics.Handler, on a listener of
	// its own.
	Metrics bool
	// StructuredOnly (an opt-in) leaves the text block out of successful
	// tool results for MCP clients on protocol 2026-07-28 or later
	// (mcp.Options).
	StructuredOnly bool
	Clock          clock.Clock // nil: the system clock
	Logger         *slog.Logger
	// MaxStaleness, over a shared store (etcd), is how long a replica may
	// go without confirming its URL index is current before it fails
	// closed: 503 on every route but /healthz and the UI's static files,
	// /readyz not ready. 0 means 10 s.
	MaxStaleness time.Duration
	// StoreTimeout bounds each store call made for a request: one still
	// running then fails, and the request gets 503 unavailable with
	// Retry-After instead of waiting out a store outage. 0 means half of
	// MaxStaleness (5 s by default): below the staleness bound, so a
	// request admitted in an outage's first moments ends before the
	// replica fails closed.
	StoreTimeout time.Duration
	// Limits bounds what one client can hold open.
	Limits Limits
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client of a request, for the per-address limits and the
	// request log; nil trusts none, and the client is the connection's
	// remote address.
	TrustedProxies *httpx.TrustedProxies
}

// Limits are the server's own resource limits; the zero value of each
// field means its default.
type Limits struct {
	// BodyTimeout is how long a request body may take to arrive in full
	// (default httpx.DefaultBodyTimeout); a slower one is answered 408.
	BodyTimeout time.Duration
	// MaxSSEStreams and MaxSSEStreamsPerURL cap the open legacy SSE
	// streams, in total and per MCP URL (defaults
	// mcp.DefaultMaxSSEStreams and mcp.DefaultMaxSSEStreamsPerURL).
	MaxSSEStreams       int
	MaxSSEStreamsPerURL int
	// MaxSSEAnswersInFlight caps, per legacy SSE session, the accepted
	// requests whose answers its stream has not taken yet; SSEWriteTimeout
	// ends a stream whose client takes no write within it (defaults
	// mcp.DefaultMaxSSEAnswersInFlight and mcp.DefaultSSEWriteTimeout).
	MaxSSEAnswersInFlight int
	SSEWriteTimeout       time.Duration
	// CredentialFailures is each client address's budget of failed
	// credential checks (wrong UI sign-in tokens, wrong bearer tokens on
	// the admin API, the REST face, api_token and oauth MCP URLs),
	// shared by all of them (default DefaultCredentialFailures). Past
	// it, a request with a credential gets 429 with Retry-After.
	CredentialFailures ratelimit.Limit
	// NoCredentialFailureBudget turns that budget off, for deployments
	// that limit failed sign-ins at their edge: wrong tokens are then
	// refused one by one, never the address.
	NoCredentialFailureBudget bool
	// RegistrationsPerAddress is how many OAuth clients one client
	// address may register per oauth.RegistrationWindow (default
	// oauth.DefaultRegistrationsPerAddress). The per-address limit of
	// Client ID Metadata Document fetches is Config.CIMD's
	// FetchesPerAddress.
	RegistrationsPerAddress int
}

// DefaultCredentialFailures is Limits.CredentialFailures when it is
// zero: 20 failures, one back every 30 s.
var DefaultCredentialFailures = ratelimit.Limit{Requests: 20, Per: 10 * time.Minute}

// DefaultMaxStaleness is Config.MaxStaleness when it is zero.
const DefaultMaxStaleness = 10 * time.Second

// App is the assembled stack.
type App struct {
	Service  *tokens.Service
	OAuth    *tokens.OAuth
	Catalog  *catalog.Catalog
	Executor *catalog.Executor
	Clients  *zoho.Clients
	MCP      *mcp.Handler
	// Metrics are the Prometheus collectors, nil unless Config.Metrics.
	Metrics *metrics.Metrics

	store   tokens.Store
	handler http.Handler
	routes  *httpx.Routes
	logger  *slog.Logger

	stop    context.CancelFunc // ends the background work of a shared store
	stopped chan struct{}
}

// New builds the stack over store and loads the URL index from it.
func New(ctx context.Context, store tokens.Store, cfg Config) (*App, error) {
	if len(cfg.SecretKey) < 32 {
		return nil, errors.New("app: the secret key must be 32 bytes")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	clk := clock.OrSystem(cfg.Clock)
	cat, err := catalog.New()
	if err != nil {
		return nil, err
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: bigin.NewTransport()}
	}
	z := zoho.New(cfg.Datacenters, cfg.HTTPClient, clk)
	svc, err := tokens.NewService(ctx, store, tokens.ServiceOptions{
		PublicURL:        cfg.PublicURL,
		Tools:            cat.Inventory(),
		Zoho:             z,
		ZohoClientID:     cfg.ZohoClientID,
		ZohoClientSecret: cfg.ZohoClientSecret,
		AuditRetention:   cfg.AuditRetention,
		Clock:            clk,
		Logger:           logger,
		MaxStaleness:     cmp.Or(cfg.MaxStaleness, DefaultMaxStaleness),
	})
	if err != nil {
		return nil, err
	}
	// The collectors read the index and the SSE streams through methods
	// of parts built below, so the gauges look them up late.
	var a *App
	var met *metrics.Metrics
	var upstream bigin.Observer
	if cfg.Metrics {
		met = metrics.New(metrics.Gauges{
			MCPURLs:        svc.MCPServerCount,
			OpenSSEStreams: func() int { return a.MCP.OpenStreams() },
		})
		upstream = bigin.Observer{
			Request: func(r bigin.UpstreamRequest) {
				met.ObserveUpstream(r.Datacenter, r.Operation, r.Status, r.RateLimited, r.Duration)
			},
			Refresh: met.ObserveRefresh,
		}
	}
	// The request paths that reach the store other than through the
	// Service keep to the request's store deadline too.
	bounded := tokens.BoundStore(store)
	locker, _ := store.(zoho.RefreshLocker)
	clients := zoho.NewClients(zoho.ClientsOptions{
		Store: bounded, Locker: locker, Datacenters: cfg.Datacenters,
		ZohoClientID: cfg.ZohoClientID, ZohoClientSecret: cfg.ZohoClientSecret,
		HTTPClient: cfg.HTTPClient, Timeout: cfg.BiginTimeout, Observer: upstream, Clock: clk, Logger: logger,
	})
	exec, err := catalog.NewExecutor(catalog.ExecutorOptions{
		Catalog: cat, Clients: clients, Reauth: svc, Audit: bounded, Idempotency: bounded,
		CursorKey:      DeriveKey(cfg.SecretKey, "bigin-mcp cursor key v1"),
		MaxResultChars: cfg.MaxResultChars,
		RecordURL:      cfg.RecordURL,
		Clock:          clk, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	front, err := tokens.NewOAuth(tokens.OAuthOptions{
		Service: svc, Members: zoho.Members{Clients: clients},
		Key:   DeriveKey(cfg.SecretKey, "bigin-mcp oauth refresh pairs v1"),
		Clock: clk, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	oauthHandler, err := oauth.New(oauth.Options{
		OAuth: front, Zoho: z, Datacenters: cfg.Datacenters, PublicURL: cfg.PublicURL,
		ZohoClientID: cfg.ZohoClientID, ZohoClientSecret: cfg.ZohoClientSecret,
		CallbackPath:            connect.CallbackPath,
		Key:                     DeriveKey(cfg.SecretKey, "bigin-mcp oauth front door v1"),
		CIMD:                    cfg.CIMD,
		RegistrationsPerAddress: cfg.Limits.RegistrationsPerAddress,
		Clock:                   clk, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	failureLimit := cfg.Limits.CredentialFailures
	if !failureLimit.Valid() {
		failureLimit = DefaultCredentialFailures
	}
	var failures *ratelimit.FailureBudget // nil: no budget, each surface checks every token
	if !cfg.Limits.NoCredentialFailureBudget {
		failures = ratelimit.NewFailureBudget(clk, failureLimit)
	}
	var observeMCP func(mcp.Operation)
	if met != nil {
		observeMCP = func(op mcp.Operation) { met.ObserveMCP(op.Method, op.Tool, op.ErrorType, op.Duration) }
	}
	mcpHandler, err := mcp.NewHandler(mcp.Options{
		Resolver:       svc,
		OAuth:          front,
		Catalog:        cat,
		Executor:       exec,
		PublicURL:      cfg.PublicURL,
		AllowedOrigins: cfg.AllowedOrigins,
		Version:        cfg.Version,
		Observe:        observeMCP,
		StructuredOnly: cfg.StructuredOnly,
		Clock:          clk,
		Logger:         logger,
		Failures:       failures,

		MaxSSEStreams:       cfg.Limits.MaxSSEStreams,
		MaxSSEStreamsPerURL: cfg.Limits.MaxSSEStreamsPerURL,

		MaxSSEAnswersInFlight: cfg.Limits.MaxSSEAnswersInFlight,
		SSEWriteTimeout:       cfg.Limits.SSEWriteTimeout,
	})
	if err != nil {
		return nil, err
	}
	a = &App{Service: svc, OAuth: front, Catalog: cat, Executor: exec, Clients: clients, MCP: mcpHandler, Metrics: met, store: store, logger: logger,
		stop: func() {}, stopped: make(chan struct{})}
	if feed, ok := store.(tokens.ChangeFeed); ok {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		a.stop = cancel
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			_ = feed.Follow(fctx, svc)
		}()
		go func() {
			defer wg.Done()
			watchCurrency(fctx, svc, cmp.Or(cfg.MaxStaleness, DefaultMaxStaleness), logger)
		}()
		go func() {
			wg.Wait()
			close(a.stopped)
		}()
	} else {
		close(a.stopped)
	}

	mux := httpx.NewRoutes()
	health := healthRoutes(store, svc)
	health.Register(mux, nil, nil)
	adminAPI := admin.New(svc, logger).WithOAuth(front).WithFailureBudget(failures)
	adminAPI.Register(mux)
	oauthHandler.Register(mux)
	restAPI, err := rest.New(rest.Options{
		Service: svc, Catalog: cat, Executor: exec, RequireScope: adminAPI.RequireScope,
		PublicURL: cfg.PublicURL, Others: []route.Group{adminAPI.Routes(), health}, Clock: clk, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	restAPI.Register(mux)
	connect.New(connect.Options{
		Service: svc, Zoho: z, Datacenters: cfg.Datacenters, PublicURL: cfg.PublicURL,
		ZohoClientID: cfg.ZohoClientID, ZohoClientSecret: cfg.ZohoClientSecret,
		StateKey: DeriveKey(cfg.SecretKey, "bigin-mcp oauth state v1"),
		SignIn:   oauthHandler.HandleZohoCallback,
		Clock:    clk, Logger: logger,
	}).Register(mux)
	webUI, err := ui.New(ui.Options{
		Service: svc, Datacenters: cfg.Datacenters, PublicURL: cfg.PublicURL,
		Key:      DeriveKey(cfg.SecretKey, "bigin-mcp ui v1"),
		Failures: failures,
		Clock:    clk, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	webUI.Register(mux)
	// The MCP endpoints take every path under /mcp/ (and /mcp) before the
	// mux sees it; the table lists them too.
	for _, p := range []string{"/mcp", "/mcp/{token}", "/mcp/{token}/sse"} {
		mux.Note(p)
	}
	// A browser pointed at the server's address lands on the web UI.
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, ui.Path, http.StatusFound)
	})
	a.routes = mux
	inner := httpx.BodyDeadline(cfg.Limits.BodyTimeout, failClosed(svc, mux, mcpHandler.Mount(routed(mux.Mux()))))
	if met != nil {
		a.handler = httpx.LogRequests(logger, inner, func(d httpx.Done) {
			met.ObserveHTTP(d.Route, d.Method, d.Status, d.Duration)
		})
	} else {
		a.handler = httpx.LogRequests(logger, inner)
	}
	// The client address is worked out once, outside the request log
	// that writes it and the per-address limits that key on it.
	a.handler = cfg.TrustedProxies.Wrap(a.handler)
	a.handler = storeDeadline(cmp.Or(cfg.StoreTimeout, cmp.Or(cfg.MaxStaleness, DefaultMaxStaleness)/2), a.handler)
	return a, nil
}

// storeDeadline gives every request's store calls a deadline
// (tokens.WithStoreDeadline). It is outermost: the request log and the
// routers below record on the request they are given, so the context is
// set before any of them copies the request.
func storeDeadline(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(tokens.WithStoreDeadline(r.Context(), d)))
	})
}

// routed serves mux, answering a request that no route matches with the
// JSON error shape of every other answer (404, or 405 with Allow) instead
// of ServeMux's plain text. The surfaces mounted on a prefix (admin API,
// REST face, MCP, web UI) answer their own unknown paths.
func routed(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			httpx.NotRouted(mux, w, r, "endpoint")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// Paths of the health endpoints.
const (
	healthzPath = "/healthz"
	readyzPath  = "/readyz"
)

// failOpen reports whether a path is served even while the URL index
// cannot confirm it is current: the health endpoints, which say how the
// process is, and the web UI's static files, built into the binary. Every
// other route, present or future, is refused while the replica is stale.
func failOpen(path string) bool {
	return path == healthzPath || path == readyzPath || strings.HasPrefix(path, ui.StaticPath)
}

// failClosed answers 503 on every route but the failOpen exemptions while
// the URL index cannot confirm it is current (a replica cut off from its
// shared store), rather than serve grants, pages or answers from a view it
// may have lost. A refusal is logged and measured under the route of the
// table the request falls under, as it would be when served.
func failClosed(svc *tokens.Service, routes *httpx.Routes, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !failOpen(r.URL.Path) {
			if err := svc.Available(); err != nil {
				if route := routes.Match(r); route != "" {
					httpx.Annotate(r.Context(), "route", route)
				}
				w.Header().Set("Retry-After", "1")
				httpx.WriteError(w, tokens.CodeUnavailable, "this replica cannot confirm its view of the store is current; try again shortly")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// watchCurrency logs, once each time, when the replica turns stale (the
// index has not been confirmed current within maxStaleness, so every
// route but the exemptions answers 503) and when it is current again,
// until ctx ends. It checks a few times per maxStaleness, at most once a
// second.
func watchCurrency(ctx context.Context, svc *tokens.Service, maxStaleness time.Duration, logger *slog.Logger) {
	if maxStaleness <= 0 {
		return // never stale
	}
	every := min(max(maxStaleness/4, 5*time.Millisecond), time.Second)
	tick := time.NewTicker(every)
	defer tick.Stop()
	var staleSince time.Time // when it was last current, while stale
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		err := svc.Available()
		switch {
		case err != nil && staleSince.IsZero():
			staleSince = svc.CurrentAsOf()
			logger.WarnContext(ctx, "this replica cannot confirm that its view of the store is current, so it fails closed: "+
				"every route but "+healthzPath+", "+readyzPath+" and "+ui.StaticPath+" answers 503 until the store answers again",
				"current_as_of", staleSince.UTC().Format(time.RFC3339Nano), "max_staleness", maxStaleness.String())
		case err == nil && !staleSince.IsZero():
			logger.InfoContext(ctx, "this replica's view of the store is current again; it serves every route",
				"stale_for", svc.CurrentAsOf().Sub(staleSince).Round(time.Millisecond).String())
			staleSince = time.Time{}
		}
	}
}

// Routes returns the route table: every pattern the stack serves, in the
// order registered.
func (a *App) Routes() []string { return a.routes.Patterns() }

// Close stops the background work of a shared store (the index's watch);
// call it before the store closes.
func (a *App) Close() {
	a.stop()
	<-a.stopped
}

// Handler is every surface behind the request log and the body deadline.
func (a *App) Handler() http.Handler { return a.handler }

// NewServer returns the HTTP server for the stack, with the timeouts
// production uses; its Shutdown also ends open SSE streams.
func (a *App) NewServer() *http.Server {
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(a.MCP.CloseStreams)
	return srv
}

// RunSweeper deletes expired MCP URLs, and audit entries older than the
// retention, every interval until ctx ends. Over a shared store it runs on
// one replica at a time (an election); a sweep is idempotent if two ever
// overlap.
func (a *App) RunSweeper(ctx context.Context, interval time.Duration) {
	if e, ok := a.store.(tokens.Elector); ok {
		_ = e.Lead(ctx, "sweeper", func(lctx context.Context) { a.Service.RunSweeper(lctx, interval) })
		return
	}
	a.Service.RunSweeper(ctx, interval)
}

// Flush waits for the audit entries of finished tool calls; call it after
// the HTTP server has shut down and before the store closes.
func (a *App) Flush() { a.Executor.Flush() }

// DeriveKey derives a purpose-specific key from the master key, so the
// secret key itself is used only for sealing.
func DeriveKey(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

func writeBody(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body+"\n")
}
