package mcp

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/bigin-mcp/bigin-mcp/bigin"
)

// Defaults and bounds of the paging arguments (SPEC §6).
const (
	defaultLimit = 100
	maxLimit     = 200
)

// toolSpecs declares the seven tools of SPEC §6. Descriptions are API: a
// model reads them to decide what to call, so change them with care (the
// schema snapshots under testdata/toolsnaps make every change visible).
func toolSpecs() []toolSpec {
	return []toolSpec{
		{
			name:  "list_all_zohobigin_users",
			title: "List Bigin users",
			description: "Lists the users of the connected Zoho Bigin organization, one page at a time. " +
				"Each record is Zoho's user object unchanged (id, full_name, email, role, profile, status, confirm, ...). " +
				"Filter with `type` (default AllUsers; e.g. ActiveUsers, DeactiveUsers, DeletedUsers, AdminUsers, NotConfirmedUsers). " +
				"When `next_cursor` in the result is not null, call again with the same arguments plus that `next_cursor` to get the next page; stop when it is null. " +
				"Use it to find a user's id before getting or deleting that user.",
			readOnly: true,
			input: object(map[string]any{
				"type": map[string]any{
					"type":        "string",
					"enum":        bigin.UserTypes(),
					"default":     "AllUsers",
					"description": "Which users to list (Zoho's user type filter). Default AllUsers, which includes deactivated and deleted users.",
				},
				"limit":       limitSchema(),
				"next_cursor": cursorSchema(),
			}),
			output: listOutput("Zoho user objects, unchanged."),
			call:   listUsers,
		},
		{
			name:  "get_single_zohobigin_user_by_id",
			title: "Get a Bigin user",
			description: "Returns one user of the connected Zoho Bigin organization by id, as Zoho's user object unchanged " +
				"(name, email, role, profile, status, time zone, locale, ...). Use list_all_zohobigin_users first if you do not know the id.",
			readOnly: true,
			input:    object(map[string]any{"id": idSchema("The user's id: Zoho's numeric id as a string, e.g. \"4876876000000223001\".")}, "id"),
			output:   getOutput("The Zoho user object, unchanged."),
			call:     getUser,
		},
		{
			name:  "delete_a_zohobigin_user_by_id",
			title: "Delete a Bigin user",
			description: "Deletes one user from the connected Zoho Bigin organization. This cannot be undone: a deleted user cannot be reactivated, " +
				"and the organization's primary contact cannot be deleted. Confirm the id with get_single_zohobigin_user_by_id and with the person you act for before calling. " +
				"Returns {\"result\":{\"id\",\"deleted\":true}} on success.",
			readOnly: false,
			input:    object(map[string]any{"id": idSchema("The id of the user to delete: Zoho's numeric id as a string.")}, "id"),
			output: outputSchema(map[string]any{
				"type": "object",
				"properties": map[string]any{
					"id":      map[string]any{"type": "string"},
					"deleted": map[string]any{"type": "boolean"},
				},
				"required": []string{"id", "deleted"},
			}),
			call: deleteUser,
		},
		{
			name:  "list_all_zohobigin_current_organization",
			title: "Get the Bigin organization",
			description: "Returns the connected Zoho Bigin organization as a one-element list: Zoho's org object unchanged " +
				"(id, company_name, primary_email, country, time_zone, currency, license_details, ...). Takes no arguments.",
			readOnly: true,
			input:    object(map[string]any{}),
			output:   listOutput("The Zoho org object (exactly one), unchanged."),
			call:     getOrg,
		},
		{
			name:  "list_all_zohobigin_me",
			title: "Get the connected Bigin user",
			description: "Returns the Zoho Bigin user whose authorization this connection uses (Zoho's CurrentUser), as a one-element list of Zoho's user object. " +
				"Use it to learn who the actions are performed as and with which role and profile. Takes no arguments.",
			readOnly: true,
			input:    object(map[string]any{}),
			output:   listOutput("The current Zoho user object (exactly one), unchanged."),
			call:     getMe,
		},
		{
			name:  "list_all_zohobigin_roles",
			title: "List Bigin roles",
			description: "Lists the roles of the connected Zoho Bigin organization (e.g. CEO, Manager) with their hierarchy: " +
				"each role's `reporting_to` names its parent role. Records are Zoho's role objects unchanged. " +
				"Paged like list_all_zohobigin_users: pass `next_cursor` from the previous result until it is null.",
			readOnly: true,
			input:    object(map[string]any{"limit": limitSchema(), "next_cursor": cursorSchema()}),
			output:   listOutput("Zoho role objects, unchanged."),
			call:     listRoles,
		},
		{
			name:  "list_all_zohobigin_profiles",
			title: "List Bigin profiles",
			description: "Lists the permission profiles of the connected Zoho Bigin organization (e.g. Administrator, Standard). " +
				"Records are Zoho's profile objects unchanged. Paged like list_all_zohobigin_users: pass `next_cursor` from the previous result until it is null.",
			readOnly: true,
			input:    object(map[string]any{"limit": limitSchema(), "next_cursor": cursorSchema()}),
			output:   listOutput("Zoho profile objects, unchanged."),
			call:     listProfiles,
		},
	}
}

