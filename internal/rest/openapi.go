package rest

import (
	"net/http"

	"github.com/bigin-mcp/bigin-mcp/internal/route"
)

// errorBody is the error shape of every HTTP API but MCP's JSON-RPC.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Upstream is Zoho's side of a failure Zoho answered; never set on a
	// refusal of the server's own.
	Upstream *upstream `json:"upstream,omitempty" jsonschema:"Zoho's side of the failure, when Zoho answered."`
}

// upstream is Zoho's side of a failure, in the error shape's "upstream".
type upstream struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// deleted is the result of a delete call.
type deleted struct {
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

// document builds the OpenAPI 3.1 document of the HTTP APIs from the
// route tables: others (the admin API, health) and the REST face's. MCP
// endpoints speak JSON-RPC and are not in it.
func (a *API) document(others []route.Group) ([]byte, error) {
	errResp := func(status int, desc string, headers map[string]route.Header) route.Response {
		return route.Response{Status: status, Description: desc, Schema: route.Ref("Error"), Headers: headers}
	}
	quota := quotaHeaders()
	quota["Retry-After"] = route.Header{Description: "Seconds to wait before retrying.", Schema: route.Integer(0, 1<<31-1)}
	quota["RateLimit-Limit"] = route.Header{Description: "The refusing limit's budget of calls: Zoho's quota, or the integrated account's own limit.", Schema: route.Integer(0, 1<<31-1)}
	return route.Document(route.Spec{
		Title:   "bigin-mcp",
		Version: "1",
		Description: "The HTTP APIs of bigin-mcp beside MCP: the admin API, the account's tools as plain JSON, the Unified User Directory API and the Proxy API for Zoho Bigin. " +
			"Every error has the shape {\"error\": {\"code\", \"message\"}}.",
		ServerURL:      a.public,
		SecurityScheme: "An API token (bmcp_api_…). Tokens may be limited to accounts (account_ids) and surfaces (scopes: admin, tools, unified, proxy, mcp); outside its limits a token gets 403.",
		Errors: []route.Response{
			errResp(http.StatusBadRequest, "Bad input (invalid_argument): the message names the field.", nil),
			errResp(http.StatusUnauthorized, "Missing or unknown API token (unauthenticated).", map[string]route.Header{"WWW-Authenticate": {Schema: route.String()}}),
			errResp(http.StatusForbidden, "The API token's scopes or account_ids do not allow this (permission_denied).", nil),
			errResp(http.StatusNotFound, "No such account, tool, resource or record (not_found).", nil),
			errResp(http.StatusConflict, "A conflict, or reauthorization_required: Zoho refused the account's refresh token and it must be connected again.", nil),
			errResp(http.StatusRequestEntityTooLarge, "The body is over 1 MiB (too_large).", nil),
			errResp(http.StatusUnsupportedMediaType, "The body is not application/json (unsupported_media_type).", nil),
			errResp(http.StatusTooManyRequests, "Over a rate limit (rate_limited), never retried by the server: Zoho's (upstream holds Zoho's status, code and message), "+
				"or the integrated account's own, refused before Zoho was called (no upstream).", quota),
			errResp(http.StatusBadGateway, "Zoho answered with an error, or could not be reached (upstream_error); upstream holds Zoho's status, code and message when Zoho answered.", nil),
			errResp(http.StatusGatewayTimeout, "Zoho did not answer in time (upstream_error).", nil),
		},
		Schemas: map[string]*route.Schema{
			"Error": route.For[errorBody](func(s *route.Schema) {
				route.Field(s, "error.code").Examples = []any{"invalid_argument"}
			}),
			"Deleted": route.For[deleted](func(s *route.Schema) {
				var yes any = true
				route.Field(s, "deleted").Const = &yes
			}),
		},
		Groups: append(others, a.groups()...),
	})
}
