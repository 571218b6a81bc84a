package tlsconf

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/bigin-mcp/bigin-mcp/internal/clock"
	"golang.org/x/crypto/acme/autocert"
	"golang.org/x/net/idna"
)

// Environment variables a user sets to configure TLS. Errors about a setting
// name the variable, so the message points at what to change.
const (
	// EnvCert names the PEM certificate (chain) file of pair mode.
	EnvCert = "BIGIN_MCP_TLS_CERT"
	// EnvKey names the PEM private key file of pair mode.
	EnvKey = "BIGIN_MCP_TLS_KEY"
	// EnvACMEDomains lists, comma-separated, the domains ACME mode obtains
	// certificates for.
	EnvACMEDomains = "BIGIN_MCP_ACME_DOMAINS"
	// EnvACMEEmail is the optional contact address of the ACME account.
	EnvACMEEmail = "BIGIN_MCP_ACME_EMAIL"
	// EnvACMEDirectory is the optional ACME directory URL; the default is
	// Let's Encrypt production (autocert.DefaultACMEDirectory).
	EnvACMEDirectory = "BIGIN_MCP_ACME_DIRECTORY"
	// EnvACMECA is the optional PEM file of the CA certificates trusted for
	// the ACME directory's own HTTPS certificate, for a private ACME server
	// (step-ca, Pebble); the default is the system roots.
	EnvACMECA = "BIGIN_MCP_ACME_CA"
)

// Config selects one of two modes: a certificate pair on disk (CertFile and
// KeyFile) or ACME (ACMEDomains). Setting both or neither is an error. In
// pair mode, handshakes look at both files' modification time and size at
// most once a second and reload the pair when they change, so a rotated
// pair (cert-manager, certbot) is served without a restart.
type Config struct {
	// CertFile is the PEM certificate chain, leaf first (BIGIN_MCP_TLS_CERT).
	CertFile string
	// KeyFile is the PEM private key matching CertFile (BIGIN_MCP_TLS_KEY).
	KeyFile string

	// ACMEDomains are the host names to obtain certificates for; only these
	// are served and redirected to (BIGIN_MCP_ACME_DOMAINS).
	ACMEDomains []string
	// ACMEEmail is the optional account contact (BIGIN_MCP_ACME_EMAIL).
	ACMEEmail string
	// ACMEDirectory is the ACME directory URL; empty means
	// autocert.DefaultACMEDirectory (BIGIN_MCP_ACME_DIRECTORY).
	ACMEDirectory string
	// Cache stores account keys and certificates in ACME mode. It is
	// required there: without it every restart would order new certificates,
	// and replicas sharing it share certificates.
	Cache autocert.Cache
	// ACMEHTTPClient, if set, is the client used to talk to the ACME
	// directory. It takes precedence over ACMERootCAs.
	ACMEHTTPClient *http.Client
	// ACMERootCAs, if set, are the roots trusted for the ACME directory's
	// HTTPS certificate instead of the system pool (a private or test CA).
	ACMERootCAs *x509.CertPool
	// ACMECAFile, if set, is a PEM file of CA certificates trusted for the
	// ACME directory's HTTPS certificate instead of the system pool
	// (BIGIN_MCP_ACME_CA). New loads it; with ACMERootCAs set too, both
	// are trusted.
	ACMECAFile string

	// HTTPSPort is the port put in redirects from plain HTTP to HTTPS;
	// 0 or 443 leave it out of the URL.
	HTTPSPort int
	// Clock decides when the certificate files are checked again; nil
	// means the system clock.
	Clock clock.Clock
}

// ConfigError is a configuration mistake the user fixes by changing the
// environment variable Var.
type ConfigError struct {
	// Var is the environment variable to change, such as EnvKey.
	Var string
	// Err says what is wrong with it.
	Err error
}

