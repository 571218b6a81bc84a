// Package oauth is the authorization server of oauth MCP URLs (MCP
// authorization: OAuth 2.1 with PKCE, RFC 8414 and RFC 9728 metadata,
// RFC 8707 resources, RFC 9207 iss, Client ID Metadata Documents and
// Dynamic Client Registration). The person who approves a client signs
// in with Zoho and is admitted only as an active user of the URL's Bigin
// organization; the rules live in tokens.OAuth, this package speaks HTTP.
package oauth

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/clock"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/internal/ratelimit"
	"github.com/bigin-mcp/bigin-mcp/internal/zoho"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Paths of the authorization server.
const (
	AuthorizePath = "/oauth/authorize"
	ConsentPath   = "/oauth/consent"
	TokenPath     = "/oauth/token"
	RegisterPath  = "/oauth/register"

	asMetadataPath  = "/.well-known/oauth-authorization-server"
	prmMetadataPath = "/.well-known/oauth-protected-resource"
)

// ResourceMetadataURL is the protected resource metadata document of the
// MCP URL with this token, which 401 answers name.
func ResourceMetadataURL(publicURL, urlToken string) string {
	return strings.TrimRight(publicURL, "/") + prmMetadataPath + "/mcp/" + urlToken
}

// Options configures New.
type Options struct {
	OAuth       *tokens.OAuth
	Zoho        *zoho.Zoho
	Datacenters bigin.Datacenters
	PublicURL   string
	// ZohoClientID and ZohoClientSecret are the server's Zoho OAuth
	// client, the one connect links use; its redirect URI (PublicURL +
	// CallbackPath) serves sign-ins too.
	ZohoClientID     string
	ZohoClientSecret string
	// CallbackPath is the Zoho redirect path (the connect pages' callback,
	// which hands sign-in states to HandleZohoCallback).
	CallbackPath string
	// Key seals the states that travel through the browser (32 bytes;
	// derive it from the secret key so they survive a restart).
	Key []byte
	// CIMD configures fetching Client ID Metadata Documents.
	CIMD CIMDOptions
	// RegistrationsPerAddress is how many clients one client address may
	// register per RegistrationWindow (0 means
	// DefaultRegistrationsPerAddress); at most MaxRegistrations, the
	// limit across the server.
	RegistrationsPerAddress int
	Clock                   clock.Clock
	Logger                  *slog.Logger
}

// Handler serves the authorization server.
type Handler struct {
	o         *tokens.OAuth
	zoho      *zoho.Zoho
	dcs       bigin.Datacenters
	publicURL string
	// origin is the public URL's origin, which consent posts must name.
	origin   string
	creds    tokens.Credentials
	callback string
	sealer   *sealer
	consents *consents
	// registrations and registerAddrs bound Dynamic Client
	// Registration, across the server and per client address.
	registrations   registrations
	registerAddrs   *ratelimit.Limiter
	registerPerAddr ratelimit.Limit
	clients         *clientResolver
	now             func() time.Time
	logger          *slog.Logger
}

// New returns the authorization server.
func New(o Options) (*Handler, error) {
	if o.OAuth == nil || o.Zoho == nil {
		return nil, errors.New("oauth: OAuth and Zoho are required")
	}
	u, err := url.Parse(o.PublicURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("oauth: public URL %q is not an absolute URL", o.PublicURL)
	}
	s, err := newSealer(o.Key)
	if err != nil {
		return nil, err
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	clk := clock.OrSystem(o.Clock)
	perAddr := cmp.Or(o.RegistrationsPerAddress, DefaultRegistrationsPerAddress)
	if perAddr < 0 || perAddr > MaxRegistrations {
		return nil, fmt.Errorf("oauth: %d registrations per address is not from 1 to %d", perAddr, MaxRegistrations)
	}
	if o.CIMD.FetchesPerAddress < 0 {
		return nil, fmt.Errorf("oauth: %d document fetches per address is negative", o.CIMD.FetchesPerAddress)
	}
	origin, ok := originOf(o.PublicURL)
	if !ok {
		return nil, fmt.Errorf("oauth: public URL %q is not an http or https URL", o.PublicURL)
	}
	return &Handler{
		origin: origin,
		o:      o.OAuth, zoho: o.Zoho, dcs: o.Datacenters,
		publicURL:     strings.TrimRight(o.PublicURL, "/"),
		creds:         tokens.Credentials{ClientID: o.ZohoClientID, ClientSecret: o.ZohoClientSecret},
		callback:      o.CallbackPath,
		sealer:        s,
		consents:      &consents{used: map[string]time.Time{}},
		registerAddrs: ratelimit.New(clk),
		// One registration back every RegistrationWindow/perAddr.
		registerPerAddr: ratelimit.Limit{Requests: perAddr, Per: RegistrationWindow},
		clients:         newClientResolver(o.OAuth, o.CIMD, clk, logger),
		now:             clk.Now,
		logger:          logger,
	}, nil
}

// Register mounts the metadata documents, the OAuth endpoints and the JSON
// 404 for every other /.well-known path.
func (h *Handler) Register(mux httpx.Router) {
	mux.HandleFunc("GET "+asMetadataPath, h.handleASMetadata)
	mux.HandleFunc("GET "+prmMetadataPath+"/mcp/{token}", h.handlePRM)
	mux.HandleFunc("/.well-known/", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteErrorStatus(w, http.StatusNotFound, tokens.CodeNotFound, "no such metadata document")
	})
	mux.HandleFunc("GET "+AuthorizePath, h.handleAuthorize)
	mux.HandleFunc("POST "+ConsentPath, h.handleConsent)
	mux.HandleFunc(TokenPath, h.handleToken)
	mux.HandleFunc(RegisterPath, h.handleRegister)
}

func (h *Handler) handleASMetadata(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"issuer":                                         h.publicURL,
		"authorization_endpoint":                         h.publicURL + AuthorizePath,
		"token_endpoint":                                 h.publicURL + TokenPath,
		"registration_endpoint":                          h.publicURL + RegisterPath,
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"none"},
		"client_id_metadata_document_supported":          true,
		"authorization_response_iss_parameter_supported": true,
	})
}

func (h *Handler) handlePRM(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	res, err := h.o.Resolve(r.Context(), tok)
	if err != nil {
		httpx.WriteErrorStatus(w, http.StatusNotFound, tokens.CodeNotFound, "no OAuth-protected MCP server at this URL (unknown, deleted, expired or not an oauth URL)")
		return
	}
	httpx.Annotate(r.Context(), "mcp_server_id", res.Server.ID)
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"resource":                 h.resourceURL(tok),
		"authorization_servers":    []string{h.publicURL},
		"bearer_methods_supported": []string{"header"},
		"resource_name":            res.Server.Name,
	})
}

// resourceURL is the MCP URL of a token, the resource of its grants.
func (h *Handler) resourceURL(urlToken string) string { return h.publicURL + "/mcp/" + urlToken }

// resourceToken returns the MCP URL token a resource parameter names, or
// "" when it is not one of this server's MCP URLs.
func (h *Handler) resourceToken(resource string) string {
	rest, ok := strings.CutPrefix(resource, h.publicURL+"/mcp/")
	if !ok || rest == "" || strings.ContainsAny(rest, "/?#") {
		return ""
	}
	return rest
}
