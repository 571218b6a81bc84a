package tlsconf

import (
	"net"
	"net/http"
	"strconv"
	"strings"
)

// acmeChallengePrefix is where HTTP-01 challenge responses live.
const acmeChallengePrefix = "/.well-known/acme-challenge/"

// HSTS wraps h so that responses served over TLS carry
// Strict-Transport-Security with a one-year max-age (no includeSubDomains:
// other hosts under the domain are not ours to pin). Plain-HTTP responses
// are left alone, as RFC 6797 requires. A handler may override the header.
func HSTS(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.ServeHTTP(w, r)
	})
}

// requestHost is r.Host without port and trailing dot, in lower case.
func requestHost(r *http.Request) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

// redirectHandler sends plain-HTTP requests to the same path over HTTPS, but
// only for hosts known reports as ours: the Host header is the client's to
// choose, and echoing any value would make this an open redirect.
type redirectHandler struct {
	known     func(host string) bool
	httpsPort int
}

func (h redirectHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := requestHost(r)
	if host == "" || !h.known(host) {
		http.Error(w, "unknown host", http.StatusBadRequest)
		return
	}
	authority := host
	if h.httpsPort != 0 && h.httpsPort != 443 {
		authority = net.JoinHostPort(host, strconv.Itoa(h.httpsPort))
	} else if strings.Contains(host, ":") {
		authority = "[" + host + "]" // IPv6 literal
	}
	target := "https://" + authority
	// Rebuild from the path alone: RequestURI would carry an absolute-form
	// request target ("GET http://elsewhere/") into the redirect.
	path := r.URL.EscapedPath()
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	target += path
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	code := http.StatusMovedPermanently
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// 308 keeps method and body, where 301 lets clients turn POST into GET.
		code = http.StatusPermanentRedirect
	}
	w.Header().Set("Location", target)
	w.WriteHeader(code)
}
