package admin

import (
	"encoding/json"
	"net/http"

	"github.com/bigin-mcp/bigin-mcp/internal/route"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// mcpPrefixes are where the MCP URL endpoints are served: under the
// account, and at the integration guides' alias.
var mcpPrefixes = []string{"/admin/integrated-accounts/{id}/mcp", "/integrated-account/{id}/mcp"}

// Routes is the admin API's table: every route under /admin/ and the
// alias /integrated-account/{id}/mcp…, each with its OpenAPI operation.
// Register mounts it; the REST face's /openapi.json documents it.
func (a *API) Routes() route.Group {
	accountID := route.PathParam("id", "The integrated account's id.")
	mcpID := route.PathParam("mcp_id", "The MCP server's id.")
	created := func(desc, schema string) route.Response {
		return route.Response{Status: http.StatusCreated, Description: desc, Schema: route.Ref(schema)}
	}
	ok := func(desc string, schema *route.Schema) route.Response {
		return route.Response{Status: http.StatusOK, Description: desc, Schema: schema}
	}
	deleted := route.Response{Status: http.StatusNoContent, Description: "Done."}
	list := listParams()
	bodyErrs := []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType}

	routes := []route.Route{
		{Method: "POST", Path: "/admin/api-tokens", Handle: a.handleCreateAPIToken, Ops: []route.Operation{{
			ID: "createAPIToken", Summary: "Create an API token",
			Description: "The token value is shown only in this answer. `account_ids` limits the token to those integrated accounts; `scopes` to those surfaces (absent or empty: all). A token limited to accounts cannot have the admin scope; without scopes it gets tools, unified and proxy.",
			Body:        route.Ref("APITokenInput"), Responses: []route.Response{created("Created.", "APITokenCreated")}, Errors: bodyErrs,
		}}},
		{Method: "GET", Path: "/admin/api-tokens", Handle: a.handleListAPITokens, Ops: []route.Operation{{
			ID: "listAPITokens", Summary: "List API tokens", Description: "Never shows token values.",
			Params: list, Responses: []route.Response{ok("A page of API tokens.", route.Page(route.Ref("APIToken")))}, Errors: []int{400},
		}}},
		{Method: "DELETE", Path: "/admin/api-tokens/{id}", Handle: a.handleDeleteAPIToken, Ops: []route.Operation{{
			ID: "deleteAPIToken", Summary: "Delete an API token",
			Description: "The token stops working at once. Deleting the last API token is refused (409).",
			Params:      []route.Param{route.PathParam("id", "The API token's id.")}, Responses: []route.Response{deleted}, Errors: []int{404, 409},
		}}},

		{Method: "POST", Path: "/admin/connect-links", Handle: a.handleCreateConnectLink, Ops: []route.Operation{{
			ID: "createConnectLink", Summary: "Create a connect link",
			Description: "A one-time link an end customer follows to connect their own Bigin organization. With `account_id` it is a reconnect link: its consent replaces that account's Zoho grant (same organization only) and sets it active again, keeping its id and MCP URLs. `url` is shown only in this answer.",
			Body:        route.Ref("ConnectLinkInput"), Responses: []route.Response{created("Created.", "ConnectLinkCreated")}, Errors: bodyErrs,
		}}},
		{Method: "GET", Path: "/admin/connect-links", Handle: a.handleListConnectLinks, Ops: []route.Operation{{
			ID: "listConnectLinks", Summary: "List connect links",
			Description: "Each link's state and what became of it; never a link's token or URL.",
			Params:      list, Responses: []route.Response{ok("A page of connect links.", route.Page(route.Ref("ConnectLink")))}, Errors: []int{400},
		}}},
		{Method: "DELETE", Path: "/admin/connect-links/{id}", Handle: a.handleRevokeConnectLink, Ops: []route.Operation{{
			ID: "revokeConnectLink", Summary: "Revoke a connect link",
			Description: "A link not used yet stops working at once (again is harmless); a used link is refused (409).",
			Params:      []route.Param{route.PathParam("id", "The connect link's id.")}, Responses: []route.Response{deleted}, Errors: []int{404, 409},
		}}},

		{Method: "GET", Path: "/admin/audit", Handle: a.handleAudit, Ops: []route.Operation{{
			ID: "listAudit", Summary: "Read the audit log",
			Description: "Entries newest first, filtered; paged, or with `format=jsonl` the whole selection as one JSON object per line (no `limit` or `next_cursor` then).",
			Params:      auditQuery(),
			Responses: []route.Response{
				ok("A page of audit entries.", route.Page(route.Ref("AuditEntry"))),
				{Status: http.StatusOK, ContentType: "application/jsonl", Schema: route.Describe(route.String(), "One audit entry (JSON) per line.")},
			},
			Errors: []int{400},
		}}},

		{Method: "POST", Path: "/admin/integrated-accounts", Handle: a.handleCreateAccount, Ops: []route.Operation{{
			ID: "createAccount", Summary: "Connect an integrated account",
			Description: "The server refreshes the token once and reads the organization to prove the credentials. Secrets are never echoed.",
			Body:        route.Ref("AccountInput"), Responses: []route.Response{created("Created; `warnings` says when the Zoho org was connected already.", "AccountCreated")}, Errors: append(bodyErrs, 502),
		}}},
		{Method: "GET", Path: "/admin/integrated-accounts", Handle: a.handleListAccounts, Ops: []route.Operation{{
			ID: "listAccounts", Summary: "List integrated accounts",
			Params: list, Responses: []route.Response{ok("A page of accounts.", route.Page(route.Ref("Account")))}, Errors: []int{400},
		}}},
		{Method: "GET", Path: "/admin/integrated-accounts/{id}", Handle: a.handleGetAccount, Ops: []route.Operation{{
			ID: "getAccount", Summary: "Get an integrated account",
			Params: []route.Param{accountID}, Responses: []route.Response{ok("The account.", route.Ref("Account"))}, Errors: []int{404},
		}}},
		{Method: "PATCH", Path: "/admin/integrated-accounts/{id}", Handle: a.handlePatchAccount, Ops: []route.Operation{{
			ID: "updateAccount", Summary: "Change an integrated account",
			Description: "New credentials are verified as on create and reset status to active. `\"rate_limit\": null` removes the account's limit.",
			Params:      []route.Param{accountID}, Body: route.Ref("AccountPatch"),
			Responses: []route.Response{ok("The changed account.", route.Ref("Account"))}, Errors: append(bodyErrs, 404, 502),
		}}},
		{Method: "DELETE", Path: "/admin/integrated-accounts/{id}", Handle: a.handleDeleteAccount, Ops: []route.Operation{{
			ID: "deleteAccount", Summary: "Delete an integrated account",
			Description: "Its MCP URLs stop working at once and are deleted.",
			Params:      []route.Param{accountID}, Responses: []route.Response{deleted}, Errors: []int{404},
		}}},
	}
	for i, prefix := range mcpPrefixes {
		suffix, note := "", ""
		if i == 1 {
			suffix, note = "Alias", " (the integration guides' path; the same as under /admin/integrated-accounts)"
		}
		grantID := route.PathParam("grant_id", "The OAuth grant's id.")
		routes = append(routes,
			route.Route{Method: "POST", Path: prefix, Handle: a.handleCreateMCPServer, Ops: []route.Operation{{
				ID: "createMCPServer" + suffix, Summary: "Mint an MCP URL" + note, Description: "`url` is shown only in this answer.",
				Params: []route.Param{accountID}, Body: route.Ref("MCPServerInput"),
				Responses: []route.Response{created("Created.", "MCPServerCreated")}, Errors: append(bodyErrs, 404),
			}}},
			route.Route{Method: "GET", Path: prefix, Handle: a.handleListMCPServers, Ops: []route.Operation{{
				ID: "listMCPServers" + suffix, Summary: "List an account's MCP URLs" + note,
				Params:    append([]route.Param{accountID}, list...),
				Responses: []route.Response{ok("A page of MCP servers.", route.Page(route.Ref("MCPServer")))}, Errors: []int{400, 404},
			}}},
			route.Route{Method: "GET", Path: prefix + "/{mcp_id}", Handle: a.handleGetMCPServer, Ops: []route.Operation{{
				ID: "getMCPServer" + suffix, Summary: "Get an MCP URL's server" + note,
				Params: []route.Param{accountID, mcpID}, Responses: []route.Response{ok("The MCP server.", route.Ref("MCPServer"))}, Errors: []int{404},
			}}},
			route.Route{Method: "PATCH", Path: prefix + "/{mcp_id}", Handle: a.handlePatchMCPServer, Ops: []route.Operation{{
				ID: "updateMCPServer" + suffix, Summary: "Change an MCP URL's policy or expiry" + note,
				Description: "`\"expires_at\": null` removes the expiry. Takes effect on the next MCP request.",
				Params:      []route.Param{accountID, mcpID}, Body: route.Ref("MCPServerPatch"),
				Responses: []route.Response{ok("The changed MCP server.", route.Ref("MCPServer"))}, Errors: append(bodyErrs, 404),
			}}},
			route.Route{Method: "DELETE", Path: prefix + "/{mcp_id}", Handle: a.handleDeleteMCPServer, Ops: []route.Operation{{
				ID: "deleteMCPServer" + suffix, Summary: "Delete an MCP URL" + note, Description: "The URL answers 404 from the next request.",
				Params: []route.Param{accountID, mcpID}, Responses: []route.Response{deleted}, Errors: []int{404},
			}}},
			route.Route{Method: "GET", Path: prefix + "/{mcp_id}/grants", Handle: a.handleListGrants, Ops: []route.Operation{{
				ID: "listOAuthGrants" + suffix, Summary: "List an oauth URL's grants" + note,
				Description: "Who approved which OAuth client, never a token.",
				Params:      append([]route.Param{accountID, mcpID}, list...),
				Responses:   []route.Response{ok("A page of OAuth grants.", route.Page(route.Ref("OAuthGrant")))}, Errors: []int{400, 404},
			}}},
			route.Route{Method: "DELETE", Path: prefix + "/{mcp_id}/grants/{grant_id}", Handle: a.handleRevokeGrant, Ops: []route.Operation{{
				ID: "revokeOAuthGrant" + suffix, Summary: "End an OAuth grant" + note,
				Description: "Its access and refresh tokens stop working at once.",
				Params:      []route.Param{accountID, mcpID, grantID}, Responses: []route.Response{deleted}, Errors: []int{404},
			}}},
		)
	}
	return route.Group{
		Tag: "Admin", TagDescription: "API tokens, integrated accounts, MCP URLs, OAuth grants, connect links and the audit log.",
		Scope: tokens.ScopeAdmin, What: "admin endpoint", Prefixes: []string{"/admin/", "/integrated-account/"},
		Routes: routes, Schemas: schemas(),
	}
}