// Error returns "VAR: what is wrong".
func (e *ConfigError) Error() string { return e.Var + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error { return e.Err }

func configErr(envVar string, format string, args ...any) error {
	return &ConfigError{Var: envVar, Err: fmt.Errorf(format, args...)}
}

// ConfigFromEnv reads the BIGIN_MCP_TLS_* and BIGIN_MCP_ACME_* variables
// through getenv (os.Getenv in the server). It only splits and trims; New
// validates. Cache, clients and HTTPSPort are left for the caller to set.
func ConfigFromEnv(getenv func(string) string) Config {
	cfg := Config{
		CertFile:      strings.TrimSpace(getenv(EnvCert)),
		KeyFile:       strings.TrimSpace(getenv(EnvKey)),
		ACMEEmail:     strings.TrimSpace(getenv(EnvACMEEmail)),
		ACMEDirectory: strings.TrimSpace(getenv(EnvACMEDirectory)),
		ACMECAFile:    strings.TrimSpace(getenv(EnvACMECA)),
	}
	for d := range strings.SplitSeq(getenv(EnvACMEDomains), ",") {
		if d = strings.TrimSpace(d); d != "" {
			cfg.ACMEDomains = append(cfg.ACMEDomains, d)
		}
	}
	return cfg
}

// Enabled reports whether any TLS setting is present, so the caller can
// serve plain HTTP when none is and let New report incomplete settings.
func (c Config) Enabled() bool {
	return c.CertFile != "" || c.KeyFile != "" || len(c.ACMEDomains) > 0 ||
		c.ACMEEmail != "" || c.ACMEDirectory != "" || c.ACMECAFile != ""
}

// mode is what validate settled on.
type mode int

const (
	modePair mode = iota + 1
	modeACME
)

// validate checks the settings that need no file access and returns the mode
// and, in ACME mode, the normalised (lower-case ASCII, deduplicated) domains.
func (c Config) validate() (mode, []string, error) {
	pair := c.CertFile != "" || c.KeyFile != ""
	acmeSet := len(c.ACMEDomains) > 0
	switch {
	case pair && acmeSet:
		return 0, nil, configErr(EnvACMEDomains,
			"cannot be combined with a certificate pair (%s, %s); choose one mode", EnvCert, EnvKey)
	case pair:
		if c.CertFile == "" {
			return 0, nil, configErr(EnvCert, "not set, but %s is", EnvKey)
		}
		if c.KeyFile == "" {
			return 0, nil, configErr(EnvKey, "not set, but %s is", EnvCert)
		}
		if c.ACMEEmail != "" {
			return 0, nil, configErr(EnvACMEEmail, "only used in ACME mode, with %s", EnvACMEDomains)
		}
		if c.ACMEDirectory != "" {
			return 0, nil, configErr(EnvACMEDirectory, "only used in ACME mode, with %s", EnvACMEDomains)
		}
		if c.ACMECAFile != "" {
			return 0, nil, configErr(EnvACMECA, "only used in ACME mode, with %s", EnvACMEDomains)
		}
		return modePair, nil, nil
	case acmeSet:
		domains, err := normalizeDomains(c.ACMEDomains)
		if err != nil {
			return 0, nil, &ConfigError{Var: EnvACMEDomains, Err: err}
		}
		if c.ACMEEmail != "" {
			if err := checkEmail(c.ACMEEmail); err != nil {
				return 0, nil, &ConfigError{Var: EnvACMEEmail, Err: err}
			}
		}
		if c.ACMEDirectory != "" {
			if err := checkDirectory(c.ACMEDirectory); err != nil {
				return 0, nil, &ConfigError{Var: EnvACMEDirectory, Err: err}
			}
		}
		if c.Cache == nil {
			return 0, nil, errors.New("tlsconf: ACME mode needs a certificate cache (Config.Cache)")
		}
		return modeACME, domains, nil
	case c.ACMEEmail != "" || c.ACMEDirectory != "" || c.ACMECAFile != "":
		return 0, nil, configErr(EnvACMEDomains, "not set, but other ACME settings are")
	default:
		return 0, nil, configErr(EnvCert,
			"no TLS mode configured: set it and %s for a certificate pair, or %s for ACME",
			EnvKey, EnvACMEDomains)
	}
}

// normalizeDomains turns the configured names into the lower-case ASCII form
// TLS clients send as SNI, and rejects what ACME cannot issue for through
// HTTP-01 or TLS-ALPN-01: IP addresses, wildcards, ports, single labels.
func normalizeDomains(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, raw := range in {
		d := strings.TrimSuffix(strings.TrimSpace(raw), ".")
		if err := checkDomain(d); err != nil {
			return nil, fmt.Errorf("invalid domain %q: %w", raw, err)
		}
		ascii, err := idna.Lookup.ToASCII(d)
		if err != nil {
			return nil, fmt.Errorf("invalid domain %q: %w", raw, err)
		}
		if err := checkLabels(ascii); err != nil {
			return nil, fmt.Errorf("invalid domain %q: %w", raw, err)
		}
		if !slices.Contains(out, ascii) {
			out = append(out, ascii)
		}
	}
	return out, nil
}

func checkDomain(d string) error {
	switch {
	case d == "":
		return errors.New("empty")
	case strings.Contains(d, "://"):
		return errors.New("give a host name, not a URL")
	case strings.HasPrefix(d, "*"):
		return errors.New("wildcards need DNS-01, which is not supported")
	case net.ParseIP(strings.Trim(d, "[]")) != nil:
		return errors.New("IP addresses are not supported")
	case strings.ContainsAny(d, ":/ "):
		return errors.New("give a bare host name, without port or path")
	}
	return nil
}

func checkLabels(d string) error {
	if len(d) > 253 {
		return errors.New("longer than 253 characters")
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return errors.New("needs at least two labels, like mcp.example.com")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return errors.New("labels must be 1 to 63 characters")
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return errors.New("labels must not start or end with a hyphen")
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("character %q not allowed in a host name", r)
			}
		}
	}
	return nil
}

func checkEmail(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return fmt.Errorf("invalid address: %w", err)
	}
	if a.Name != "" || a.Address != s {
		return errors.New("give a bare address, like ops@example.com")
	}
	return nil
}

func checkDirectory(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid URL: %w", err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return errors.New("must be an https:// URL")
	}
	return nil
}

// loadACMERoots returns the roots trusted for the ACME directory: the
// certificates of ACMECAFile, added to ACMERootCAs when both are set; nil
// (the system pool) when neither is.
func (c Config) loadACMERoots() (*x509.CertPool, error) {
	if c.ACMECAFile == "" {
		return c.ACMERootCAs, nil
	}
	b, err := os.ReadFile(c.ACMECAFile)
	if err != nil {
		return nil, &ConfigError{Var: EnvACMECA, Err: err}
	}
	roots := x509.NewCertPool()
	if c.ACMERootCAs != nil {
		roots = c.ACMERootCAs.Clone()
	}
	if !roots.AppendCertsFromPEM(b) {
		return nil, configErr(EnvACMECA, "%s holds no PEM certificate", c.ACMECAFile)
	}
	return roots, nil
}
