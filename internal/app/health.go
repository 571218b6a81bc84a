package app

import (
	"net/http"

	"github.com/bigin-mcp/bigin-mcp/internal/route"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// healthStatus is the body of /healthz and /readyz.
type healthStatus struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty" jsonschema:"Why the server is not ready."`
}

// healthRoutes is the table of the public health endpoints: /healthz (the
// process is up) and /readyz (the store is open and the URL index
// current). The mux and the OpenAPI document both read it.
func healthRoutes(store tokens.Store, svc *tokens.Service) route.Group {
	status := func(desc string, code int) route.Response {
		return route.Response{Status: code, Description: desc, Schema: route.Ref("Status")}
	}
	return route.Group{
		Tag: "Health", TagDescription: "Liveness, readiness and this document; no auth.", Public: true,
		Schemas: map[string]*route.Schema{"Status": route.For[healthStatus](route.Enum("status", "ok", "ready", "unavailable"))},
		Routes: []route.Route{
			{Method: "GET", Path: healthzPath, Handle: func(w http.ResponseWriter, r *http.Request) error {
				writeBody(w, http.StatusOK, `{"status":"ok"}`)
				return nil
			}, Ops: []route.Operation{{ID: "health", Summary: "The process is up.", Responses: []route.Response{status("Up.", http.StatusOK)}}}},
			{Method: "GET", Path: readyzPath, Handle: func(w http.ResponseWriter, r *http.Request) error {
				if err := store.Ping(); err != nil {
					writeBody(w, http.StatusServiceUnavailable, `{"status":"unavailable","reason":"store is not open"}`)
					return nil
				}
				if err := svc.Available(); err != nil {
					writeBody(w, http.StatusServiceUnavailable, `{"status":"unavailable","reason":"the URL index cannot confirm it is current"}`)
					return nil
				}
				writeBody(w, http.StatusOK, `{"status":"ready"}`)
				return nil
			}, Ops: []route.Operation{{ID: "readyz", Summary: "The store is open and the URL index current.", Responses: []route.Response{
				status("Ready.", http.StatusOK), status("Not ready: reason says why.", http.StatusServiceUnavailable),
			}}}},
		},
	}
}