// listParams are the admin lists' paging parameters (httpx.ListParams).
func listParams() []route.Param {
	limit := route.Integer(1, 100)
	limit.Default = json.RawMessage("20")
	return []route.Param{
		route.QueryParam("limit", "Items per page, 1 to 100 (default 20).", limit),
		route.QueryParam("next_cursor", "The next_cursor of the previous page.", route.String()),
	}
}

// auditQuery are GET /admin/audit's parameters (auditParams).
func auditQuery() []route.Param {
	at := func() *route.Schema { s := route.String(); s.Format = "date-time"; return s }
	format := route.String()
	format.Enum = []any{"json", "jsonl"}
	format.Default = json.RawMessage(`"json"`)
	return append([]route.Param{
		route.QueryParam("account_id", "Only entries of this integrated account.", route.String()),
		route.QueryParam("mcp_server_id", "Only entries of this MCP server.", route.String()),
		route.QueryParam("tool", "Only calls of this tool.", route.String()),
		route.QueryParam("outcome", "Only this outcome: ok or an error code.", route.String()),
		route.QueryParam("since", "Only entries at or after this time (RFC 3339; escape + as %2B).", at()),
		route.QueryParam("until", "Only entries before this time (RFC 3339).", at()),
		route.QueryParam("format", "json: a page; jsonl: the whole selection, one entry per line.", format),
	}, listParams()...)
}

