package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/store"
	"github.com/bigin-mcp/bigin-mcp/store/etcdstore"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// serve runs the server until ctx ends, then shuts down gracefully:
// in-flight requests finish, open SSE streams close, the store closes.
// ready, when not nil, is called with the listening address and the bootstrap
// admin token when one was generated.
func serve(ctx context.Context, cfg *config, stderr io.Writer, ready func(addr, adminToken string)) error {
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	db, key, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
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

	stack, err := app.New(ctx, db, app.Config{
		PublicURL:        cfg.PublicURL,
		Datacenters:      cfg.Datacenters,
		ZohoClientID:     cfg.ZohoClientID,
		ZohoClientSecret: cfg.ZohoClientSecret,
		AllowedOrigins:   cfg.AllowedOrigins,
		SecretKey:        key,
		Version:          version,
		Logger:           logger,
		MaxStaleness:     cfg.MaxStaleness,
	})
	if err != nil {
		return fmt.Errorf("load tokens: %w", err)
	}
	defer stack.Close()
	// Loading a large index decodes every stored URL once; hand the
	// garbage back to the OS now rather than carry it as RSS (Resolve
	// reads only memory).
	debug.FreeOSMemory()
	adminToken, err := stack.Service.Bootstrap(ctx, cfg.AdminToken)
	if err != nil {
		return fmt.Errorf("BIGIN_MCP_ADMIN_TOKEN: %w", err)
	}
	if adminToken != "" && !cfg.quietBootstrap {
		fmt.Fprintf(stderr, "\nNo API token existed, so one was created. It is shown only this once; keep it:\n\n    %s\n\n", adminToken)
	}
	srv := stack.NewServer()

	sweepCtx, stopSweep := context.WithCancel(context.Background())
	defer stopSweep()
	go stack.RunSweeper(sweepCtx, 30*time.Second)

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
	stack.Flush()
	stopSweep()
	return nil
}

// openStore opens the configured store and returns it with the secret
// key. bbolt keeps the key in the data directory when none is given; etcd
// requires one (checked by parseConfig), the same on every replica.
func openStore(ctx context.Context, cfg *config, logger *slog.Logger) (tokens.Store, []byte, error) {
	if cfg.Store == "etcd" {
		key, err := store.LoadOrCreateKey("", cfg.SecretKey)
		if err != nil {
			return nil, nil, err
		}
		client, err := etcdstore.Dial(cfg.Etcd)
		if err != nil {
			return nil, nil, fmt.Errorf("BIGIN_MCP_ETCD_ENDPOINTS: %w", err)
		}
		octx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		db, err := etcdstore.Open(octx, etcdstore.Options{Client: client, Prefix: cfg.EtcdPrefix, Key: key, Logger: logger})
		if err != nil {
			_ = client.Close()
			if errors.Is(err, etcdstore.ErrWrongKey) {
				return nil, nil, fmt.Errorf("BIGIN_MCP_SECRET_KEY: %w", err)
			}
			return nil, nil, fmt.Errorf("open the etcd store: %w", err)
		}
		return db, key, nil
	}
	if err := checkDataDir(cfg.DataDir); err != nil {
		return nil, nil, err
	}
	key, err := store.LoadOrCreateKey(cfg.DataDir, cfg.SecretKey)
	if err != nil {
		return nil, nil, fmt.Errorf("BIGIN_MCP_SECRET_KEY: %w", err)
	}
	db, err := store.Open(filepath.Join(cfg.DataDir, "bigin-mcp.db"), store.Options{Key: key})
	if err != nil {
		if errors.Is(err, store.ErrWrongKey) {
			return nil, nil, fmt.Errorf("BIGIN_MCP_SECRET_KEY: %w", err)
		}
		return nil, nil, fmt.Errorf("open store: %w", err)
	}
	return db, key, nil
}
