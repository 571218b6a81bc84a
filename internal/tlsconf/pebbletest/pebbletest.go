// Package pebbletest runs Pebble, Let's Encrypt's ACME test server, on
// loopback for tests, with a small DNS server that resolves every name to
// 127.0.0.1 so Pebble's challenge validation reaches the server under test.
// Pebble validates for real: it connects to the HTTP-01 and TLS-ALPN-01
// ports it is given.
//
// The usual sequence is Build once, StartDNS, New (which picks Pebble's
// addresses and makes the certificate of its HTTPS API, so the ACME client
// can be told to trust it before Pebble runs), then Start with the ports
// the server under test listens on.
package pebbletest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"
)

// Package is the Pebble command, a tool dependency in go.mod so its
// version is pinned and `go build` needs nothing beyond the module proxy.
const Package = "github.com/letsencrypt/pebble/v2/cmd/pebble"

// Build builds Pebble into a temporary directory and returns the binary's
// path. The first build takes a while; later ones come from the build
// cache.
func Build(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pebble")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// go test puts its own go on PATH.
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, Package).CombinedOutput()
	require.NoError(t, err, "building pebble: %s", out)
	return bin
}

// StartDNS answers every A query with 127.0.0.1 and AAAA queries with
// nothing, until the test ends, and returns its address. It serves DNS
// over TCP, which is what Pebble's -dnsserver resolver uses.
func StartDNS(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		r := new(dns.Msg)
		r.SetReply(q)
		for _, question := range q.Question {
			if question.Qtype == dns.TypeA {
				r.Answer = append(r.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET},
					A:   net.IPv4(127, 0, 0, 1),
				})
			}
		}
		_ = w.WriteMsg(r)
	})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ActivateAndServe() // the socket is bound: connections queue until it accepts
	}()
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	return ln.Addr().String()
}

// RefusingPort accepts connections on a loopback port and closes them at
// once, until the test ends: a port where a challenge can never be
// answered, to give Pebble for the challenge type not under test.
func RefusingPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// Server is one Pebble instance, prepared by New and running after Start.
type Server struct {
	// Directory is the ACME directory URL.
	Directory string
	// Mgmt is the base URL of the management interface (roots,
	// intermediates).
	Mgmt string
	// APIRoots trusts the certificate of Pebble's own HTTPS listeners
	// (directory and management); it is not the root of issued
	// certificates (see Cert).
	APIRoots *x509.CertPool
	// APIRootsPEM is APIRoots' certificate, PEM encoded, for a CA file
	// setting.
	APIRootsPEM []byte

	bin, dnsAddr, dir string
	listen, mgmt      string
	reserved          []net.Listener // hold listen and mgmt until Start
	client            *http.Client
	out               syncBuffer
}

// New prepares a Pebble that will run bin, resolving names through
// dnsAddr: it reserves loopback addresses for the directory and the
// management interface (they stay bound until Start, so listeners the
// test opens meanwhile on port 0 cannot take them) and makes the
// certificate they serve. Nothing runs until Start.
func New(t testing.TB, bin, dnsAddr string) *Server {
	t.Helper()
	certPEM, keyPEM, cert := selfSigned(t, "pebble", "localhost", "127.0.0.1")
	s := &Server{bin: bin, dnsAddr: dnsAddr, dir: t.TempDir()}
	for _, addr := range []*string{&s.listen, &s.mgmt} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		s.reserved = append(s.reserved, ln)
		*addr = ln.Addr().String()
	}
	t.Cleanup(s.release)
	require.NoError(t, os.WriteFile(filepath.Join(s.dir, "cert.pem"), certPEM, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(s.dir, "key.pem"), keyPEM, 0o600))
	s.Directory = "https://" + s.listen + "/dir"
	s.Mgmt = "https://" + s.mgmt
	s.APIRoots = x509.NewCertPool()
	s.APIRoots.AddCert(cert)
	s.APIRootsPEM = certPEM
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: s.APIRoots, MinVersion: tls.VersionTLS12}
	s.client = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	t.Cleanup(tr.CloseIdleConnections)
	return s
}

// release closes the reserved listeners, so Pebble can bind their
// addresses.
func (s *Server) release() {
	for _, ln := range s.reserved {
		_ = ln.Close()
	}
	s.reserved = nil
}

// Start runs Pebble validating HTTP-01 challenges on httpPort and
// TLS-ALPN-01 challenges on tlsPort of 127.0.0.1, and waits for its
// directory. Pebble stops when the test ends; its log is reported if the
// test failed. A Pebble that exits while starting (say, because another
// process took a reserved address in the moment between release and
// Pebble's bind) fails the test at once, with its log.
func (s *Server) Start(t testing.TB, httpPort, tlsPort int) {
	t.Helper()
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress":           s.listen,
		"managementListenAddress": s.mgmt,
		"certificate":             filepath.Join(s.dir, "cert.pem"),
		"privateKey":              filepath.Join(s.dir, "key.pem"),
		"httpPort":                httpPort,
		"tlsPort":                 tlsPort,
		"ocspResponderURL":        "",
		"keyAlgorithm":            "ecdsa",
		// No Retry-After: the ACME client then polls once a second.
		"retryAfter": map[string]int{"authz": 0, "order": 0},
	}}
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	cfgFile := filepath.Join(s.dir, "pebble.json")
	require.NoError(t, os.WriteFile(cfgFile, b, 0o600))

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, s.bin, "-config", cfgFile, "-dnsserver", s.dnsAddr)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(),
		"PEBBLE_VA_NOSLEEP=1",      // no random delay before validating
		"PEBBLE_WFE_NONCEREJECT=0", // no deliberately rejected nonces
		"PEBBLE_AUTHZREUSE=0",      // every order is validated afresh
	)
	cmd.Stdout, cmd.Stderr = &s.out, &s.out
	s.release()
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("pebble log:\n%s", s.Log())
		}
	})
	deadline := time.After(30 * time.Second)
	for s.get(s.Directory) != nil || s.get(s.Mgmt+"/roots/0") != nil {
		select {
		case <-exited:
			t.Fatalf("pebble exited while starting")
		case <-deadline:
			t.Fatalf("pebble did not come up within 30s")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Log is what Pebble has logged so far.
func (s *Server) Log() string { return s.out.String() }

// Cert fetches one PEM certificate from the management interface, such as
// "/roots/0" (the root issued certificates chain to) or
// "/intermediates/0".
func (s *Server) Cert(t testing.TB, path string) *x509.Certificate {
	t.Helper()
	b, err := s.fetch(s.Mgmt + path)
	require.NoError(t, err)
	block, _ := pem.Decode(b)
	require.NotNil(t, block, "no PEM at %s", path)
	c, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return c
}

func (s *Server) get(url string) error {
	_, err := s.fetch(url)
	return err
}

// fetch gets url and fails unless it answers 200.
func (s *Server) fetch(url string) ([]byte, error) {
	resp, err := s.client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return b, nil
}

// selfSigned makes a self-signed CA certificate for names (host names or
// IP addresses) with a fresh P-256 key, so a client can trust it directly.
func selfSigned(t testing.TB, cn string, names ...string) (certPEM, keyPEM []byte, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err = x509.ParseCertificate(der)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), cert
}

// syncBuffer is a bytes.Buffer safe for Pebble's output goroutines and
// the test that reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
