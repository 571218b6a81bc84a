package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/bigin-mcp/bigin-mcp/mcp"
	"github.com/bigin-mcp/bigin-mcp/store"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// serve runs the server until ctx ends, then shuts down gracefully:
// in-flight requests finish, open SSE streams close, the store closes.
// ready, when not nil, is called with the listening address and the bootstrap
// admin token when one was generated.
func serve(ctx context.Context, cfg *config, stderr io.Writer, ready func(addr, adminToken string)) error {
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if err := checkDataDir(cfg.DataDir); err != nil {
		return err
	}
	key, err := store.LoadOrCreateKey(cfg.DataDir, cfg.SecretKey)
	if err != nil {
		return fmt.Errorf("BIGIN_MCP_SECRET_KEY: %w", err)
	}
	db, err := store.Open(filepath.Join(cfg.DataDir, "bigin-mcp.db"), store.Options{Key: key})
	if err != nil {
		if errors.Is(err, store.ErrWrongKey) {
			return fmt.Errorf("BIGIN_MCP_SECRET_KEY: %w", err)
		}
		return fmt.Errorf("open store: %w", err)
	}
	defer db.Close()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("BIGIN_MCP_ADDR: %w", err)
	}
	defer ln.Close()
	if cfg.publicFromAddr {
		cfg.PublicURL = "http://" + ln.Addr().String()
	}

	svc, err := tokens.NewService(ctx, db, tokens.ServiceOptions{
		PublicURL:        cfg.PublicURL,
		Datacenters:      cfg.Datacenters,
		ZohoClientID:     cfg.ZohoClientID,
		ZohoClientSecret: cfg.ZohoClientSecret,
		Logger:           logger,
		StateKey:         deriveKey(key, "bigin-mcp oauth state v1"),
	})
	if err != nil {
		return fmt.Errorf("load tokens: %w", err)
	}
	// Loading a large index decodes every stored URL once and maps every
	// page of the database into this process; hand both back to the OS
	// now rather than carry them as RSS (Resolve reads only memory).
	if err := db.ReleaseMemory(); err != nil {
		logger.Warn("could not release the database pages read at start-up", "err", err)
	}
	debug.FreeOSMemory()
	adminToken, err := svc.Bootstrap(ctx, cfg.AdminToken)
	if err != nil {
		return fmt.Errorf("BIGIN_MCP_ADMIN_TOKEN: %w", err)
	}
	if adminToken != "" && !cfg.quietBootstrap {
		fmt.Fprintf(stderr, "\nNo API token existed, so one was created. It is shown only this once; keep it:\n\n    %s\n\n", adminToken)
	}
	mcpHandler, err := mcp.NewHandler(mcp.Options{
		Resolver:         svc,
		Store:            db,
		Datacenters:      cfg.Datacenters,
		ZohoClientID:     cfg.ZohoClientID,
		ZohoClientSecret: cfg.ZohoClientSecret,
		PublicURL:        cfg.PublicURL,
		AllowedOrigins:   cfg.AllowedOrigins,
		CursorKey:        deriveKey(key, "bigin-mcp cursor key v1"),
		Version:          version,
		Logger:           logger,
	})
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"status":"ok"}`)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := db.Ping(); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, `{"status":"unavailable","reason":"store is not open"}`)
			return
		}
		writeJSON(w, http.StatusOK, `{"status":"ready"}`)
	})
	svc.Register(mux)
	mcpHandler.Register(mux)

	srv := &http.Server{
		Handler:           tokens.LogRequests(logger, mux),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(mcpHandler.CloseStreams)

	sweepCtx, stopSweep := context.WithCancel(context.Background())
	defer stopSweep()
	go svc.RunSweeper(sweepCtx, 30*time.Second)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL, "version", version)
	if ready != nil {
		ready(ln.Addr().String(), adminToken)
	}

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		logger.Warn("shutdown did not finish in time", "err", err)
	}
	mcpHandler.FlushAudit()
	stopSweep()
	return nil
}

// deriveKey derives a purpose-specific key from the master key, so the
// secret key itself is used only for sealing.
func deriveKey(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body+"\n")
}