func object(props map[string]any, required ...string) map[string]any {
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func limitSchema() map[string]any {
	return map[string]any{
		"type": "integer", "minimum": 1, "maximum": maxLimit, "default": defaultLimit,
		"description": "Records per page, 1 to 200 (default 100).",
	}
}

func cursorSchema() map[string]any {
	return map[string]any{
		"type":        []string{"string", "null"},
		"description": "The next_cursor of the previous result, to get the next page. Omit it for the first page; it only works with the same arguments.",
	}
}

func idSchema(desc string) map[string]any {
	return map[string]any{"type": "string", "pattern": "^[0-9]{1,30}$", "description": desc}
}

// errorSchema describes structuredContent.error of a failed call (isError).
func errorSchema() map[string]any {
	return map[string]any{
		"type":        "object",
		"description": "Present instead of result when the call failed (isError is true).",
		"properties": map[string]any{
			"status":              map[string]any{"type": "integer", "description": "HTTP status of the failure."},
			"code":                map[string]any{"type": "string", "description": "Zoho's error code, or reauthorization_required, invalid_cursor, upstream_unavailable."},
			"message":             map[string]any{"type": "string"},
			"retry_after_seconds": map[string]any{"type": "number", "description": "Wait at least this long before retrying."},
			"ratelimit": map[string]any{
				"type": "object",
				"properties": map[string]any{
					"limit":     map[string]any{"type": "integer"},
					"remaining": map[string]any{"type": "integer"},
					"reset":     map[string]any{"type": "string", "format": "date-time"},
				},
			},
		},
		"required": []string{"status", "code", "message"},
	}
}

func outputSchema(result map[string]any) map[string]any {
	return map[string]any{
		"type": "object",
		"properties": map[string]any{
			"result": result,
			"error":  errorSchema(),
		},
	}
}

func listOutput(desc string) map[string]any {
	s := outputSchema(map[string]any{"type": "array", "description": desc, "items": map[string]any{"type": "object"}})
	s["properties"].(map[string]any)["next_cursor"] = map[string]any{
		"type":        []string{"string", "null"},
		"description": "Pass it back as next_cursor to get the next page; null on the last page.",
	}
	return s
}

func getOutput(desc string) map[string]any {
	return outputSchema(map[string]any{"type": "object", "description": desc})
}

func listUsers(ctx context.Context, c *call) ([]byte, error) {
	typ := c.args.Type
	if typ == "" {
		typ = "AllUsers"
	}
	limit := c.limit()
	key := typ + "|" + strconv.Itoa(limit)
	page := 1
	if c.cursor() != "" {
		p, err := c.cursors.decode(c.cursor(), c.tool, c.account, key)
		if err != nil {
			return nil, err
		}
		page = p
	}
	pg, err := c.client.ListUsers(ctx, bigin.ListUsersParams{Type: typ, Page: page, PerPage: limit})
	if err != nil {
		return nil, err
	}
	next := ""
	if pg.Info.MoreRecords && len(pg.Records) > 0 {
		next = c.cursors.encode(c.tool, c.account, key, page+1)
	}
	return listResult(pg.Records, next), nil
}

func getUser(ctx context.Context, c *call) ([]byte, error) {
	rec, err := c.client.GetUser(ctx, c.args.ID)
	if err != nil {
		return nil, err
	}
	return recordResult(rec), nil
}

func deleteUser(ctx context.Context, c *call) ([]byte, error) {
	if err := c.client.DeleteUser(ctx, c.args.ID); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"result": map[string]any{"id": c.args.ID, "deleted": true}})
}

func getOrg(ctx context.Context, c *call) ([]byte, error) {
	rec, err := c.client.Org(ctx)
	if err != nil {
		return nil, err
	}
	return listResult([]json.RawMessage{rec}, ""), nil
}

func getMe(ctx context.Context, c *call) ([]byte, error) {
	rec, err := c.client.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	return listResult([]json.RawMessage{rec}, ""), nil
}

func listRoles(ctx context.Context, c *call) ([]byte, error) {
	return pageLocally(ctx, c, c.client.Roles)
}

func listProfiles(ctx context.Context, c *call) ([]byte, error) {
	return pageLocally(ctx, c, c.client.Profiles)
}

// pageLocally pages a list that Zoho returns whole (roles, profiles), so
// that limit and next_cursor work the same as for users.
func pageLocally(ctx context.Context, c *call, fetch func(context.Context) ([]json.RawMessage, error)) ([]byte, error) {
	limit := c.limit()
	key := strconv.Itoa(limit)
	offset := 0
	if c.cursor() != "" {
		o, err := c.cursors.decode(c.cursor(), c.tool, c.account, key)
		if err != nil {
			return nil, err
		}
		offset = o
	}
	all, err := fetch(ctx)
	if err != nil {
		return nil, err
	}
	if offset > len(all) {
		offset = len(all)
	}
	end := min(offset+limit, len(all))
	next := ""
	if end < len(all) {
		next = c.cursors.encode(c.tool, c.account, key, end)
	}
	return listResult(all[offset:end], next), nil
}

func (c *call) limit() int {
	if c.args.Limit == 0 {
		return defaultLimit
	}
	return c.args.Limit
}

func (c *call) cursor() string {
	if c.args.NextCursor == nil {
		return ""
	}
	return *c.args.NextCursor
}
