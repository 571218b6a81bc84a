// Package app is the one wiring of bigin-mcp: from a Store and a Config it
// builds the policy, the Zoho clients, the tool catalog and its executor,
// and every HTTP surface (MCP, admin API, REST face, connect pages,
// health), behind the request log. `serve`, `demo`, the load tool and the
// tests all run this same stack.
package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/admin"
	"github.com/bigin-mcp/bigin-mcp/internal/catalog"
	"github.com/bigin-mcp/bigin-mcp/internal/clock"
	"github.com/bigin-mcp/bigin-mcp/internal/connect"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/internal/oauth"
	"github.com/bigin-mcp/bigin-mcp/internal/rest"
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
	// allow loopback and trust their own CA; production keeps the zero
	// value).
	CIMD oauth.CIMDOptions
	// MaxResultChars is the server's result budget: the most characters
	// of result text a list tool puts in one page (0 means
	// catalog.DefaultMaxResultChars). A URL's config may set its own.
	MaxResultChars int
	// StructuredOnly leaves the text block out of successful tool results
	// for MCP clients on protocol 2026-07-28 or later (mcp.Options).
	StructuredOnly bool
	Clock          clock.Clock // nil: the system clock
	Logger         *slog.Logger
}

// App is the assembled stack.
type App struct {
	Service  *tokens.Service
	OAuth    *tokens.OAuth
	Catalog  *catalog.Catalog
	Executor *catalog.Executor
	Clients  *zoho.Clients
	MCP      *mcp.Handler

	store   tokens.Store
	handler http.Handler
	logger  *slog.Logger
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
		Clock:            clk,
		Logger:           logger,
	})
	if err != nil {
		return nil, err
	}
	clients := zoho.NewClients(zoho.ClientsOptions{
		Store: store, Datacenters: cfg.Datacenters,
		ZohoClientID: cfg.ZohoClientID, ZohoClientSecret: cfg.ZohoClientSecret,
		HTTPClient: cfg.HTTPClient, Timeout: cfg.BiginTimeout, Clock: clk, Logger: logger,
	})
	exec, err := catalog.NewExecutor(catalog.ExecutorOptions{
		Catalog: cat, Clients: clients, Reauth: svc, Audit: store,
		CursorKey:      DeriveKey(cfg.SecretKey, "bigin-mcp cursor key v1"),
		MaxResultChars: cfg.MaxResultChars,
		Clock:          clk, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	front, err := tokens.NewOAuth(tokens.OAuthOptions{Service: svc, Members: zoho.Members{Clients: clients}, Clock: clk, Logger: logger})
	if err != nil {
		return nil, err
	}
	oauthHandler, err := oauth.New(oauth.Options{
		OAuth: front, Zoho: z, Datacenters: cfg.Datacenters, PublicURL: cfg.PublicURL,
		ZohoClientID: cfg.ZohoClientID, ZohoClientSecret: cfg.ZohoClientSecret,
		CallbackPath: connect.CallbackPath,
		Key:          DeriveKey(cfg.SecretKey, "bigin-mcp oauth front door v1"),
		CIMD:         cfg.CIMD,
		Clock:        clk, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	mcpHandler, err := mcp.NewHandler(mcp.Options{
		Resolver:       svc,
		OAuth:          front,
		Catalog:        cat,
		Executor:       exec,
		PublicURL:      cfg.PublicURL,
		AllowedOrigins: cfg.AllowedOrigins,
		Version:        cfg.Version,
		StructuredOnly: cfg.StructuredOnly,
		Clock:          clk,
		Logger:         logger,
	})
	if err != nil {
		return nil, err
	}
	a := &App{Service: svc, OAuth: front, Catalog: cat, Executor: exec, Clients: clients, MCP: mcpHandler, store: store, logger: logger}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, http.StatusOK, `{"status":"ok"}`)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := store.Ping(); err != nil {
			writeBody(w, http.StatusServiceUnavailable, `{"status":"unavailable","reason":"store is not open"}`)
			return
		}
		writeBody(w, http.StatusOK, `{"status":"ready"}`)
	})
	adminAPI := admin.New(svc, logger).WithOAuth(front)
	adminAPI.Register(mux)
	oauthHandler.Register(mux)
	restAPI, err := rest.New(rest.Options{
		Service: svc, Catalog: cat, Executor: exec, RequireScope: adminAPI.RequireScope,
		PublicURL: cfg.PublicURL, Clock: clk, Logger: logger,
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
	a.handler = httpx.LogRequests(logger, mcpHandler.Mount(mux))
	return a, nil
}

// Handler is every surface behind the request log.
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

// RunSweeper deletes expired MCP URLs every interval until ctx ends.
func (a *App) RunSweeper(ctx context.Context, interval time.Duration) {
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
