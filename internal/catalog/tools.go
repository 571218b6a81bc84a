package catalog

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Defaults and bounds of the paging arguments.
const (
	defaultLimit = 100
	maxLimit     = 200
)

// pagingNote tells a model how list pages end: the result budget can cut
// a page short of limit, and only a null next_cursor means the end.
const pagingNote = "A page holds at most `limit` records and may hold fewer: the server ends a page early rather than exceed its result size budget " +
	"(set by the administrator so that results fit in a model's context), so a short page does not mean the list is over. " +
	"When `next_cursor` in the result is not null, call again with the same arguments plus that `next_cursor` to get the records right after the last one returned; stop when it is null."

// userFields are the fields of Zoho's user object, in Zoho's order: what
// `fields` may select. Keys are Zoho's, mixed case included.
var userFields = []string{
	"id", "zuid", "first_name", "last_name", "full_name", "email", "role", "profile", "status", "confirm", "Isonline",
	"created_time", "Modified_Time", "created_by", "Modified_By", "Reporting_To",
	"phone", "mobile", "fax", "website", "street", "city", "state", "zip", "country",
	"language", "locale", "country_locale", "time_zone", "time_format", "date_format", "alias", "dob", "Currency", "offset",
}

// Paging is the paging arguments of a list tool, embedded in its
// arguments.
type Paging struct {
	Limit      int     `json:"limit" audit:"keep"`
	NextCursor *string `json:"next_cursor" audit:"flag"`
}

// size is the call's limit, or def when it gives none.
func (p *Paging) size(def int) int {
	if p.Limit == 0 {
		return def
	}
	return p.Limit
}

// cursor is the call's next_cursor, "" for the first page.
func (p *Paging) cursor() string {
	if p.NextCursor == nil {
		return ""
	}
	return *p.NextCursor
}

// The arguments of the directory tools.
type (
	listUsersArgs struct {
		Type   string   `json:"type" audit:"keep"`
		Fields []string `json:"fields" audit:"keep"`
		Paging
	}
	userArgs struct {
		ID     string   `json:"id" audit:"keep"`
		Fields []string `json:"fields" audit:"keep"`
	}
	idArgs struct {
		ID string `json:"id" audit:"keep"`
	}
	noArgs     struct{}
	pagingArgs struct{ Paging }
)

// directoryScopes are the scopes of the directory tools, by what they
// read.
var (
	scopeUsers    = []string{"ZohoBigin.users.ALL"}
	scopeOrg      = []string{"ZohoBigin.org.READ"}
	scopeRoles    = []string{"ZohoBigin.settings.roles.READ"}
	scopeProfiles = []string{"ZohoBigin.settings.profiles.READ"}
)

