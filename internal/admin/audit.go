package admin

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// auditParams are the query parameters GET /admin/audit takes.
var auditParams = []string{"account_id", "mcp_server_id", "tool", "outcome", "since", "until", "limit", "next_cursor", "format"}

// auditExportPage is how many entries the jsonl export reads at a time.
const auditExportPage = 500

// handleAudit lists audit entries newest first, filtered, as a page or
// (format=jsonl) as one JSON object per line for the whole selection.
func (a *API) handleAudit(w http.ResponseWriter, r *http.Request) error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return invalidf("the query string is malformed (check its %%-escapes)")
	}
	for k := range q {
		if !slices.Contains(auditParams, k) {
			return invalidf("unknown query parameter %q; valid parameters: %s", k, strings.Join(auditParams, ", "))
		}
	}
	f, err := auditFilter(q)
	if err != nil {
		return err
	}
	switch q.Get("format") {
	case "", "json":
	case "jsonl":
		if q.Has("limit") || q.Has("next_cursor") {
			return invalidf("format=jsonl exports the whole selection: drop limit and next_cursor, or narrow it with since and until")
		}
		return a.exportAudit(w, r, f)
	default:
		return invalidf("format must be json (the default: a page) or jsonl (the whole selection, one entry per line)")
	}
	before, limit, err := httpx.ListParams(r)
	if err != nil {
		return err
	}
	entries, next, err := a.svc.Audit(r.Context(), f, before, limit)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, httpx.NewPage(entries, next != "", next))
	return nil
}

// auditFilter reads the filters of the query.
func auditFilter(q url.Values) (tokens.AuditFilter, error) {
	f := tokens.AuditFilter{
		AccountID: q.Get("account_id"), MCPServerID: q.Get("mcp_server_id"),
		Tool: q.Get("tool"), Outcome: q.Get("outcome"),
	}
	for name, v := range map[string]string{"account_id": f.AccountID, "mcp_server_id": f.MCPServerID, "tool": f.Tool, "outcome": f.Outcome} {
		if len(v) > 200 || strings.IndexFunc(v, unicode.IsControl) >= 0 {
			return f, invalidf("%s is too long or holds control characters", name)
		}
	}
	var err error
	if f.Since, err = auditTime(q, "since"); err != nil {
		return f, err
	}
	if f.Until, err = auditTime(q, "until"); err != nil {
		return f, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, invalidf("since must be before until (since is inclusive, until exclusive)")
	}
	return f, nil
}

func auditTime(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, invalidf("%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z (escape + as %%2B in a query)", name)
	}
	return t.UTC(), nil
}

// exportAudit streams every entry of the selection, newest first, one
// JSON object per line. A failure after the first line cannot change the
// status any more: it is logged and the stream ends early.
func (a *API) exportAudit(w http.ResponseWriter, r *http.Request, f tokens.AuditFilter) error {
	ctx := r.Context()
	entries, next, err := a.svc.Audit(ctx, f, "", auditExportPage)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/jsonl; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `attachment; filename="bigin-mcp-audit.jsonl"`)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	for {
		for _, e := range entries {
			if err := httpx.Encode(w, e); err != nil {
				return nil // the client went away
			}
		}
		_ = rc.Flush()
		if next == "" {
			return nil
		}
		entries, next, err = a.svc.Audit(ctx, f, next, auditExportPage)
		if err != nil {
			if ctx.Err() == nil {
				a.logger.ErrorContext(ctx, "audit export ended early", "request_id", httpx.RequestID(ctx), "err", err)
			}
			return nil
		}
	}
}
