package mcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// step is one stage of the admission chain: it answers the request itself
// (a JSON-RPC error, or a CORS preflight's 204) or passes it to next with
// what it found in the request's context.
type step func(next http.Handler) http.Handler

// chain returns endpoint behind steps, the first step outermost.
func chain(endpoint http.Handler, steps ...step) http.Handler {
	for i := len(steps) - 1; i >= 0; i-- {
		endpoint = steps[i](endpoint)
	}
	return endpoint
}

// admission is what every request to an MCP URL passes before the
// endpoint (and the go-sdk) sees it, built once per endpoint: the Host
// (DNS rebinding), the Origin and CORS preflight (methods lists what the
// endpoint serves), the URL's token, the credential its auth mode asks
// for, the body, and the one JSON-RPC message it must hold. An unknown or
// unauthorised URL is refused before its body is read at all, so such
// refusals carry the id null.
func (h *Handler) admission(methods string, endpoint http.Handler) http.Handler {
	return chain(endpoint, h.checkHost, h.cors(methods), h.resolveURL, h.authenticate, readBody, checkMessage)
}

// checkHost refuses, on a loopback listener, a Host that is neither
// loopback nor the public URL's (DNS rebinding), naming what fixes it.
func (h *Handler) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.hostAllowed(r) {
			writeRPCError(w, nil, tokens.CodePermissionDenied, hostRefused(r.Host))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostAllowed is the DNS-rebinding check: on a loopback
// listener, the Host must be loopback or the public URL's host.
func (h *Handler) hostAllowed(r *http.Request) bool {
	la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok || la == nil || !isLoopback(la.String()) {
		return true
	}
	if isLoopback(r.Host) {
		return true
	}
	return h.publicHost != "" && strings.EqualFold(r.Host, h.publicHost)
}

// hostRefused says why a Host was refused and what fixes it: a server
// reached through a tunnel or proxy must know the address clients use.
func hostRefused(host string) string {
	if len(host) > 100 {
		cut := 100
		for cut > 0 && !utf8.RuneStart(host[cut]) {
			cut--
		}
		host = host[:cut] + "…"
	}
	return fmt.Sprintf("the Host %s is not this server's public address: if clients reach this server at that address "+
		"(through a tunnel or reverse proxy), set BIGIN_MCP_PUBLIC_URL to the URL they use, e.g. https://%s, and mint the URLs again", host, host)
}

func isLoopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// corsAllowHeaders are the request headers a browser client may send: the
// MCP headers of every protocol version, including the 2026-07-28
// Mcp-Method and Mcp-Name (Mcp-Param-* headers are echoed one by one, as
// CORS has no prefix wildcard).
const corsAllowHeaders = "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID"

// cors refuses a browser Origin that is not allowed, lets an allowed one
// read the answer, and answers a preflight (OPTIONS) with the endpoint's
// methods.
func (h *Handler) cors(methods string) step {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if origin := r.Header.Get("Origin"); origin != "" {
				if !h.origins[strings.ToLower(strings.TrimRight(origin, "/"))] {
					writeRPCError(w, nil, tokens.CodePermissionDenied, "this Origin is not allowed; add it to BIGIN_MCP_ALLOWED_ORIGINS")
					return
				}
				hdr := w.Header()
				hdr.Set("Access-Control-Allow-Origin", origin)
				hdr.Add("Vary", "Origin")
				hdr.Set("Access-Control-Expose-Headers", "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate")
			}
			if r.Method == http.MethodOptions {
				hdr := w.Header()
				hdr.Set("Access-Control-Allow-Methods", methods)
				hdr.Set("Access-Control-Allow-Headers", corsAllowHeaders+paramHeaders(r.Header.Values("Access-Control-Request-Headers")))
				hdr.Set("Access-Control-Max-Age", "600")
				hdr.Set("Allow", methods)
				w.WriteHeader(http.StatusNoContent)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// paramHeaders returns ", "-prefixed the Mcp-Param-* headers a preflight
// asks for, which the allow list cannot name in advance.
func paramHeaders(requested []string) string {
	var b strings.Builder
	for _, v := range requested {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if len(name) > len("mcp-param-") && len(name) <= 128 && strings.EqualFold(name[:len("mcp-param-")], "mcp-param-") && validToken(name) {
				b.WriteString(", ")
				b.WriteString(name)
			}
		}
	}
	return b.String()
}

// validToken reports whether s is an HTTP token (a header name).
func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

type resolvedKey struct{}

// resolvedFrom returns the URL resolveURL found for the request.
func resolvedFrom(ctx context.Context) *tokens.Resolved {
	res, _ := ctx.Value(resolvedKey{}).(*tokens.Resolved)
	return res
}

// resolveURL looks the path's token up: one 404 for every URL that is not
// a live MCP URL, 503 while this replica cannot confirm its view of the
// store. It names the URL's server on the request's log line.
func (h *Handler) resolveURL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := h.opts.Resolver.Resolve(r.Context(), r.PathValue("token"))
		if errors.Is(err, tokens.ErrUnavailable) {
			w.Header().Set("Retry-After", "1")
			writeRPCError(w, nil, tokens.CodeUnavailable, "this replica cannot confirm its view of the store is current; try again shortly")
			return
		}
		if err != nil {
			if !errors.Is(err, tokens.ErrNotFound) {
				h.logger.Error("resolve MCP token", "err", err)
			}
			h.notFound(w, nil)
			return
		}
		httpx.Annotate(r.Context(), "mcp_server_id", res.Server.ID)
		httpx.Annotate(r.Context(), "mcp_token", "bmcp_…")
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), resolvedKey{}, res)))
	})
}

// authenticate admits the request with the credential its URL's auth
// mode asks for (authenticators) and makes who it found the request's
// caller (tokens.CallerFrom), or answers the refusal.
func (h *Handler) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := resolvedFrom(r.Context())
		mode := res.Server.Config.AuthMode()
		auth, ok := authenticators[mode]
		if !ok { // a mode whose constant exists without its entry
			h.logger.Error("MCP URL has an auth mode without an authenticator", "auth", mode, "mcp_server_id", res.Server.ID)
			writeRPCError(w, nil, tokens.CodeInternal, "internal error; the server log has the details")
			return
		}
		who, no := auth(h, r, res)
		if no != nil {
			no.write(w)
			return
		}
		next.ServeHTTP(w, httpx.Identify(r, who))
	})
}

type bodyKey struct{}

// bodyFrom returns the body readBody read (nil for a request without
// one).
func bodyFrom(ctx context.Context) []byte {
	b, _ := ctx.Value(bodyKey{}).([]byte)
	return b
}

// readBody reads the body of a POST: JSON (or no Content-Type) of at most
// httpx.MaxBodyBytes, refused before a byte of it is read when its
// Content-Length says it is larger. The body is in the context (bodyFrom)
// and read again from r.Body.
func readBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "" {
			if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
				writeRPCError(w, nil, tokens.CodeUnsupportedMediaType, "Content-Type must be application/json")
				return
			}
		}
		if r.ContentLength > httpx.MaxBodyBytes {
			writeRPCError(w, nil, tokens.CodeTooLarge, "request body is over 1 MiB")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			switch {
			case errors.As(err, &mbe):
				writeRPCError(w, nil, tokens.CodeTooLarge, "request body is over 1 MiB")
			case errors.Is(err, httpx.ErrBodyTimeout):
				writeRPCError(w, nil, tokens.CodeRequestTimeout, "the request body did not arrive in time")
			default:
				writeRPCError(w, nil, tokens.CodeInvalidArgument, "could not read the request body")
			}
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), bodyKey{}, body))
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}
