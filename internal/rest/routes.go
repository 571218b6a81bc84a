package rest

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/route"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// groups is the REST face's table: the tools, the Unified User Directory
// API, the Proxy API (each behind its API token scope) and the public
// OpenAPI document. Register mounts it and /openapi.json documents it.
func (a *API) groups() []route.Group {
	var toolNames []any
	for _, e := range a.cat.Entries() {
		toolNames = append(toolNames, e.Name)
	}
	accountID := route.PathParam("id", "The integrated account's id.")
	policy := []route.Param{
		route.QueryParam("methods", "Only tools with these methods (comma-separated): read, write, list, get, create, update, delete. Absent: all.", route.String()),
		route.QueryParam("tags", "Only tools with one of these tags (comma-separated). Absent: all.", route.String()),
		route.QueryParam("modules", "Only these record modules (comma-separated Zoho API names: "+strings.Join(a.cat.Inventory().Modules(), ", ")+
			"): the record tools' module enums list only these, and a call naming another is refused with 403 module_not_allowed. Absent: all.", route.String()),
	}
	acct := route.QueryParam("integrated_account_id", "The integrated account to act on.", route.String())
	acct.Required = true
	limit := route.Integer(1, 200)
	limit.Default = json.RawMessage("100")
	page := []route.Param{
		route.QueryParam("limit", "Records per page, 1 to 200 (default 100).", limit),
		route.QueryParam("next_cursor", "The next_cursor of the previous page.", route.String()),
	}
	numericID := func(what string) route.Param {
		return route.PathParam("id", "Zoho's numeric "+what+" id.", &route.Schema{Type: "string", Pattern: "^[0-9]{1,30}$"})
	}
	// An answer that went through the account's rate limit carries its
	// state (see Quota in writeQuota).
	ok := func(desc string, schema *route.Schema) route.Response {
		return route.Response{Status: http.StatusOK, Description: desc, Schema: schema, Headers: quotaHeaders()}
	}
	callErrs := []int{400, 404, 409, 429, 502, 504}
	toolName := route.PathParam("name", "The tool's name.", &route.Schema{Type: "string", Enum: toolNames})
	str := route.String
	toolResult := &route.Schema{AnyOf: []*route.Schema{
		{Type: "object", Required: []string{"result"}, Properties: map[string]*route.Schema{
			"result":      {},
			"next_cursor": {Types: []string{"null", "string"}},
		}},
		// ChatGPT's search and fetch keep the shapes OpenAI fixes.
		{Type: "object", Required: []string{"results"}, Properties: map[string]*route.Schema{
			"results": route.ArrayOf(&route.Schema{Type: "object", Required: []string{"id", "title", "url"},
				Properties: map[string]*route.Schema{"id": str(), "title": str(), "url": str()}}),
		}},
		{Type: "object", Required: []string{"id", "title", "text", "url"}, Properties: map[string]*route.Schema{
			"id": str(), "title": str(), "text": str(), "url": str(),
			"metadata": {Type: "object", AdditionalProperties: str()},
		}},
	}}

	tools := route.Group{
		Tag: "Tools", TagDescription: "The account's MCP tools as plain JSON.",
		Scope: tokens.ScopeTools, What: "tools endpoint",
		Prefixes: []string{"/integrated-account/{id}/tools", "/integrated-account/{id}/tools/"},
		Routes: []route.Route{
			{Method: "GET", Path: "/integrated-account/{id}/tools", Handle: a.handleListTools, Ops: []route.Operation{{
				ID: "listTools", Summary: "List the account's tools",
				Description: "LLM-ready tool definitions, filtered by `methods`, `tags` and `modules` with the same rules as an MCP URL's config.",
				Params:      append([]route.Param{accountID}, policy...),
				Responses:   []route.Response{{Status: http.StatusOK, Description: "The tools.", Schema: route.Envelope(route.ArrayOf(route.Ref("Tool")))}},
				Errors:      []int{400, 404},
			}}},
			{Method: "POST", Path: "/integrated-account/{id}/tools/{name}", Handle: a.handleCallTool, Ops: []route.Operation{{
				ID: "callTool", Summary: "Call a tool",
				Description: "The body is the tool's arguments (its input_schema). The answer is exactly the MCP tool's structured result: " +
					"list tools `{\"result\": [records], \"next_cursor\"}`, get `{\"result\": {record}}`, delete `{\"result\": {\"id\", \"deleted\": true}}`, " +
					"record writes `{\"result\": [{\"index\", \"id\", \"status\", \"code\", \"message\", \"field\", \"existing_id\"}]}`, one per input record " +
					"(when every record failed: 400, or 409 for duplicates, with `result` beside `error`); " +
					"ChatGPT's `search` `{\"results\": [{\"id\", \"title\", \"url\"}]}` and `fetch` `{\"id\", \"title\", \"text\", \"url\", \"metadata\"}`. " +
					"A tool that `methods`/`tags`/`modules` filter out is unknown (404); a call naming a module outside `modules` is 403 module_not_allowed. " +
					"An `idempotency_key` is kept per API token and account.",
				Params: append([]route.Param{accountID, toolName}, policy...),
				Body:   route.Object("The tool's arguments."), OptionalBody: true,
				Responses: []route.Response{ok("The tool's result.", toolResult)},
				Errors:    append([]int{403, 413, 415}, callErrs...),
			}}},
		},
	}

	unified := route.Group{
		Tag: "Unified", TagDescription: "The Unified User Directory API.",
		Scope: tokens.ScopeUnified, What: "unified endpoint", Prefixes: []string{"/unified/"},
		Routes: []route.Route{
			{Method: "GET", Path: "/unified/user-directory/users", Handle: a.handleUnifiedUsers, Ops: []route.Operation{{
				ID: "listUnifiedUsers", Summary: "List directory users",
				Description: "Every user of the organization (deleted ones included), in the unified schema, paged.",
				Params:      append([]route.Param{acct}, page...),
				Responses:   []route.Response{ok("A page of users.", route.Page(route.Ref("UnifiedUser")))}, Errors: callErrs,
			}}},
			{Method: "GET", Path: "/unified/user-directory/users/{id}", Handle: a.handleUnifiedUser, Ops: []route.Operation{{
				ID: "getUnifiedUser", Summary: "Get a directory user",
				Params:    []route.Param{numericID("user"), acct},
				Responses: []route.Response{ok("The user.", route.Envelope(route.Ref("UnifiedUser")))}, Errors: callErrs,
			}}},
			{Method: "DELETE", Path: "/unified/user-directory/users/{id}", Handle: a.handleUnifiedDeleteUser, Ops: []route.Operation{{
				ID: "deleteUnifiedUser", Summary: "Delete a directory user",
				Description: "Cannot be undone; Zoho refuses to delete the primary contact.",
				Params:      []route.Param{numericID("user"), acct},
				Responses:   []route.Response{ok("Deleted.", route.Envelope(route.Ref("Deleted")))}, Errors: callErrs,
			}}},
			{Method: "GET", Path: "/unified/user-directory/roles", Handle: a.handleUnifiedRoles, Ops: []route.Operation{{
				ID: "listUnifiedRoles", Summary: "List directory roles",
				Params:    append([]route.Param{acct}, page...),
				Responses: []route.Response{ok("A page of roles.", route.Page(route.Ref("UnifiedRole")))}, Errors: callErrs,
			}}},
			{Method: "GET", Path: "/unified/user-directory/roles/{id}", Handle: a.handleUnifiedRole, Ops: []route.Operation{{
				ID: "getUnifiedRole", Summary: "Get a directory role",
				Params:    []route.Param{numericID("role"), acct},
				Responses: []route.Response{ok("The role.", route.Envelope(route.Ref("UnifiedRole")))}, Errors: callErrs,
			}}},
		},
	}

	record := route.Object("Zoho's object, unchanged.")
	userType := route.String()
	for _, t := range bigin.UserTypes() {
		userType.Enum = append(userType.Enum, t)
	}
	userType.Default = json.RawMessage(`"AllUsers"`)
	proxyList := []route.Operation{{
		Path: "/proxy/users", ID: "proxyListUsers", Summary: "List Zoho users", Description: "GET /bigin/v2/users.",
		Params:    append([]route.Param{acct, route.QueryParam("type", "Zoho's user type filter (default AllUsers).", userType)}, page...),
		Responses: []route.Response{ok("A page of Zoho user objects.", route.Page(record))}, Errors: callErrs,
	}}
	proxyGet := []route.Operation{{
		Path: "/proxy/users/{id}", ID: "proxyGetUser", Summary: "Get a Zoho user", Description: "GET /bigin/v2/users/{id}.",
		Params: []route.Param{numericID("user"), acct}, Responses: []route.Response{ok("Zoho's user object.", route.Envelope(record))}, Errors: callErrs,
	}}
	for _, res := range []struct{ name, zoho, one string }{{"roles", "/bigin/v2/settings/roles", "role"}, {"profiles", "/bigin/v2/settings/profiles", "profile"}} {
		title := strings.ToUpper(res.name[:1]) + res.name[1:]
		proxyList = append(proxyList, route.Operation{
			Path: "/proxy/" + res.name, ID: "proxyList" + title, Summary: "List Zoho " + res.name,
			Description: "GET " + res.zoho + " (Zoho returns the whole list; the server pages it).",
			Params:      append([]route.Param{acct}, page...),
			Responses:   []route.Response{ok("A page of Zoho "+res.one+" objects.", route.Page(record))}, Errors: callErrs,
		})
		proxyGet = append(proxyGet, route.Operation{
			Path: "/proxy/" + res.name + "/{id}", ID: "proxyGet" + strings.TrimSuffix(title, "s"), Summary: "Get a Zoho " + res.one,
			Description: "The " + res.one + " with this id from GET " + res.zoho + ".",
			Params:      []route.Param{numericID(res.one), acct},
			Responses:   []route.Response{ok("Zoho's "+res.one+" object.", route.Envelope(record))}, Errors: callErrs,
		})
	}
	proxyList = append(proxyList,
		route.Operation{
			Path: "/proxy/organization", ID: "proxyGetOrganization", Summary: "Get the Zoho organization",
			Description: "GET /bigin/v2/org, as a one-element list.", Params: []route.Param{acct},
			Responses: []route.Response{ok("Zoho's org object.", route.Page(record))}, Errors: callErrs,
		},
		route.Operation{
			Path: "/proxy/me", ID: "proxyGetMe", Summary: "Get the connected Zoho user",
			Description: "GET /bigin/v2/users?type=CurrentUser, as a one-element list.", Params: []route.Param{acct},
			Responses: []route.Response{ok("Zoho's user object.", route.Page(record))}, Errors: callErrs,
		})
	proxy := route.Group{
		Tag: "Proxy", TagDescription: "Bigin's resources, 1 to 1, Zoho's objects unchanged.",
		Scope: tokens.ScopeProxy, What: "proxy endpoint", Prefixes: []string{"/proxy/"},
		Routes: []route.Route{
			{Method: "GET", Path: "/proxy/{resource}", Handle: a.handleProxyList, Ops: proxyList},
			{Method: "GET", Path: "/proxy/{resource}/{id}", Handle: a.handleProxyGet, Ops: proxyGet},
			{Method: "DELETE", Path: "/proxy/{resource}/{id}", Handle: a.handleProxyDelete, Ops: []route.Operation{{
				Path: "/proxy/users/{id}", ID: "proxyDeleteUser", Summary: "Delete a Zoho user", Description: "DELETE /bigin/v2/users/{id}.",
				Params: []route.Param{numericID("user"), acct}, Responses: []route.Response{ok("Deleted.", route.Envelope(route.Ref("Deleted")))}, Errors: callErrs,
			}}},
		},
	}

	document := route.Group{
		Tag: "Health", TagDescription: "Liveness, readiness and this document; no auth.", Public: true,
		Routes: []route.Route{{Method: "GET", Path: "/openapi.json", Handle: a.handleOpenAPI, Ops: []route.Operation{{
			ID: "openapi", Summary: "This document.",
			Responses: []route.Response{{Status: http.StatusOK, Description: "The OpenAPI document.", Schema: route.Object("")}},
		}}}},
	}
	tools.Schemas = map[string]*route.Schema{
		"Tool": route.For[toolView](route.Enum("method", tokens.MethodList, tokens.MethodGet, tokens.MethodCreate, tokens.MethodUpdate, tokens.MethodDelete)),
	}
	unified.Schemas = map[string]*route.Schema{
		"UnifiedUser": route.For[UnifiedUser](
			route.Enum("status", statusActive, statusInactive, statusDeleted, statusInvited),
			route.Enum("emails.type", "work"),
			route.Format("created_at", "date-time"), route.Format("updated_at", "date-time")),
		"UnifiedRole": route.For[UnifiedRole](),
	}
	return []route.Group{tools, unified, proxy, document}
}

// quotaHeaders are the rate-limit headers of an answer that went through
// a rate limit (writeQuota).
func quotaHeaders() map[string]route.Header {
	n := func(desc string) route.Header {
		return route.Header{Description: desc, Schema: route.Integer(0, 1<<31-1)}
	}
	return map[string]route.Header{
		"RateLimit-Limit":     n("The tightest rate limit's budget of calls: the integrated account's own limit, or on Zoho's 429 Zoho's quota."),
		"RateLimit-Remaining": n("Calls left in that budget."),
		"RateLimit-Reset":     n("Seconds until that budget is whole again."),
	}
}

func (a *API) handleOpenAPI(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(a.openapi)
	return nil
}
