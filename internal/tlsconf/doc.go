// Package tlsconf lets the server terminate HTTPS itself, without a proxy:
// either from a certificate pair on disk that is reloaded when it rotates, or
// from ACME (Let's Encrypt) via autocert, plus the plain-HTTP side and HSTS.
package tlsconf
