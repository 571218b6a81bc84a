package rest

import (
	"strings"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/internal/catalog"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// obj is a JSON object of the OpenAPI document.
type obj = map[string]any

// Document returns the OpenAPI 3.1 document of the HTTP APIs: the admin
// API, the tools, the Unified User Directory API, the Proxy API, and the
// health endpoints. MCP endpoints speak JSON-RPC and are not in it. Tool
// names come from the catalog.
func Document(publicURL string, cat *catalog.Catalog) map[string]any {
	var toolNames []string
	for _, e := range cat.Entries() {
		toolNames = append(toolNames, e.Name)
	}
	paths := obj{}
	add := func(path, method string, op obj) {
		item, _ := paths[path].(obj)
		if item == nil {
			item = obj{}
			paths[path] = item
		}
		item[method] = op
	}

	// Health and the document itself.
	add("/healthz", "get", public("health", "The process is up.", "Health",
		obj{"200": jsonResponse("Up.", ref("Status"))}))
	add("/readyz", "get", public("readyz", "The store is open.", "Health",
		obj{"200": jsonResponse("Ready.", ref("Status")), "503": jsonResponse("The store is not open.", ref("Status"))}))
	add("/openapi.json", "get", public("openapi", "This document.", "Health",
		obj{"200": jsonResponse("The OpenAPI document.", obj{"type": "object"})}))

	// Admin API.
	add("/admin/api-tokens", "post", op("createAPIToken", "Create an API token",
		"The token value is shown only in this answer. `account_ids` limits the token to those integrated accounts; `scopes` to those surfaces (absent or empty: all). A token limited to accounts cannot have the admin scope; without scopes it gets tools, unified and proxy.",
		"Admin", nil, body(ref("APITokenInput")), obj{"201": jsonResponse("Created.", ref("APITokenCreated"))}, "400", "413", "415"))
	add("/admin/api-tokens", "get", op("listAPITokens", "List API tokens", "Never shows token values.", "Admin",
		listParams(), nil, obj{"200": jsonResponse("A page of API tokens.", page(ref("APIToken")))}, "400"))
	add("/admin/api-tokens/{id}", "delete", op("deleteAPIToken", "Delete an API token",
		"The token stops working at once. Deleting the last API token is refused (409).", "Admin",
		[]any{pathParam("id", "The API token's id.")}, nil, obj{"204": obj{"description": "Deleted."}}, "404", "409"))
	add("/admin/connect-links", "post", op("createConnectLink", "Create a connect link",
		"A one-time link an end customer follows to connect their own Bigin organization. With `account_id` it is a reconnect link: its consent replaces that account's Zoho grant (same organization only) and sets it active again, keeping its id and MCP URLs.", "Admin", nil,
		body(obj{"type": "object", "additionalProperties": false, "properties": obj{
			"name":               obj{"type": "string"},
			"datacenter":         obj{"type": "string", "description": "Fixes the datacenter; absent lets the customer pick. A reconnect link's is its account's."},
			"expires_in_seconds": obj{"type": "integer", "minimum": 60, "maximum": 604800, "default": 3600},
			"account_id":         obj{"type": "string", "description": "Makes a reconnect link for this integrated account."},
		}}),
		obj{"201": jsonResponse("Created.", ref("ConnectLink"))}, "400", "413", "415"))
	add("/admin/integrated-accounts", "post", op("createAccount", "Connect an integrated account",
		"The server refreshes the token once and reads the organization to prove the credentials. Secrets are never echoed.", "Admin", nil,
		body(obj{"type": "object", "additionalProperties": false, "required": []string{"name", "datacenter", "refresh_token"}, "properties": obj{
			"name": obj{"type": "string"}, "datacenter": obj{"type": "string"}, "refresh_token": obj{"type": "string"},
			"client_id": obj{"type": "string"}, "client_secret": obj{"type": "string"},
		}}),
		obj{"201": jsonResponse("Created.", ref("Account"))}, "400", "413", "415", "502"))
	add("/admin/integrated-accounts", "get", op("listAccounts", "List integrated accounts", "", "Admin",
		listParams(), nil, obj{"200": jsonResponse("A page of accounts.", page(ref("Account")))}, "400"))
	accountID := pathParam("id", "The integrated account's id.")
	add("/admin/integrated-accounts/{id}", "get", op("getAccount", "Get an integrated account", "", "Admin",
		[]any{accountID}, nil, obj{"200": jsonResponse("The account.", ref("Account"))}, "404"))
	add("/admin/integrated-accounts/{id}", "patch", op("updateAccount", "Change an integrated account",
		"New credentials are verified as on create and reset status to active.", "Admin", []any{accountID},
		body(obj{"type": "object", "additionalProperties": false, "properties": obj{
			"name": obj{"type": "string"}, "refresh_token": obj{"type": "string"},
			"client_id": obj{"type": "string"}, "client_secret": obj{"type": "string"},
		}}),
		obj{"200": jsonResponse("The changed account.", ref("Account"))}, "400", "404", "413", "415", "502"))
	add("/admin/integrated-accounts/{id}", "delete", op("deleteAccount", "Delete an integrated account",
		"Its MCP URLs stop working at once and are deleted.", "Admin", []any{accountID}, nil,
		obj{"204": obj{"description": "Deleted."}}, "404"))
	for i, prefix := range []string{"/admin/integrated-accounts/{id}/mcp", "/integrated-account/{id}/mcp"} {
		suffix, note := "", ""
		if i == 1 {
			suffix, note = "Alias", " (the integration guides' path; the same as under /admin/integrated-accounts)"
		}
		mcpID := pathParam("mcp_id", "The MCP server's id.")
		add(prefix, "post", op("createMCPServer"+suffix, "Mint an MCP URL"+note,
			"`url` is returned only here.", "Admin", []any{accountID},
			body(obj{"type": "object", "additionalProperties": false, "required": []string{"name"}, "properties": obj{
				"name": obj{"type": "string"}, "config": ref("ConfigInput"), "expires_at": nullable(obj{"type": "string", "format": "date-time"}),
			}}),
			obj{"201": jsonResponse("Created.", ref("MCPServerCreated"))}, "400", "404", "413", "415"))
		add(prefix, "get", op("listMCPServers"+suffix, "List an account's MCP URLs"+note, "", "Admin",
			append([]any{accountID}, listParams()...), nil, obj{"200": jsonResponse("A page of MCP servers.", page(ref("MCPServer")))}, "400", "404"))
		add(prefix+"/{mcp_id}", "get", op("getMCPServer"+suffix, "Get an MCP URL's server"+note, "", "Admin",
			[]any{accountID, mcpID}, nil, obj{"200": jsonResponse("The MCP server.", ref("MCPServer"))}, "404"))
		add(prefix+"/{mcp_id}", "patch", op("updateMCPServer"+suffix, "Change an MCP URL's policy or expiry"+note,
			"`\"expires_at\": null` removes the expiry. Takes effect on the next MCP request.", "Admin", []any{accountID, mcpID},
			body(obj{"type": "object", "additionalProperties": false, "properties": obj{
				"name": obj{"type": "string"}, "config": ref("ConfigInput"), "expires_at": nullable(obj{"type": "string", "format": "date-time"}),
			}}),
			obj{"200": jsonResponse("The changed MCP server.", ref("MCPServer"))}, "400", "404", "413", "415"))
		add(prefix+"/{mcp_id}", "delete", op("deleteMCPServer"+suffix, "Delete an MCP URL"+note,
			"The URL answers 404 from the next request.", "Admin", []any{accountID, mcpID}, nil,
			obj{"204": obj{"description": "Deleted."}}, "404"))
	}

	// Tools.
	policyParams := []any{
		queryParam("methods", "Only tools with these methods (comma-separated): read, write, list, get, create, update, delete. Absent: all.", obj{"type": "string"}),
		queryParam("tags", "Only tools with one of these tags (comma-separated). Absent: all.", obj{"type": "string"}),
		queryParam("modules", "Only these record modules (comma-separated Zoho API names: "+strings.Join(cat.Inventory().Modules(), ", ")+
			"): the record tools' module enums list only these, and a call naming another is refused (module_not_allowed). Absent: all.", obj{"type": "string"}),
	}
	add("/integrated-account/{id}/tools", "get", op("listTools", "List the account's tools",
		"LLM-ready tool definitions, filtered by `methods`, `tags` and `modules` with the same rules as an MCP URL's config. Scope: tools.", "Tools",
		append([]any{accountID}, policyParams...), nil,
		obj{"200": jsonResponse("The tools.", envelopeSchema(obj{"type": "array", "items": ref("Tool")}))}, "400", "403", "404"))
	add("/integrated-account/{id}/tools/{name}", "post", op("callTool", "Call a tool",
		"The body is the tool's arguments (its input_schema). The answer is exactly the MCP tool's structured result: "+
			"list tools `{\"result\": [records], \"next_cursor\"}`, get `{\"result\": {record}}`, delete `{\"result\": {\"id\", \"deleted\": true}}`, "+
			"record writes `{\"result\": [{\"index\", \"id\", \"status\", \"code\", \"message\", \"field\", \"existing_id\"}]}` (one per input record; when every record failed, 400, or 409 for duplicates, with `result` beside `error`). "+
			"A tool that `methods`/`tags`/`modules` filter out is unknown (404); a call naming a module outside `modules` is 403 module_not_allowed. "+
			"An `idempotency_key` is kept per API token and account. Scope: tools.", "Tools",
		append([]any{accountID, pathParam("name", "The tool's name.", obj{"type": "string", "enum": toolNames})}, policyParams...),
		obj{"required": false, "content": obj{"application/json": obj{"schema": obj{"type": "object"}}}},
		obj{"200": jsonResponse("The tool's result.", obj{"type": "object", "properties": obj{
			"result":      obj{},
			"next_cursor": nullable(obj{"type": "string"}),
		}, "required": []string{"result"}})}, "400", "403", "404", "409", "413", "415", "429", "502", "504"))

	// Unified User Directory API.
	acct := queryParam("integrated_account_id", "The integrated account to act on.", obj{"type": "string"})
	acct["required"] = true
	pageP := []any{
		queryParam("limit", "Records per page, 1 to 200 (default 100).", obj{"type": "integer", "minimum": 1, "maximum": 200, "default": 100}),
		queryParam("next_cursor", "The next_cursor of the previous page.", obj{"type": "string"}),
	}
	userID := pathParam("id", "Zoho's numeric user id.", obj{"type": "string", "pattern": "^[0-9]{1,30}$"})
	roleID := pathParam("id", "Zoho's numeric role id.", obj{"type": "string", "pattern": "^[0-9]{1,30}$"})
	callErrs := []string{"400", "403", "404", "409", "429", "502", "504"}
	add("/unified/user-directory/users", "get", op("listUnifiedUsers", "List directory users",
		"Every user of the organization (deleted ones included), in the unified schema, paged. Scope: unified.", "Unified",
		append([]any{acct}, pageP...), nil, obj{"200": jsonResponse("A page of users.", pageOf(ref("UnifiedUser")))}, callErrs...))
	add("/unified/user-directory/users/{id}", "get", op("getUnifiedUser", "Get a directory user", "Scope: unified.", "Unified",
		[]any{userID, acct}, nil, obj{"200": jsonResponse("The user.", envelopeSchema(ref("UnifiedUser")))}, callErrs...))
	add("/unified/user-directory/users/{id}", "delete", op("deleteUnifiedUser", "Delete a directory user",
		"Cannot be undone; Zoho refuses to delete the primary contact. Scope: unified.", "Unified",
		[]any{userID, acct}, nil, obj{"200": jsonResponse("Deleted.", envelopeSchema(ref("Deleted")))}, callErrs...))
	add("/unified/user-directory/roles", "get", op("listUnifiedRoles", "List directory roles", "Scope: unified.", "Unified",
		append([]any{acct}, pageP...), nil, obj{"200": jsonResponse("A page of roles.", pageOf(ref("UnifiedRole")))}, callErrs...))
	add("/unified/user-directory/roles/{id}", "get", op("getUnifiedRole", "Get a directory role", "Scope: unified.", "Unified",
		[]any{roleID, acct}, nil, obj{"200": jsonResponse("The role.", envelopeSchema(ref("UnifiedRole")))}, callErrs...))

	// Proxy API.
	record := obj{"type": "object", "description": "Zoho's object, unchanged."}
	typeP := queryParam("type", "Zoho's user type filter (default AllUsers).", obj{"type": "string", "enum": bigin.UserTypes(), "default": "AllUsers"})
	add("/proxy/users", "get", op("proxyListUsers", "List Zoho users", "GET /bigin/v2/users. Scope: proxy.", "Proxy",
		append([]any{acct, typeP}, pageP...), nil, obj{"200": jsonResponse("A page of Zoho user objects.", pageOf(record))}, callErrs...))
	add("/proxy/users/{id}", "get", op("proxyGetUser", "Get a Zoho user", "GET /bigin/v2/users/{id}. Scope: proxy.", "Proxy",
		[]any{userID, acct}, nil, obj{"200": jsonResponse("Zoho's user object.", envelopeSchema(record))}, callErrs...))
	add("/proxy/users/{id}", "delete", op("proxyDeleteUser", "Delete a Zoho user", "DELETE /bigin/v2/users/{id}. Scope: proxy.", "Proxy",
		[]any{userID, acct}, nil, obj{"200": jsonResponse("Deleted.", envelopeSchema(ref("Deleted")))}, callErrs...))
	for _, res := range []struct{ name, zoho, one string }{{"roles", "/bigin/v2/settings/roles", "role"}, {"profiles", "/bigin/v2/settings/profiles", "profile"}} {
		title := strings.ToUpper(res.name[:1]) + res.name[1:]
		add("/proxy/"+res.name, "get", op("proxyList"+title, "List Zoho "+res.name,
			"GET "+res.zoho+" (Zoho returns the whole list; the server pages it). Scope: proxy.", "Proxy",
			append([]any{acct}, pageP...), nil, obj{"200": jsonResponse("A page of Zoho "+res.one+" objects.", pageOf(record))}, callErrs...))
		add("/proxy/"+res.name+"/{id}", "get", op("proxyGet"+strings.TrimSuffix(title, "s"), "Get a Zoho "+res.one,
			"The "+res.one+" with this id from GET "+res.zoho+". Scope: proxy.", "Proxy",
			[]any{pathParam("id", "Zoho's numeric "+res.one+" id.", obj{"type": "string", "pattern": "^[0-9]{1,30}$"}), acct}, nil,
			obj{"200": jsonResponse("Zoho's "+res.one+" object.", envelopeSchema(record))}, callErrs...))
	}
	add("/proxy/organization", "get", op("proxyGetOrganization", "Get the Zoho organization",
		"GET /bigin/v2/org, as a one-element list. Scope: proxy.", "Proxy", []any{acct}, nil,
		obj{"200": jsonResponse("Zoho's org object.", pageOf(record))}, callErrs...))
	add("/proxy/me", "get", op("proxyGetMe", "Get the connected Zoho user",
		"GET /bigin/v2/users?type=CurrentUser, as a one-element list. Scope: proxy.", "Proxy", []any{acct}, nil,
		obj{"200": jsonResponse("Zoho's user object.", pageOf(record))}, callErrs...))

	servers := []any{obj{"url": "/"}}
	if publicURL != "" {
		servers = []any{obj{"url": publicURL}}
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":       "bigin-mcp",
			"version":     "1",
			"description": "The HTTP APIs of bigin-mcp beside MCP: the admin API, the account's tools as plain JSON, the Unified User Directory API and the Proxy API for Zoho Bigin. Every error has the shape {\"error\": {\"code\", \"message\"}}.",
		},
		"servers":  servers,
		"security": []any{obj{"apiToken": []any{}}},
		"tags": []any{
			obj{"name": "Admin", "description": "API tokens, integrated accounts, MCP URLs and connect links. Scope: admin."},
			obj{"name": "Tools", "description": "The account's MCP tools as plain JSON."},
			obj{"name": "Unified", "description": "The Unified User Directory API."},
			obj{"name": "Proxy", "description": "Bigin's resources, 1 to 1, Zoho's objects unchanged."},
			obj{"name": "Health", "description": "Liveness, readiness and this document; no auth."},
		},
		"paths":      paths,
		"components": components(),
	}
}

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func nullable(s obj) obj { return obj{"oneOf": []any{s, obj{"type": "null"}}} }

