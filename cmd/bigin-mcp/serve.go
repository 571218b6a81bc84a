package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/app"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/internal/oauth"
	"github.com/bigin-mcp/bigin-mcp/internal/tlsconf"
	"github.com/bigin-mcp/bigin-mcp/store"
	"github.com/bigin-mcp/bigin-mcp/store/etcdstore"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// serve runs the server until ctx ends, then shuts down gracefully:
// in-flight requests finish, open SSE streams close, the store closes.
// Every listener is bound first, so a busy address fails before anything
// is created. ready, when not nil, is called with the listening address and the bootstrap
// admin token when one was generated.
func serve(ctx context.Context, cfg *config, stderr io.Writer, ready func(addr, adminToken string)) error {
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	lns, err := bindListeners(cfg)
	if err != nil {
		return err
	}
	defer lns.close()
	db, key, fresh, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()

	ln := lns.main
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
		MaxResultChars:   cfg.MaxResultChars,
		RecordURL:        cfg.RecordURL,
		AuditRetention:   cfg.AuditRetention,
		Metrics:          cfg.MetricsAddr != "",
		CIMD:             oauth.CIMDOptions{AllowLoopback: cfg.CIMDAllowLoopback, FetchesPerAddress: cfg.CIMDFetchesPerAddress},
		TrustedProxies:   cfg.TrustedProxies,
		StructuredOnly:   cfg.StructuredOnly,
		SecretKey:        key,
		Version:          buildVersion(),
		Logger:           logger,
		MaxStaleness:     cfg.MaxStaleness,
		Limits: app.Limits{
			BodyTimeout:         cfg.BodyTimeout,
			MaxSSEStreams:       cfg.MaxSSEStreams,
			MaxSSEStreamsPerURL: cfg.MaxSSEStreamsPerURL,

			MaxSSEAnswersInFlight: cfg.MaxSSEAnswersInFlight,
			SSEWriteTimeout:       cfg.SSEWriteTimeout,

			CredentialFailures:        cfg.credentialFailures(),
			NoCredentialFailureBudget: cfg.CredentialFailures == 0,
			RegistrationsPerAddress:   cfg.RegistrationsPerAddress,
		},
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
	if cfg.CIMDAllowLoopback {
		logger.Warn("BIGIN_MCP_CIMD_ALLOW_LOOPBACK is on: OAuth client metadata documents are fetched from loopback addresses too, so a client_id URL can make this server call services on its own host; this is for tests only, never turn it on in production")
	}
	noZohoClient := cfg.ZohoClientID == "" || cfg.ZohoClientSecret == ""
	if noZohoClient {
		logger.Warn("no Zoho OAuth client is configured: connect links will be refused and every account needs its own client_id and client_secret; set BIGIN_MCP_ZOHO_CLIENT_ID and BIGIN_MCP_ZOHO_CLIENT_SECRET")
	}
	switch {
	case cfg.quietBootstrap: // the demo prints its own guidance
	case fresh:
		printFirstStart(stderr, cfg, adminToken, noZohoClient)
	case adminToken != "":
		fmt.Fprintf(stderr, "\nNo API token existed, so one was created. It is shown only this once; keep it:\n\n    %s\n\n", adminToken)
	}
	srv := stack.NewServer()
	var httpSrv *http.Server
	if certs != nil {
		srv.Handler = tlsconf.HSTS(srv.Handler)
		srv.TLSConfig = certs.TLSConfig()
		if httpLn := lns.http; httpLn != nil {
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

	errc := make(chan error, 2)
	if mln := lns.metrics; mln != nil {
		msrv := &http.Server{Handler: metricsMux(stack.Metrics.Handler()), ReadHeaderTimeout: 10 * time.Second}
		defer msrv.Close()
		go func() {
			if err := msrv.Serve(mln); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("metrics: %w", err)
			}
		}()
		logger.Info("metrics listening", "addr", mln.Addr().String(), "path", "/metrics")
	}
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

// metricsMux serves the metrics at /metrics and nothing else.
func metricsMux(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	return mux
}

// keyError explains in one line why the secret key cannot open the data
// directory and which variable to set; nothing was written.
func keyError(cfg *config, err error) error {
	dbPath := filepath.Join(cfg.DataDir, store.DBFileName)
	keyFile := filepath.Join(cfg.DataDir, store.KeyFileName)
	switch {
	case errors.Is(err, store.ErrNoKey):
		return fmt.Errorf("the data in %s was sealed with a secret key that is not here (there is no %s): "+
			"set BIGIN_MCP_SECRET_KEY to the key it was created with; nothing was written", dbPath, keyFile)
	case errors.Is(err, store.ErrWrongKey) && cfg.SecretKey != "":
		also := ""
		if _, serr := os.Stat(keyFile); serr == nil {
			also = ", or unset it to use " + keyFile
		}
		return fmt.Errorf("the data in %s was sealed with another secret key than BIGIN_MCP_SECRET_KEY holds: "+
			"set that variable to the key the data was created with%s; nothing was written", dbPath, also)
	case errors.Is(err, store.ErrWrongKey):
		return fmt.Errorf("the data in %s was sealed with another secret key than %s holds: "+
			"set BIGIN_MCP_SECRET_KEY to the key the data was created with; nothing was written", dbPath, keyFile)
	}
	return err // a bad value names its variable, a bad key file its path
}

// printFirstStart tells the operator of a new data directory, in one
// short block, what to do next.
func printFirstStart(w io.Writer, cfg *config, adminToken string, noZohoClient bool) {
	linkNote := ""
	if noZohoClient {
		linkNote = " (needs the Zoho OAuth client, see below)"
	}
	tok := "the value of BIGIN_MCP_ADMIN_TOKEN"
	if adminToken != "" {
		tok = adminToken + "\n    (created because no API token existed; it is shown only this once, keep it)"
	}
	fmt.Fprintf(w, `
bigin-mcp started on a new data directory (%s).

  Admin API token: %s

  Next, connect a Zoho Bigin account, then mint MCP URLs for it:
    BASE=%s TOKEN=<the admin API token>
    # a one-time link your customer opens to connect their own Bigin%s
    curl -s -X POST $BASE/admin/connect-links -H "Authorization: Bearer $TOKEN" \
      -H 'Content-Type: application/json' -d '{"name":"Acme"}'
    # or an account from a refresh token you already have
    curl -s -X POST $BASE/admin/integrated-accounts -H "Authorization: Bearer $TOKEN" \
      -H 'Content-Type: application/json' \
      -d '{"name":"Acme","datacenter":"us","refresh_token":"…","client_id":"…","client_secret":"…"}'
  docs/admin-api.md has every call.
`, cfg.DataDir, tok, cfg.PublicURL, linkNote)
	if noZohoClient {
		fmt.Fprint(w, `
  Warning: no Zoho OAuth client is configured, so connect links will be
  refused and every account needs its own client_id and client_secret.
  Set BIGIN_MCP_ZOHO_CLIENT_ID and BIGIN_MCP_ZOHO_CLIENT_SECRET (docs/admin-api.md,
  "Setting up the Zoho OAuth client", says how to get them).
`)
	}
	fmt.Fprintln(w)
}

// listeners are the server's TCP listeners. All are bound before
// anything else happens, so a busy address stops startup before the data
// directory, an admin token or the banner exists.
type listeners struct {
	main    net.Listener
	http    net.Listener // beside HTTPS only; nil when off
	metrics net.Listener // nil when off
}

// bindListeners binds every listener cfg asks for; on an error none stays
// bound.
func bindListeners(cfg *config) (_ *listeners, err error) {
	l := &listeners{}
	defer func() {
		if err != nil {
			l.close()
		}
	}()
	if l.main, err = listen("BIGIN_MCP_ADDR", "--addr", cfg.Addr); err != nil {
		return nil, err
	}
	if cfg.HTTPAddr != "" && cfg.TLS.Enabled() {
		if l.http, err = listen("BIGIN_MCP_HTTP_ADDR", "--http-addr", cfg.HTTPAddr); err != nil {
			return nil, err
		}
	}
	if cfg.MetricsAddr != "" {
		if l.metrics, err = listen("BIGIN_MCP_METRICS_ADDR", "--metrics-addr", cfg.MetricsAddr); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// close closes the listeners still open (the servers close theirs when
// they shut down).
func (l *listeners) close() {
	for _, ln := range []net.Listener{l.main, l.http, l.metrics} {
		if ln != nil {
			_ = ln.Close()
		}
	}
}

// listen opens a TCP listener; an address in use is an error that says
// which setting to change.
func listen(envVar, flagName, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s: %s is already in use (by another program, or by another of this server's addresses); choose a free address with %s or %s, e.g. %s %s",
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

// openStore opens the configured store and returns it with the secret
// key, and whether it is a new bbolt data directory. bbolt keeps the key
// in the data directory when none is given; etcd requires one (checked by
// parseConfig), the same on every replica.
func openStore(ctx context.Context, cfg *config, logger *slog.Logger) (db tokens.Store, key []byte, fresh bool, err error) {
	if cfg.Store == "etcd" {
		key, err = store.LoadOrCreateKey("", cfg.SecretKey)
		if err != nil {
			return nil, nil, false, err
		}
		client, err := etcdstore.Dial(cfg.Etcd)
		if err != nil {
			return nil, nil, false, fmt.Errorf("BIGIN_MCP_ETCD_ENDPOINTS: %w", err)
		}
		octx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		edb, err := etcdstore.Open(octx, etcdstore.Options{Client: client, Prefix: cfg.EtcdPrefix, Key: key, Logger: logger})
		if err != nil {
			_ = client.Close()
			if errors.Is(err, etcdstore.ErrWrongKey) {
				return nil, nil, false, fmt.Errorf("BIGIN_MCP_SECRET_KEY: %w", err)
			}
			return nil, nil, false, fmt.Errorf("open the etcd store: %w", err)
		}
		return edb, key, false, nil
	}
	if err := checkDataDir(cfg.DataDir); err != nil {
		return nil, nil, false, err
	}
	dbPath := filepath.Join(cfg.DataDir, store.DBFileName)
	_, statErr := os.Stat(dbPath)
	fresh = errors.Is(statErr, fs.ErrNotExist)
	key, err = store.LoadOrCreateKey(cfg.DataDir, cfg.SecretKey)
	if err != nil {
		return nil, nil, false, keyError(cfg, err)
	}
	bdb, err := store.Open(dbPath, store.Options{Key: key})
	if err != nil {
		if errors.Is(err, store.ErrWrongKey) {
			return nil, nil, false, keyError(cfg, err)
		}
		return nil, nil, false, fmt.Errorf("open store: %w", err)
	}
	return bdb, key, fresh, nil
}