// schemas are the admin API's component schemas, generated from the Go
// types it reads and answers with.
func schemas() map[string]*route.Schema {
	rateLimit := route.For[tokens.RateLimit](
		route.Range("requests", 1, tokens.MaxRateLimitRequests), route.Range("per_seconds", 1, tokens.MaxRateLimitSeconds))
	rateLimitOrNull := route.Describe(route.Nullable(route.Ref("RateLimit")), "N calls per S seconds; null for none.")
	expiresAt := route.Describe(route.Nullable(&route.Schema{Type: "string", Format: "date-time"}), "RFC 3339, at least 60 s ahead; null for none.")
	return map[string]*route.Schema{
		"RateLimit":       rateLimit,
		"APITokenInput":   route.For[apiTokenInput](route.Enum("scopes", tokens.APIScopes()...)),
		"APIToken":        route.For[apiTokenView](),
		"APITokenCreated": route.For[apiTokenCreated](),
		"ConnectLinkInput": route.For[connectLinkInput](
			route.Range("expires_in_seconds", int(tokens.MinConnectLinkLifetime.Seconds()), int(tokens.MaxConnectLinkLifetime.Seconds()))),
		"ConnectLinkCreated": route.For[connectLinkView](route.Enum("kind", kindConnect, kindReconnect)),
		"ConnectLink": route.For[connectLinkListView](route.Enum("kind", kindConnect, kindReconnect),
			route.Enum("status", tokens.LinkUsable.String(), tokens.LinkUsed.String(), tokens.LinkExpired.String(), tokens.LinkRevoked.String())),
		"AccountInput": route.For[tokens.NewAccount](route.Optional("client_id", "client_secret", "rate_limit"),
			route.Set("rate_limit", rateLimitOrNull)),
		"AccountPatch":   route.For[accountPatch](route.Set("rate_limit", rateLimitOrNull)),
		"Account":        route.For[accountView](route.Enum("status", tokens.StatusActive, tokens.StatusNeedsReauth), route.Set("rate_limit", rateLimitOrNull)),
		"AccountCreated": route.For[createdAccountView](route.Enum("status", tokens.StatusActive, tokens.StatusNeedsReauth), route.Set("rate_limit", rateLimitOrNull)),
		"ConfigInput": route.For[configInput](
			route.Enum("auth", tokens.AuthURL, tokens.AuthAPIToken, tokens.AuthOAuth),
			route.Set("max_result_chars", route.Describe(route.Nullable(route.Integer(tokens.MinResultChars, tokens.MaxResultChars)), "Characters of result text a list page fills at most; null for the server's budget.")),
			route.Set("rate_limit", rateLimitOrNull),
			route.Set("expires_at", expiresAt)),
		"Config":           route.For[configView](route.Enum("auth", tokens.AuthOAuth), route.Set("rate_limit", rateLimitOrNull)),
		"MCPServerInput":   route.For[mcpInput](route.Set("config", route.Ref("ConfigInput")), route.Set("expires_at", expiresAt)),
		"MCPServerPatch":   route.For[mcpPatch](route.Set("config", route.Ref("ConfigInput")), route.Set("expires_at", expiresAt)),
		"MCPServer":        route.For[mcpServerView](route.Set("config", route.Ref("Config"))),
		"MCPServerCreated": route.For[mcpServerCreated](route.Set("config", route.Ref("Config"))),
		"OAuthGrant":       route.For[grantView](route.Enum("status", grantPending, grantActive)),
		"AuditEntry":       route.For[tokens.AuditEntry](),
	}
}
