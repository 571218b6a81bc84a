package tokens

// THIS FILE IS THE CONTRACT OF THE TOKENS PACKAGE, written first so that the
// mcp package and cmd/bigin-mcp can be built against it in parallel. The
// implementation replaces these bodies (moving them to files per concept:
// catalog.go, config.go, token.go, service.go, admin.go, sweeper.go ...) but
// keeps the exported names and signatures. Additions are fine.

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/store"
)

// Errors returned by Service; test with errors.Is.
var (
	// ErrNotFound: the token is unknown, deleted or expired (one error for all).
	ErrNotFound = errors.New("not found")
	// ErrUnauthenticated: a missing or bad API token.
	ErrUnauthenticated = errors.New("unauthenticated")
)

// Method names of SPEC §4.
const (
	MethodList   = "list"
	MethodGet    = "get"
	MethodCreate = "create"
	MethodUpdate = "update"
	MethodDelete = "delete"
)

// Tool is the policy view of one MCP tool: its name, method and tags (SPEC §6).
type Tool struct {
	Name   string
	Method string
	Tags   []string
}

// Catalog returns the seven tools of SPEC §6 in their published order.
func Catalog() []Tool { panic("unimplemented") }

// Config is the policy of one MCP URL (SPEC §4 config rules), as stored.
type Config = store.MCPConfig

// AllowedTools returns the names of the catalog tools the config allows, in
// catalog order. methods AND tags apply; empty means all.
func AllowedTools(c Config) []string { panic("unimplemented") }

// HashToken returns the SHA-256 of a token, the only form ever stored.
func HashToken(token string) [32]byte { panic("unimplemented") }

// AccountInfo is what a resolved MCP URL needs to know of its account,
// without secrets.
type AccountInfo struct {
	ID         string
	Name       string
	Datacenter string
	OrgID      string
	OrgName    string
	Status     string
	// CredentialsVersion changes whenever the account's client or refresh
	// token changes, so a cached Bigin client can tell it is stale.
	CredentialsVersion int64
}

// Resolved is an MCP URL token resolved to its server, account and tools.
type Resolved struct {
	Server  store.MCPServer
	Account AccountInfo
	Tools   []string // allowed tool names, in catalog order
	// Version changes whenever the server's config, name or expiry or its
	// account changes; a cached MCP server built for one version is stale
	// for another.
	Version int64
	// Done is closed when this resolution stops being valid: the server was
	// changed, deleted or expired, or its account deleted. Open SSE streams
	// close on it.
	Done <-chan struct{}
}

// ServiceOptions configures NewService.
type ServiceOptions struct {
	PublicURL   string // base of minted URLs, no trailing slash
	Datacenters bigin.Datacenters
	// ZohoClientID and ZohoClientSecret are the default OAuth client for
	// accounts created without their own.
	ZohoClientID     string
	ZohoClientSecret string
	HTTPClient       *http.Client // for Zoho calls; nil = default
	Now              func() time.Time
	Logger           *slog.Logger
}

// Service owns MCP URL tokens, API tokens and their policy. It keeps an
// in-memory index of every MCP server, coherent with the store on every
// change, so Resolve costs no disk read.
type Service struct{}

// NewService loads the index from db.
func NewService(ctx context.Context, db *store.DB, opts ServiceOptions) (*Service, error) {
	panic("unimplemented")
}

// Resolve maps an MCP URL token to its server; ErrNotFound when unknown,
// deleted or expired.
func (s *Service) Resolve(ctx context.Context, token string) (*Resolved, error) {
	panic("unimplemented")
}

// AuthenticateAPIToken checks a bearer API token (constant-time compare of
// hashes); ErrUnauthenticated when missing or unknown.
func (s *Service) AuthenticateAPIToken(ctx context.Context, token string) (*store.APIToken, error) {
	panic("unimplemented")
}

// MarkNeedsReauth sets the account's status to needs_reauth (Zoho refused
// its refresh token).
func (s *Service) MarkNeedsReauth(ctx context.Context, accountID string) error {
	panic("unimplemented")
}

// Bootstrap makes sure an API token exists: when envToken is set it is
// registered (idempotently); otherwise, when no API token exists, one is
// generated and returned so the caller can print it once. It returns "" when
// nothing new needs printing.
func (s *Service) Bootstrap(ctx context.Context, envToken string) (string, error) {
	panic("unimplemented")
}

// RunSweeper deletes expired MCP servers every interval until ctx ends.
func (s *Service) RunSweeper(ctx context.Context, interval time.Duration) { panic("unimplemented") }

// Register mounts the admin API (SPEC §4) on mux.
func (s *Service) Register(mux *http.ServeMux) { panic("unimplemented") }

// Error codes of SPEC §4's single error shape.
const (
	CodeInvalidArgument      = "invalid_argument"
	CodeUnauthenticated      = "unauthenticated"
	CodePermissionDenied     = "permission_denied"
	CodeNotFound             = "not_found"
	CodeConflict             = "conflict"
	CodeTooLarge             = "too_large"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeRateLimited          = "rate_limited"
	CodeUpstreamError        = "upstream_error"
	CodeInternal             = "internal"
)

// WriteError writes {"error":{"code","message"}} with the status that SPEC §4
// gives the code. The message must never hold a token or secret.
func WriteError(w http.ResponseWriter, code, message string) { panic("unimplemented") }