// directoryTools declares the tools of users, the organization, roles
// and profiles.
func directoryTools() []Tool {
	users := []string{"users", "directory"}
	noSuchUser := map[string]string{"INVALID_DATA": "No user with id {id} exists in this organization; use list_all_zohobigin_users to find valid ids."}
	deleteHints := map[string]string{
		"INVALID_DATA":    noSuchUser["INVALID_DATA"],
		"INVALID_REQUEST": "Zoho will not delete this user (the primary contact cannot be deleted; make another user the primary contact first).",
	}
	return []Tool{
		{
			Name:  "list_all_zohobigin_users",
			Title: "List Bigin users",
			Description: "Lists the users of the connected Zoho Bigin organization, one page at a time. " +
				"Each record is Zoho's user object (id, full_name, email, role, profile, status, confirm, ...), about 1,000 characters in full; " +
				"pass `fields` to get only what you need, e.g. [\"full_name\",\"email\",\"role\",\"profile\",\"status\"] for an overview (id is always included), which fits far more users in a page. " +
				"Filter with `type` (default AllUsers; e.g. ActiveUsers, DeactiveUsers, DeletedUsers, AdminUsers, NotConfirmedUsers). " +
				pagingNote + " " +
				"Use it to find a user's id before getting or deleting that user.",
			Method: tokens.MethodList,
			Tags:   users,
			Scopes: scopeUsers,
			Fields: userFields,
			Input: object(map[string]any{
				"type": map[string]any{
					"type":        "string",
					"enum":        bigin.UserTypes(),
					"default":     "AllUsers",
					"description": "Which users to list (Zoho's user type filter). Default AllUsers, which includes deactivated and deleted users.",
				},
				"fields":      fieldsSchema(userFields, true),
				"limit":       limitSchema(),
				"next_cursor": cursorSchema(),
			}),
			Output: listOutput("Zoho user objects, unchanged except that only the requested `fields` (and id) are kept."),
			Run:    handle(listUsers),
		},
		{
			Name:  "get_single_zohobigin_user_by_id",
			Title: "Get a Bigin user",
			Description: "Returns one user of the connected Zoho Bigin organization by id, as Zoho's user object " +
				"(name, email, role, profile, status, time zone, locale, ...); pass `fields` to get only the fields you need (id is always included). " +
				"Use list_all_zohobigin_users first if you do not know the id.",
			Method: tokens.MethodGet,
			Tags:   users,
			Scopes: scopeUsers,
			Hints:  noSuchUser,
			Fields: userFields,
			Input: object(map[string]any{
				"id":     idSchema("The user's id: Zoho's numeric id as a string, e.g. \"4876876000000223001\"."),
				"fields": fieldsSchema(userFields, false),
			}, "id"),
			Output: getOutput("The Zoho user object, unchanged except that only the requested `fields` (and id) are kept."),
			Run:    handle(getUser),
		},
		{
			Name:  "delete_a_zohobigin_user_by_id",
			Title: "Delete a Bigin user",
			Description: "Deletes one user from the connected Zoho Bigin organization. This cannot be undone: a deleted user cannot be reactivated, " +
				"and the organization's primary contact cannot be deleted. Confirm the id with get_single_zohobigin_user_by_id and with the person you act for before calling. " +
				"Returns {\"result\":{\"id\",\"deleted\":true}} on success.",
			Method: tokens.MethodDelete,
			Tags:   users,
			Scopes: scopeUsers,
			Hints:  deleteHints,
			Input:  object(map[string]any{"id": idSchema("The id of the user to delete: Zoho's numeric id as a string.")}, "id"),
			Output: outputSchema(map[string]any{
				"type": "object",
				"properties": map[string]any{
					"id":      map[string]any{"type": "string"},
					"deleted": map[string]any{"type": "boolean"},
				},
				"required": []string{"id", "deleted"},
			}),
			Run: handle(deleteUser),
		},
		{
			Name:  "list_all_zohobigin_current_organization",
			Title: "Get the Bigin organization",
			Description: "Returns the connected Zoho Bigin organization as a one-element list: Zoho's org object unchanged " +
				"(id, company_name, primary_email, country, time_zone, currency, license_details, ...). Takes no arguments.",
			Method: tokens.MethodList,
			Tags:   []string{"organization"},
			Scopes: scopeOrg,
			Input:  object(map[string]any{}),
			Output: listOutput("The Zoho org object (exactly one), unchanged."),
			Run:    handle(getOrg),
		},
		{
			Name:  "list_all_zohobigin_me",
			Title: "Get the connected Bigin user",
			Description: "Returns the Zoho Bigin user whose authorization this connection uses (Zoho's CurrentUser), as a one-element list of Zoho's user object. " +
				"Use it to learn who the actions are performed as and with which role and profile. Takes no arguments.",
			Method: tokens.MethodList,
			Tags:   users,
			Scopes: scopeUsers,
			Input:  object(map[string]any{}),
			Output: listOutput("The current Zoho user object (exactly one), unchanged."),
			Run:    handle(getMe),
		},
		{
			Name:  "list_all_zohobigin_roles",
			Title: "List Bigin roles",
			Description: "Lists the roles of the connected Zoho Bigin organization (e.g. CEO, Manager) with their hierarchy: " +
				"each role's `reporting_to` names its parent role. Records are Zoho's role objects unchanged. " +
				pagingNote,
			Method: tokens.MethodList,
			Tags:   []string{"roles", "directory", "permissions"},
			Scopes: scopeRoles,
			Input:  object(map[string]any{"limit": limitSchema(), "next_cursor": cursorSchema()}),
			Output: listOutput("Zoho role objects, unchanged."),
			Run:    handle(listRoles),
		},
		{
			Name:  "list_all_zohobigin_profiles",
			Title: "List Bigin profiles",
			Description: "Lists the permission profiles of the connected Zoho Bigin organization (e.g. Administrator, Standard). " +
				"Records are Zoho's profile objects unchanged. " + pagingNote,
			Method: tokens.MethodList,
			Tags:   []string{"profiles", "directory", "permissions"},
			Scopes: scopeProfiles,
			Input:  object(map[string]any{"limit": limitSchema(), "next_cursor": cursorSchema()}),
			Output: listOutput("Zoho profile objects, unchanged."),
			Run:    handle(listProfiles),
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
		"description": "The most records per page, 1 to 200 (default 100). A page may hold fewer to stay within the server's result size budget.",
	}
}

// fieldsSchema is the `fields` argument over the selectable names; paged
// says whether the tool returns pages, which smaller records fill with more.
func fieldsSchema(names []string, paged bool) map[string]any {
	desc := "Only these fields of the record, by Zoho's field name (case-sensitive); id is always included. Omit for the whole record."
	if paged {
		desc = "Only these fields of each record, by Zoho's field name (case-sensitive); id is always included. " +
			"Omit for whole records. Smaller records mean more of them per page."
	}
	return map[string]any{
		"type":        "array",
		"items":       map[string]any{"type": "string", "enum": names},
		"minItems":    1,
		"description": desc,
	}
}

// cursorSchema is the optional next_cursor argument: one type, string,
// and absent for the first page, because function-calling dialects that
// take one type per property (Gemini's) refuse a ["string","null"]. A
// null passed back from a last page is still read as absent (Decode).
func cursorSchema() map[string]any {
	return map[string]any{
		"type":        "string",
		"description": "The next_cursor of the previous result, to get the next page. Omit it for the first page; it only works with the same arguments.",
	}
}

// idPattern is what a Zoho record id looks like.
const idPattern = "^[0-9]{1,30}$"

func idSchema(desc string) map[string]any {
	return map[string]any{"type": "string", "pattern": idPattern, "description": desc}
}

// errorSchema describes structuredContent.error of a failed call (isError).
func errorSchema() map[string]any {
	return map[string]any{
		"type":        "object",
		"description": "Present instead of result when the call failed (isError is true).",
		"properties": map[string]any{
			"status": map[string]any{"type": "integer", "description": "HTTP status of the failure."},
			"code": map[string]any{"type": "string", "description": "Zoho's error code, or the server's: invalid_argument, invalid_cursor, rate_limited, " +
				"reauthorization_required, scope_missing, module_not_allowed, idempotency_key_reused, upstream_unavailable."},
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

// listUsers reads Zoho's pages of `limit` users and returns up to limit
// of them, or fewer when the budget ends the page (see fill).
func listUsers(ctx context.Context, c *Call, a *listUsersArgs) ([]byte, error) {
	typ := a.Type
	if typ == "" {
		typ = "AllUsers"
	}
	limit := a.size(defaultLimit)
	fields := c.fields(a.Fields)
	// The key names the cursor's meaning (a position in records, "u2")
	// and every argument that shapes the pages, so a cursor is refused
	// when any of them changes.
	key := "u2|" + typ + "|" + strconv.Itoa(limit) + "|" + strings.Join(fields, ",")
	return c.pageList(ctx, &a.Paging, limit, key, func(ctx context.Context, page, perPage int) (bigin.Page, error) {
		return c.Client.ListUsers(ctx, bigin.ListUsersParams{Type: typ, Page: page, PerPage: perPage})
	}, func(rec json.RawMessage) json.RawMessage { return project(rec, fields) })
}

// pageList returns one page of a list Zoho serves in pages, from the
// call's cursor (bound to key, the arguments that shape the list), each
// record projected with proj.
func (c *Call) pageList(ctx context.Context, p *Paging, limit int, key string, fetch func(ctx context.Context, page, perPage int) (bigin.Page, error),
	proj func(json.RawMessage) json.RawMessage) ([]byte, error) {
	pos, err := c.position(p, key)
	if err != nil {
		return nil, err
	}
	out := c.newPage(limit)
	reads := 0
	next, done, err := fill(ctx, out, pos, &reads, fetch, proj)
	if err != nil {
		return nil, err
	}
	return c.listEnd(out, key, next, done), nil
}

// maxReadsPerCall bounds the Zoho pages one list call reads: limit
// records span at most two of Zoho's pages of limit.
const maxReadsPerCall = 2

// fill adds records to out from a list that Zoho serves in pages, from
// position pos of the list: it reads Zoho's pages of out's limit records
// (the page that holds pos first), projects each record with proj, and
// stops when out is full, when the budget ends the page, when the list
// ends (done), or once *reads reaches maxReadsPerCall. It returns the
// position of the first record not taken.
//
// A cursor is that position, so it can point inside one of Zoho's pages:
// the next call reads that page again, skips what was returned, and reads
// the following page too if it needs more records to fill its own.
// Without a cut, a call reads exactly one of Zoho's pages.
func fill(ctx context.Context, out *page, pos int, reads *int, fetch func(ctx context.Context, page, perPage int) (bigin.Page, error),
	proj func(json.RawMessage) json.RawMessage) (next int, done bool, err error) {
	limit := out.limit
	zpage, skip := pos/limit+1, pos%limit
	for {
		pg, err := fetch(ctx, zpage, limit)
		if err != nil {
			return 0, false, err
		}
		*reads++
		for i := min(skip, len(pg.Records)); i < len(pg.Records); i++ {
			if !out.add(proj(pg.Records[i])) {
				return (zpage-1)*limit + i, false, nil
			}
		}
		if !pg.Info.MoreRecords || len(pg.Records) == 0 {
			return (zpage-1)*limit + len(pg.Records), true, nil
		}
		// This Zoho page is used up and Zoho has more: continue with the
		// next one now if the page has room, else in the next call.
		zpage, skip = zpage+1, 0
		if out.full() || *reads >= maxReadsPerCall {
			return (zpage - 1) * limit, false, nil
		}
	}
}

// listEnd encodes a list page: its cursor is next, unless the list is
// done.
func (c *Call) listEnd(out *page, key string, next int, done bool) []byte {
	if done {
		return listResult(out.records, "")
	}
	return listResult(out.records, c.cursors.encode(c.Tool, c.account, key, next))
}

func getUser(ctx context.Context, c *Call, a *userArgs) ([]byte, error) {
	rec, err := c.Client.GetUser(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	return recordResult(project(rec, c.fields(a.Fields))), nil
}

func deleteUser(ctx context.Context, c *Call, a *idArgs) ([]byte, error) {
	if err := c.Client.DeleteUser(ctx, a.ID); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"result": map[string]any{"id": a.ID, "deleted": true}})
}

func getOrg(ctx context.Context, c *Call, _ *noArgs) ([]byte, error) {
	rec, err := c.Client.Org(ctx)
	if err != nil {
		return nil, err
	}
	return listResult([]json.RawMessage{rec}, ""), nil
}

func getMe(ctx context.Context, c *Call, _ *noArgs) ([]byte, error) {
	rec, err := c.Client.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	return listResult([]json.RawMessage{rec}, ""), nil
}

func listRoles(ctx context.Context, c *Call, a *pagingArgs) ([]byte, error) {
	return pageLocally(ctx, c, &a.Paging, c.Client.Roles)
}

func listProfiles(ctx context.Context, c *Call, a *pagingArgs) ([]byte, error) {
	return pageLocally(ctx, c, &a.Paging, c.Client.Profiles)
}

// pageLocally pages a list that Zoho returns whole (roles, profiles), so
// that limit, the result budget and next_cursor work the same as for
// users: a cursor is the offset of the next record.
func pageLocally(ctx context.Context, c *Call, p *Paging, fetch func(context.Context) ([]json.RawMessage, error)) ([]byte, error) {
	limit := p.size(defaultLimit)
	key := strconv.Itoa(limit)
	offset, err := c.position(p, key)
	if err != nil {
		return nil, err
	}
	all, err := fetch(ctx)
	if err != nil {
		return nil, err
	}
	out := c.newPage(limit)
	for i := min(offset, len(all)); i < len(all); i++ {
		if !out.add(all[i]) {
			return listResult(out.records, c.cursors.encode(c.Tool, c.account, key, i)), nil
		}
	}
	return listResult(out.records, ""), nil
}

// project keeps only the fields of rec (nil: all of them).
func project(rec json.RawMessage, fields []string) json.RawMessage {
	if fields == nil {
		return rec
	}
	return bigin.Project(rec, func(k string) bool { return slices.Contains(fields, k) })
}

// fields returns the asked fields with id added, without repeats, in
// the tool's order, so that the same set asked in any order is the same
// projection (and the same cursor binding); nil when none were asked.
func (c *Call) fields(asked []string) []string {
	if len(asked) == 0 {
		return nil
	}
	var out []string
	for _, f := range c.declared {
		if f == "id" || slices.Contains(asked, f) {
			out = append(out, f)
		}
	}
	return out
}

func (c *Call) newPage(limit int) *page { return newPage(limit, c.budget) }

// position decodes the call's next_cursor, issued for the same tool,
// account and key (the arguments that shape the list); 0 without one.
func (c *Call) position(p *Paging, key string) (int, error) {
	if p.cursor() == "" {
		return 0, nil
	}
	return c.cursors.decode(p.cursor(), c.Tool, c.account, key)
}
