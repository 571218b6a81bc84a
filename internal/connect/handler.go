// Package connect serves the pages an end customer sees when they follow a
// connect link: the datacenter picker, the redirect to Zoho's consent with
// a signed state, and the OAuth callback that creates the integrated
// account (or, for a reconnect link, gives the account it names a new
// Zoho grant). The links themselves are minted through the admin API and
// the web UI.
package connect

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/clock"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/internal/zoho"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// CallbackPath is the OAuth redirect path; the Zoho client's redirect URI
// is PublicURL + CallbackPath.
const CallbackPath = "/oauth/zoho/callback"

// stateLifetime bounds the time between leaving for Zoho's consent page
// and coming back; a state never outlives its link either.
const stateLifetime = 15 * time.Minute

// Options configures New.
type Options struct {
	Service     *tokens.Service
	Zoho        *zoho.Zoho
	Datacenters bigin.Datacenters
	PublicURL   string
	// ZohoClientID and ZohoClientSecret are the server's OAuth client, the
	// one connect links consent to.
	ZohoClientID     string
	ZohoClientSecret string
	// StateKey signs the OAuth state (at least 32 bytes; derive it from the
	// secret key so states survive a restart). Empty means a random key
	// for this process.
	StateKey []byte
	// SignIn, when set, is offered every callback first; it handles those
	// that belong to the OAuth front door's sign-in (which shares the
	// Zoho client and its redirect URI) and reports whether it did.
	SignIn func(http.ResponseWriter, *http.Request) bool
	Clock  clock.Clock
	Logger *slog.Logger
}

// Handler serves the connect pages.
type Handler struct {
	svc          *tokens.Service
	zoho         *zoho.Zoho
	dcs          bigin.Datacenters
	publicURL    string
	clientID     string
	clientSecret string
	stateKey     []byte
	signIn       func(http.ResponseWriter, *http.Request) bool
	now          func() time.Time
	logger       *slog.Logger
}

// New returns the connect pages' handler.
func New(o Options) *Handler {
	h := &Handler{
		svc: o.Service, zoho: o.Zoho, dcs: o.Datacenters,
		publicURL: strings.TrimRight(o.PublicURL, "/"),
		clientID:  o.ZohoClientID, clientSecret: o.ZohoClientSecret,
		stateKey: o.StateKey, signIn: o.SignIn, now: clock.OrSystem(o.Clock).Now, logger: o.Logger,
	}
	if len(h.stateKey) < 32 {
		h.stateKey = make([]byte, 32)
		_, _ = rand.Read(h.stateKey)
	}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	return h
}

// Register mounts the two pages the end customer sees; they need no API
// token (the link and the signed state are the credentials).
func (h *Handler) Register(mux httpx.Router) {
	mux.HandleFunc("GET /connect/{link}", h.handleConnect)
	mux.HandleFunc("GET "+CallbackPath, h.handleCallback)
}

func (h *Handler) redirectURI() string { return h.publicURL + CallbackPath }
