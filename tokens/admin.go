package tokens

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/bigin-mcp/bigin-mcp/store"
)

// MaxBodyBytes bounds every admin request body (SPEC §4).
const MaxBodyBytes = 1 << 20

// Register mounts the admin API (SPEC §4) on mux: everything under /admin/
// and the integration guides' alias /integrated-account/{id}/mcp…. Every
// request must carry an API token, even one for a path that does not exist.
// More specific patterns registered on mux by others (such as
// POST /admin/connect-links) take precedence.
func (s *Service) Register(mux *http.ServeMux) {
	api := http.NewServeMux()
	route := func(pattern string, h func(http.ResponseWriter, *http.Request) error) {
		api.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			Annotate(r.Context(), "route", r.Pattern)
			if err := h(w, r); err != nil {
				s.writeErr(w, r, err)
			}
		})
	}
	route("POST /admin/api-tokens", s.handleCreateAPIToken)
	route("GET /admin/api-tokens", s.handleListAPITokens)
	route("DELETE /admin/api-tokens/{id}", s.handleDeleteAPIToken)

	route("POST /admin/connect-links", s.handleCreateConnectLink)

	route("POST /admin/integrated-accounts", s.handleCreateAccount)
	route("GET /admin/integrated-accounts", s.handleListAccounts)
	route("GET /admin/integrated-accounts/{id}", s.handleGetAccount)
	route("PATCH /admin/integrated-accounts/{id}", s.handlePatchAccount)
	route("DELETE /admin/integrated-accounts/{id}", s.handleDeleteAccount)

	for _, prefix := range []string{"/admin/integrated-accounts/{id}/mcp", "/integrated-account/{id}/mcp"} {
		route("POST "+prefix, s.handleCreateMCPServer)
		route("GET "+prefix, s.handleListMCPServers)
		route("GET "+prefix+"/{mcp_id}", s.handleGetMCPServer)
		route("PATCH "+prefix+"/{mcp_id}", s.handlePatchMCPServer)
		route("DELETE "+prefix+"/{mcp_id}", s.handleDeleteMCPServer)
	}

	h := s.RequireAPIToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := api.Handler(r); pattern == "" {
			notRouted(api, w, r)
			return
		}
		api.ServeHTTP(w, r)
	}))
	mux.Handle("/admin/", h)
	mux.Handle("/integrated-account/", h)
	s.registerConnect(mux)
}

// notRouted answers a request no admin route matches with the JSON error
// shape instead of ServeMux's plain text: 405 (with Allow) when the path
// exists for other methods, 404 otherwise.
func notRouted(api *http.ServeMux, w http.ResponseWriter, r *http.Request) {
	h, _ := api.Handler(r)
	rec := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusMethodNotAllowed:
		allow := rec.header.Get("Allow")
		w.Header().Set("Allow", allow)
		writeErrorStatus(w, http.StatusMethodNotAllowed, CodeInvalidArgument, "method "+r.Method+" is not allowed here; allowed: "+allow)
	case http.StatusNotFound, 0:
		WriteError(w, CodeNotFound, "no admin endpoint at "+r.Method+" "+r.URL.Path)
	default: // a redirect to the cleaned path
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
	}
}

type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return len(b), nil
}
func (h *headerRecorder) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}

// RequireAPIToken wraps h so that it runs only for requests carrying a
// valid `Authorization: Bearer <api token>`; others get 401 with
// WWW-Authenticate. Changes made by h are audited as that token's.
func (s *Service) RequireAPIToken(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bearer, ok := BearerToken(r)
		if !ok {
			WriteError(w, CodeUnauthenticated, "send Authorization: Bearer <api token>")
			return
		}
		t, err := s.AuthenticateAPIToken(r.Context(), bearer)
		if errors.Is(err, ErrUnauthenticated) {
			WriteError(w, CodeUnauthenticated, "this API token is unknown or was deleted")
			return
		}
		if err != nil {
			s.writeErr(w, r, err)
			return
		}
		Annotate(r.Context(), "api_token_id", t.ID)
		h.ServeHTTP(w, r.WithContext(WithActor(r.Context(), "api_token:"+t.ID)))
	})
}

// BearerToken returns the token of an `Authorization: Bearer <token>`
// header (the scheme is case-insensitive).
func BearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

type actorKey struct{}

// WithActor returns a context whose changes are audited as actor's
// ("api_token:<id>", "system"); without one, changes are the system's.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

func actorOf(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "system"
}

// audit records an admin change. A failure to record it does not undo the
// change (it is already stored); it is logged.
func (s *Service) audit(ctx context.Context, action, accountID, serverID, detail string) {
	e := &store.AuditEntry{
		Time:        s.now().UTC(),
		Actor:       actorOf(ctx),
		Action:      action,
		AccountID:   accountID,
		MCPServerID: serverID,
		Outcome:     "ok",
		Detail:      detail,
	}
	if err := s.db.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		s.logger.WarnContext(ctx, "audit entry not recorded", "action", action, "err", err)
	}
}

// decodeBody reads one JSON object from r into dst: Content-Type must be
// application/json, the body at most 1 MiB, and every field known.
func decodeBody(w http.ResponseWriter, r *http.Request, dst any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &Error{Code: CodeUnsupportedMediaType, Message: "Content-Type must be application/json"}
	}
	if r.ContentLength > MaxBodyBytes {
		return &Error{Code: CodeTooLarge, Message: "request body is over 1 MiB"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if errors.Is(err, io.EOF) {
			err = errEmptyBody
		}
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return decodeError(err)
		}
		return invalidf("the request body must hold exactly one JSON object")
	}
	return nil
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// page is a list answer: {"result": [...], "next_cursor": "…" | null}.
type page[T any] struct {
	Result     []T     `json:"result"`
	NextCursor *string `json:"next_cursor"`
}

func newPage[T any](items []T, more bool, lastID string) page[T] {
	p := page[T]{Result: items}
	if p.Result == nil {
		p.Result = []T{}
	}
	if more && lastID != "" {
		c := encodeCursor(lastID)
		p.NextCursor = &c
	}
	return p
}

// listParams reads ?limit= (1–100, default 20) and ?next_cursor= (opaque:
// base64url of the last ID of the previous page).
func listParams(r *http.Request) (after string, limit int, err error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "", 0, invalidf("the query string is malformed (check its %%-escapes)")
	}
	limit = 20
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return "", 0, invalidf("limit must be a whole number from 1 to 100")
		}
		limit = n
	}
	if c := q.Get("next_cursor"); c != "" {
		after, err = decodeCursor(c)
		if err != nil {
			return "", 0, err
		}
	}
	return after, limit, nil
}

func encodeCursor(lastID string) string { return base64.RawURLEncoding.EncodeToString([]byte(lastID)) }

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if _, perr := uuid.Parse(string(b)); perr == nil {
			return string(b), nil
		}
	}
	return "", invalidf("next_cursor is not one this server issued; pass the next_cursor of the previous page, or none for the first page")
}

// newID returns a new record ID: a UUIDv7, so that ID order (the store's
// list order) is creation order.
func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// checkName validates a human name for a record.
func checkName(name, field string) (string, error) {
	n := strings.TrimSpace(name)
	switch {
	case n == "":
		return "", invalidf("%s is required", field)
	case utf8.RuneCountInString(n) > 200:
		return "", invalidf("%s must be at most 200 characters", field)
	case strings.IndexFunc(n, unicode.IsControl) >= 0:
		return "", invalidf("%s must not contain control characters", field)
	}
	return n, nil
}

func utc(t time.Time) time.Time { return t.UTC() }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
