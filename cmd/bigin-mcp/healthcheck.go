package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/tlsconf"
)

// errUnhealthy makes the process exit with status 1, which is what
// Docker's HEALTHCHECK reads as unhealthy.
var errUnhealthy = errors.New("unhealthy")

// healthcheck asks the server on this machine for GET /healthz and
// succeeds on 200. It reads BIGIN_MCP_ADDR and, to pick HTTPS, the TLS
// settings of serve, so it runs unchanged in the serve container (whose
// image has no curl).
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("healthcheck", stderr)
	addr := fs.String("addr", envOr(getenv, "BIGIN_MCP_ADDR", "127.0.0.1:8080"), "address of the server to check ($BIGIN_MCP_ADDR)")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("BIGIN_MCP_ADDR: %q is not host:port", *addr)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1" // listening everywhere includes loopback
	}
	scheme := "http"
	client := &http.Client{Timeout: *timeout}
	if tc := healthcheckTLS(tlsconf.ConfigFromEnv(getenv)); tc != nil {
		scheme = "https"
		client.Transport = &http.Transport{TLSClientConfig: tc}
	}
	url := scheme + "://" + net.JoinHostPort(host, port) + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "bigin-mcp healthcheck: %s: %v\n", url, err)
		return errUnhealthy
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "bigin-mcp healthcheck: %s answered %s: %s\n", url, resp.Status, strings.TrimSpace(string(body)))
		return errUnhealthy
	}
	fmt.Fprintf(stdout, "ok %s\n", url)
	return nil
}

// envOr returns the variable, or def when it is empty.
func envOr(getenv func(string) string, key, def string) string {
	if v := strings.TrimSpace(getenv(key)); v != "" {
		return v
	}
	return def
}

// healthcheckTLS is the client side of a check over HTTPS, or nil for
// plain HTTP. The certificate names the public host, not the loopback
// address asked, and the request carries nothing secret: whether the
// process answers is all it checks, so the certificate is not verified.
// In ACME mode the handshake names the first domain, since autocert picks
// the certificate by that name and refuses a handshake without one.
func healthcheckTLS(cfg tlsconf.Config) *tls.Config {
	if !cfg.Enabled() {
		return nil
	}
	tc := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
	if len(cfg.ACMEDomains) > 0 {
		tc.ServerName = strings.TrimSuffix(strings.ToLower(cfg.ACMEDomains[0]), ".")
	}
	return tc
}
