package tlsconf

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/bigin-mcp/bigin-mcp/internal/clock"
	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// Manager holds the certificate source of one mode and hands out the
// matching tls.Config and plain-HTTP handler.
type Manager struct {
	logger    *slog.Logger
	httpsPort int
	tlsConfig *tls.Config

	pair *pairReloader // pair mode

	acme    *autocert.Manager // ACME mode
	domains []string
}

// New validates cfg and prepares the chosen mode. In pair mode the pair is
// loaded now, so a bad file fails startup. Mistakes a user fixes in the
// environment come back as *ConfigError. A nil logger discards logs.
func New(cfg Config, logger *slog.Logger) (*Manager, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	md, domains, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	m := &Manager{logger: logger, httpsPort: cfg.HTTPSPort}
	switch md {
	case modePair:
		m.pair, err = newPairReloader(cfg.CertFile, cfg.KeyFile, clock.OrSystem(cfg.Clock).Now, logger)
		if err != nil {
			return nil, err
		}
		m.tlsConfig = &tls.Config{
			MinVersion:     tls.VersionTLS12,
			NextProtos:     []string{"h2", "http/1.1"},
			GetCertificate: m.pair.getCertificate,
		}
		leaf := m.pair.current().Leaf
		logger.Info("tls: serving certificate pair", "cert_file", cfg.CertFile,
			"names", leaf.DNSNames, "not_after", leaf.NotAfter)
	case modeACME:
		m.domains = domains
		if cfg.ACMERootCAs, err = cfg.loadACMERoots(); err != nil {
			return nil, err
		}
		m.acme = newAutocert(cfg, domains)
		m.tlsConfig = &tls.Config{
			MinVersion:     tls.VersionTLS12,
			NextProtos:     []string{"h2", "http/1.1", acme.ALPNProto},
			GetCertificate: m.acmeGetCertificate,
		}
		logger.Info("tls: ACME", "domains", domains, "directory", m.acme.Client.DirectoryURL)
	}
	return m, nil
}

// newAutocert builds the autocert manager for domains with the directory,
// client and cache of cfg.
func newAutocert(cfg Config, domains []string) *autocert.Manager {
	dir := cfg.ACMEDirectory
	if dir == "" {
		dir = autocert.DefaultACMEDirectory
	}
	hc := cfg.ACMEHTTPClient
	if hc == nil && cfg.ACMERootCAs != nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: cfg.ACMERootCAs, MinVersion: tls.VersionTLS12}
		hc = &http.Client{Transport: tr}
	}
	return &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      cfg.Cache,
		HostPolicy: autocert.HostWhitelist(domains...),
		Email:      cfg.ACMEEmail,
		Client:     &acme.Client{DirectoryURL: dir, HTTPClient: hc},
	}
}

// acmeGetCertificate is autocert's GetCertificate with its failures logged:
// as warnings for our domains (issuance trouble someone must look at), at
// debug level for other names (scanners probing with arbitrary SNI).
func (m *Manager) acmeGetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	cert, err := m.acme.GetCertificate(hello)
	if err != nil {
		name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
		level := slog.LevelDebug
		if slices.Contains(m.domains, name) {
			level = slog.LevelWarn
		}
		m.logger.Log(hello.Context(), level, "tls: no certificate for handshake",
			"server_name", hello.ServerName, "err", err)
	}
	return cert, err
}

// TLSConfig returns a new tls.Config for the HTTPS listener: TLS 1.2 or
// later, certificates from the configured mode and, in ACME mode, the
// acme-tls/1 protocol that TLS-ALPN-01 validation needs. Each call returns
// a copy the caller may change.
func (m *Manager) TLSConfig() *tls.Config {
	return m.tlsConfig.Clone()
}

// HTTPHandler returns the handler for the plain-HTTP listener. In ACME mode
// it answers HTTP-01 challenges for the configured domains (and enables that
// challenge type). Other requests go to fallback, or, if fallback is nil,
// are redirected to HTTPS (301 for GET and HEAD, 308 otherwise) when the
// Host is a configured domain (ACME) or a name of the served certificate
// (pair mode); any other Host gets 400, so the redirect is never open.
func (m *Manager) HTTPHandler(fallback http.Handler) http.Handler {
	if fallback == nil {
		fallback = redirectHandler{known: m.knownHost, httpsPort: m.httpsPort}
	}
	if m.acme == nil {
		return fallback
	}
	challenges := m.acme.HTTPHandler(nil)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, acmeChallengePrefix) {
			fallback.ServeHTTP(w, r)
			return
		}
		host := requestHost(r)
		if !m.knownHost(host) {
			http.Error(w, "unknown host", http.StatusBadRequest)
			return
		}
		// autocert checks the Host header against its policy as is; the
		// validator may send a port (any httpPort but 80) or a trailing dot.
		r2 := r.Clone(r.Context())
		r2.Host = host
		challenges.ServeHTTP(w, r2)
	})
}

// knownHost reports whether host (lower case, no port) is ours to redirect
// to: a configured ACME domain, or a name the served certificate covers.
func (m *Manager) knownHost(host string) bool {
	if m.acme != nil {
		return slices.Contains(m.domains, host)
	}
	return m.pair.current().Leaf.VerifyHostname(host) == nil
}
