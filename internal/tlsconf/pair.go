package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// reloadCheckEvery bounds how often a handshake looks at the files on disk.
const reloadCheckEvery = time.Second

// fileStamp is what tells a rotated file apart from the loaded one.
type fileStamp struct {
	mod  time.Time
	size int64
}

// pairStamp covers both files: cert-manager and friends replace both.
type pairStamp struct{ cert, key fileStamp }

// pairReloader serves a certificate pair from disk and picks up a rotated
// pair on the first handshake after the files change.
type pairReloader struct {
	certFile, keyFile string
	logger            *slog.Logger
	now               func() time.Time // the clock; tests advance it
	every             time.Duration

	mu        sync.Mutex
	cert      *tls.Certificate
	loaded    pairStamp // stamp of the files cert came from
	tried     pairStamp // stamp last attempted, good or bad
	lastCheck time.Time
}

// newPairReloader loads the pair once; a bad pair here is a startup error
// naming the file (and its environment variable) at fault.
func newPairReloader(certFile, keyFile string, now func() time.Time, logger *slog.Logger) (*pairReloader, error) {
	r := &pairReloader{
		certFile: certFile,
		keyFile:  keyFile,
		logger:   logger,
		now:      now,
		every:    reloadCheckEvery,
	}
	stamp, err := r.stat()
	if err != nil {
		return nil, err
	}
	cert, err := loadPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	r.cert, r.loaded, r.tried, r.lastCheck = cert, stamp, stamp, r.now()
	return r, nil
}

// getCertificate is tls.Config.GetCertificate: the current pair, reloaded
// first if a check is due and the files changed.
func (r *pairReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := r.now(); now.Sub(r.lastCheck) >= r.every || now.Before(r.lastCheck) {
		r.lastCheck = now
		r.maybeReload()
	}
	return r.cert, nil
}

// maybeReload swaps in the pair on disk if it changed since the last
// attempt. A pair that fails to load keeps the old one in service and is not
// tried again until the files change again (the rest of a rotation).
func (r *pairReloader) maybeReload() {
	stamp, err := r.stat()
	if err != nil {
		if stamp != r.tried {
			r.tried = stamp
			r.logger.Warn("tls: cannot check certificate files; serving the loaded pair", "err", err)
		}
		return
	}
	if stamp == r.tried {
		return
	}
	r.tried = stamp
	cert, err := loadPair(r.certFile, r.keyFile)
	if err != nil {
		r.logger.Warn("tls: new certificate pair does not load; serving the previous one", "err", err)
		return
	}
	r.cert, r.loaded = cert, stamp
	r.logger.Info("tls: certificate pair reloaded",
		"cert_file", r.certFile, "subject", cert.Leaf.Subject.String(),
		"not_after", cert.Leaf.NotAfter)
}

// current returns the pair in service.
func (r *pairReloader) current() *tls.Certificate {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cert
}

func (r *pairReloader) stat() (pairStamp, error) {
	var s pairStamp
	ci, err := os.Stat(r.certFile)
	if err != nil {
		return s, &ConfigError{Var: EnvCert, Err: fmt.Errorf("certificate file: %w", err)}
	}
	ki, err := os.Stat(r.keyFile)
	if err != nil {
		return s, &ConfigError{Var: EnvKey, Err: fmt.Errorf("key file: %w", err)}
	}
	s.cert = fileStamp{mod: ci.ModTime(), size: ci.Size()}
	s.key = fileStamp{mod: ki.ModTime(), size: ki.Size()}
	return s, nil
}

// loadPair reads and checks a pair, blaming the certificate file for a
// certificate that does not parse and the key file for a key that does not
// parse or does not match. Errors never quote file contents.
func loadPair(certFile, keyFile string) (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, &ConfigError{Var: EnvCert, Err: fmt.Errorf("reading certificate: %w", err)}
	}
	if err := checkCertPEM(certPEM); err != nil {
		return nil, &ConfigError{Var: EnvCert, Err: fmt.Errorf("%s: %w", certFile, err)}
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, &ConfigError{Var: EnvKey, Err: fmt.Errorf("reading key: %w", err)}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, &ConfigError{Var: EnvKey, Err: fmt.Errorf("%s does not hold the private key of %s: %w", keyFile, certFile, err)}
	}
	return &cert, nil
}

// checkCertPEM makes sure the first CERTIFICATE block parses, so a bad
// certificate file is reported as such rather than as a key mismatch.
func checkCertPEM(b []byte) error {
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return errors.New("no PEM CERTIFICATE block found")
		}
		if block.Type != "CERTIFICATE" {
			if strings.HasSuffix(block.Type, "PRIVATE KEY") {
				return errors.New("holds a private key, not a certificate (are the files swapped?)")
			}
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("parsing certificate: %w", err)
		}
		return nil
	}
}