func op(id, summary, desc, tag string, params []any, reqBody obj, responses obj, errs ...string) obj {
	o := obj{"operationId": id, "summary": summary, "tags": []string{tag}}
	if desc != "" {
		o["description"] = desc
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if reqBody != nil {
		o["requestBody"] = reqBody
	}
	for _, code := range append([]string{"401"}, errs...) {
		responses[code] = obj{"$ref": "#/components/responses/E" + code}
	}
	if tag == "Admin" {
		responses["403"] = obj{"$ref": "#/components/responses/E403"}
	}
	o["responses"] = responses
	return o
}

func public(id, summary, tag string, responses obj) obj {
	return obj{"operationId": id, "summary": summary, "tags": []string{tag}, "security": []any{}, "responses": responses}
}

func body(schema obj) obj {
	return obj{"required": true, "content": obj{"application/json": obj{"schema": schema}}}
}

func jsonResponse(desc string, schema obj) obj {
	return obj{"description": desc, "content": obj{"application/json": obj{"schema": schema}}}
}

func pathParam(name, desc string, schema ...obj) obj {
	s := obj{"type": "string"}
	if len(schema) > 0 {
		s = schema[0]
	}
	return obj{"name": name, "in": "path", "required": true, "description": desc, "schema": s}
}

func queryParam(name, desc string, schema obj) obj {
	return obj{"name": name, "in": "query", "required": false, "description": desc, "schema": schema}
}

func listParams() []any {
	return []any{
		queryParam("limit", "Items per page, 1 to 100 (default 20).", obj{"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
		queryParam("next_cursor", "The next_cursor of the previous page.", obj{"type": "string"}),
	}
}

// page is an admin list: {"result": [...], "next_cursor"}.
func page(item obj) obj { return pageOf(item) }

func pageOf(item obj) obj {
	return envelopeSchema(obj{"type": "array", "items": item})
}

func envelopeSchema(result obj) obj {
	return obj{
		"type": "object", "required": []string{"result", "next_cursor"},
		"properties": obj{"result": result, "next_cursor": nullable(obj{"type": "string", "description": "Pass it back as next_cursor for the next page; null on the last page."})},
	}
}

func components() obj {
	str := obj{"type": "string"}
	strOrNull := nullable(str)
	timeS := obj{"type": "string", "format": "date-time"}
	strs := obj{"type": "array", "items": str}
	modulesS := obj{"type": "array", "items": obj{"type": "string", "enum": bigin.Modules()},
		"description": "The record modules (Zoho's API names) the URL's tools act on; empty: all."}
	errResp := func(desc string, headers obj) obj {
		r := jsonResponse(desc, ref("Error"))
		if headers != nil {
			r["headers"] = headers
		}
		return r
	}
	intHeader := func(desc string) obj { return obj{"description": desc, "schema": obj{"type": "integer", "minimum": 0}} }
	return obj{
		"securitySchemes": obj{
			"apiToken": obj{"type": "http", "scheme": "bearer", "description": "An API token (bmcp_api_…). Tokens may be limited to accounts (account_ids) and surfaces (scopes: admin, tools, unified, proxy); outside its limits a token gets 403."},
		},
		"responses": obj{
			"E400": errResp("Bad input (invalid_argument): the message names the field.", nil),
			"E401": errResp("Missing or unknown API token (unauthenticated).", obj{"WWW-Authenticate": obj{"schema": str}}),
			"E403": errResp("The API token's scopes or account_ids do not allow this (permission_denied).", nil),
			"E404": errResp("No such account, tool, resource or record (not_found).", nil),
			"E409": errResp("A conflict, or reauthorization_required: Zoho refused the account's refresh token and it must be connected again.", nil),
			"E413": errResp("The body is over 1 MiB (too_large).", nil),
			"E415": errResp("The body is not application/json (unsupported_media_type).", nil),
			"E429": errResp("Zoho's rate limit (rate_limited); the server did not retry.", obj{
				"ratelimit-limit":     intHeader("Zoho's request quota."),
				"ratelimit-remaining": intHeader("Requests left in the window."),
				"ratelimit-reset":     intHeader("Seconds until the window resets."),
				"Retry-After":         intHeader("Seconds to wait before retrying."),
			}),
			"E502": errResp("Zoho answered with an error, or could not be reached (upstream_error); upstream holds Zoho's status, code and message.", nil),
			"E504": errResp("Zoho did not answer in time (upstream_error).", nil),
		},
		"schemas": obj{
			"Error": obj{
				"type": "object", "required": []string{"error"},
				"properties": obj{"error": obj{
					"type": "object", "required": []string{"code", "message"},
					"properties": obj{
						"code":    obj{"type": "string", "examples": []string{"invalid_argument"}},
						"message": str,
						"upstream": obj{"type": "object", "description": "Zoho's side of the failure.", "required": []string{"status", "code", "message"},
							"properties": obj{"status": obj{"type": "integer"}, "code": str, "message": str}},
					},
				}},
			},
			"Status": obj{"type": "object", "required": []string{"status"}, "properties": obj{"status": str, "reason": str}},
			"APITokenInput": obj{
				"type": "object", "additionalProperties": false, "required": []string{"name"},
				"properties": obj{
					"name":        str,
					"account_ids": obj{"type": "array", "items": str, "description": "Only these integrated accounts."},
					"scopes":      obj{"type": "array", "items": obj{"type": "string", "enum": tokens.APIScopes()}, "description": "Only these surfaces."},
				},
			},
			"APIToken": obj{
				"type": "object", "required": []string{"id", "name", "account_ids", "scopes", "created_at"},
				"properties": obj{"id": str, "name": str, "account_ids": strs, "scopes": strs, "created_at": timeS},
			},
			"APITokenCreated": obj{"allOf": []any{ref("APIToken"), obj{
				"type": "object", "required": []string{"token"}, "properties": obj{"token": obj{"type": "string", "description": "Shown only here."}},
			}}},
			"ConnectLink": obj{
				"type": "object", "required": []string{"id", "name", "kind", "datacenter", "account_id", "url", "expires_at", "created_at"},
				"properties": obj{"id": str, "name": str, "kind": obj{"type": "string", "enum": []string{"connect", "reconnect"}}, "datacenter": strOrNull, "account_id": strOrNull, "url": str, "expires_at": timeS, "created_at": timeS},
			},
			"Account": obj{
				"type": "object", "required": []string{"id", "name", "datacenter", "api_domain", "org", "status", "created_at", "updated_at"},
				"properties": obj{
					"id": str, "name": str, "datacenter": str, "api_domain": str,
					"org":        obj{"type": "object", "required": []string{"id", "name"}, "properties": obj{"id": str, "name": str}},
					"status":     obj{"type": "string", "enum": []string{tokens.StatusActive, tokens.StatusNeedsReauth}},
					"created_at": timeS, "updated_at": timeS,
				},
			},
			"ConfigInput": obj{
				"type": "object", "additionalProperties": false,
				"properties": obj{
					"methods":                strs,
					"tags":                   strs,
					"modules":                modulesS,
					"require_api_token_auth": obj{"type": "boolean"},
					"expires_at":             nullable(timeS),
				},
			},
			"Config": obj{
				"type": "object", "required": []string{"methods", "tags", "require_api_token_auth"},
				"properties": obj{"methods": strs, "tags": strs, "modules": modulesS, "require_api_token_auth": obj{"type": "boolean"}},
			},
			"MCPServer": obj{
				"type": "object", "required": []string{"id", "account_id", "name", "config", "expires_at", "tools", "created_at", "updated_at"},
				"properties": obj{
					"id": str, "account_id": str, "name": str, "config": ref("Config"),
					"expires_at": nullable(timeS), "tools": strs, "created_at": timeS, "updated_at": timeS,
				},
			},
			"MCPServerCreated": obj{"allOf": []any{ref("MCPServer"), obj{
				"type": "object", "required": []string{"url"}, "properties": obj{"url": obj{"type": "string", "description": "The MCP URL; shown only here."}},
			}}},
			"Tool": obj{
				"type": "object", "required": []string{"name", "description", "method", "tags", "input_schema", "output_schema"},
				"properties": obj{
					"name": str, "description": str,
					"method":        obj{"type": "string", "enum": []string{tokens.MethodList, tokens.MethodGet, tokens.MethodCreate, tokens.MethodUpdate, tokens.MethodDelete}},
					"tags":          strs,
					"input_schema":  obj{"type": "object", "description": "JSON Schema of the arguments."},
					"output_schema": obj{"type": "object", "description": "JSON Schema of the result."},
				},
			},
			"Deleted": obj{
				"type": "object", "required": []string{"id", "deleted"},
				"properties": obj{"id": str, "deleted": obj{"type": "boolean", "const": true}},
			},
			"UnifiedUser": obj{
				"type":     "object",
				"required": []string{"id", "first_name", "last_name", "name", "emails", "status", "roles", "created_at", "updated_at", "remote_data"},
				"properties": obj{
					"id":         obj{"type": "string", "description": "Zoho's id."},
					"first_name": described(strOrNull, "Zoho's first_name."),
					"last_name":  described(strOrNull, "Zoho's last_name."),
					"name":       described(strOrNull, "Zoho's full_name, else first_name and last_name joined."),
					"emails": obj{"type": "array", "description": "Zoho's email, as the one primary work address (empty when Zoho has none).", "items": obj{
						"type": "object", "required": []string{"email", "type", "is_primary"},
						"properties": obj{"email": str, "type": obj{"type": "string", "enum": []string{"work"}}, "is_primary": obj{"type": "boolean"}},
					}},
					"status": obj{"type": "string", "enum": []string{statusActive, statusInactive, statusDeleted, statusInvited},
						"description": "From Zoho's status and confirm: deleted → deleted; any status other than active (e.g. disabled) → inactive; active with confirm false → invited; active → active."},
					"roles": obj{"type": "array", "description": "Zoho's role ({id, name}), as a one-element list.", "items": obj{
						"type": "object", "required": []string{"id", "name"}, "properties": obj{"id": str, "name": strOrNull},
					}},
					"created_at":  described(nullable(timeS), "Zoho's created_time, in UTC."),
					"updated_at":  described(nullable(timeS), "Zoho's Modified_Time, in UTC."),
					"remote_data": obj{"type": "object", "description": "Zoho's user object, unchanged."},
				},
			},
			"UnifiedRole": obj{
				"type":     "object",
				"required": []string{"id", "name", "description", "parent_role_id", "remote_data"},
				"properties": obj{
					"id":             obj{"type": "string", "description": "Zoho's id."},
					"name":           described(strOrNull, "Zoho's display_label, else its name."),
					"description":    described(strOrNull, "Zoho's description."),
					"parent_role_id": described(strOrNull, "Zoho's reporting_to.id; null for the top role."),
					"remote_data":    obj{"type": "object", "description": "Zoho's role object, unchanged."},
				},
			},
		},
	}
}

func described(s obj, desc string) obj {
	out := obj{}
	for k, v := range s {
		out[k] = v
	}
	out["description"] = desc
	return out
}
