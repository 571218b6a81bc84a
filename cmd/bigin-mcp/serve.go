package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/internal/tlsconf"
	"github.com/bigin-mcp/bigin-mcp/store"
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

	ln, err := listen("BIGIN_MCP_ADDR", "--addr", cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	var certs *tlsconf.Manager
	if cfg.TLS.Enabled() {
		tc := cfg.TLS
		tc.Cache = tlsconf.StoreCache(db)
		tc.HTTPSPort = port
		certs, err = tlsconf.New(tc, logger)
		if err != nil {
			return err // a *tlsconf.ConfigError names the variable
		}
	}
	if cfg.publicFromAddr {
		cfg.PublicURL = defaultPublicURL(cfg, ln.Addr().String(), port)
	}

	stack, err := app.New(ctx, db, app.Config{
		PublicURL:        cfg.PublicURL,
		Datacenters:      cfg.Datacenters,
		ZohoClientID:     cfg.ZohoClientID,
		ZohoClientSecret: cfg.ZohoClientSecret,
		AllowedOrigins:   cfg.AllowedOrigins,
		SecretKey:        key,
		Version:          buildVersion(),
		Logger:           logger,
	})
	if err != nil {
		return fmt.Errorf("load tokens: %w", err)
	}
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
	var httpSrv *http.Server
	if certs != nil {
		srv.Handler = tlsconf.HSTS(srv.Handler)
		srv.TLSConfig = certs.TLSConfig()
		if cfg.HTTPAddr != "" {
			httpLn, err := listen("BIGIN_MCP_HTTP_ADDR", "--http-addr", cfg.HTTPAddr)
			if err != nil {
				return err
			}
			httpSrv = &http.Server{
				Handler:           httpx.LogRequests(logger, certs.HTTPHandler(nil)),
				ReadHeaderTimeout: 10 * time.Second,
				IdleTimeout:       120 * time.Second,
				ErrorLog:          srv.ErrorLog,
			}
			go func() {
				if err := httpSrv.Serve(httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
					logger.Error("plain-HTTP listener stopped", "err", err)
				}
			}()
			logger.Info("listening for ACME challenges and redirects to HTTPS", "addr", httpLn.Addr().String())
		}
	}

	sweepCtx, stopSweep := context.WithCancel(context.Background())
	defer stopSweep()
	go stack.RunSweeper(sweepCtx, 30*time.Second)

	errc := make(chan error, 1)
	go func() {
		if certs != nil {
			errc <- srv.ServeTLS(ln, "", "") // certificates come from srv.TLSConfig
			return
		}
		errc <- srv.Serve(ln)
	}()
	logger.Info("listening", "addr", ln.Addr().String(), "https", certs != nil, "public_url", cfg.PublicURL, "version", buildVersion())
	if ready != nil {
		ready(ln.Addr().String(), adminToken)
	}

	select {
	case err := <-errc:
		if httpSrv != nil {
			_ = httpSrv.Close()
		}
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if httpSrv != nil {
		_ = httpSrv.Shutdown(shutCtx)
	}
	if err := srv.Shutdown(shutCtx); err != nil {
		logger.Warn("shutdown did not finish in time", "err", err)
	}
	stack.Flush()
	stopSweep()
	return nil
}

// listen opens a TCP listener; an address in use is an error that says
// which setting to change.
func listen(envVar, flagName, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s: %s is already in use (by another bigin-mcp or another program); choose a free address with %s or %s, e.g. %s %s",
			envVar, addr, flagName, envVar, flagName, nextPort(addr))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", envVar, err)
	}
	return ln, nil
}

// nextPort suggests addr with the next port.
func nextPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n >= 65535 {
		return net.JoinHostPort(host, "0")
	}
	return net.JoinHostPort(host, strconv.Itoa(n+1))
}

// defaultPublicURL is the public URL when none is configured: the ACME
// domain (HTTPS on the bound port), or the bound address itself.
func defaultPublicURL(cfg *config, bound string, port int) string {
	switch {
	case len(cfg.TLS.ACMEDomains) > 0:
		host := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(cfg.TLS.ACMEDomains[0])), ".")
		if port != 443 {
			host = net.JoinHostPort(host, strconv.Itoa(port))
		}
		return "https://" + host
	case cfg.TLS.Enabled():
		return "https://" + bound
	}
	return "http://" + bound
}
