package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// The record tools: the CRM records of the seven modules, read and
// written with Zoho's field API names passed through unchanged both ways.

// Paging of the record lists.
const recordLimit = 50

// defaultFields are what a record list returns without `fields` (Zoho
// requires fields on every list): a short set per module that names a
// record and says where it stands; id always comes back. The tools'
// descriptions name them.
var defaultFields = map[string][]string{
	bigin.ModuleContacts: {"First_Name", "Last_Name", "Email", "Phone", "Account_Name", "Owner", "Modified_Time"},
	bigin.ModuleAccounts: {"Account_Name", "Phone", "Website", "Owner", "Modified_Time"},
	bigin.ModulePipelines: {"Deal_Name", "Stage", "Sub_Pipeline", "Pipeline", "Amount", "Closing_Date", "Account_Name", "Contact_Name",
		"Owner", "Modified_Time"},
	bigin.ModuleProducts: {"Product_Name", "Product_Code", "Unit_Price", "Product_Active", "Owner", "Modified_Time"},
	bigin.ModuleTasks:    {"Subject", "Due_Date", "Status", "Priority", "Owner", "Modified_Time"},
	bigin.ModuleEvents:   {"Event_Title", "Start_DateTime", "End_DateTime", "Owner", "Modified_Time"},
	bigin.ModuleCalls:    {"Subject", "Call_Type", "Call_Start_Time", "Call_Duration", "Owner", "Modified_Time"},
	bigin.RelatedNotes:   {"Note_Title", "Note_Content", "Parent_Id", "Owner", "Created_Time"},
}

// recordFields returns the fields a list asks Zoho for: the call's, once
// each, or the module's default set.
func recordFields(module string, asked []string) []string {
	if len(asked) == 0 {
		return defaultFields[module]
	}
	var out []string
	for _, f := range asked {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// parentModules are the modules whose records have related lists and
// notes.
func parentModules() []string {
	var out []string
	for _, m := range bigin.Modules() {
		if bigin.RelatedLists(m) != nil {
			out = append(out, m)
		}
	}
	return out
}

// relatedNames are every related list's name, Notes first.
func relatedNames() []string {
	out := []string{bigin.RelatedNotes}
	for _, m := range bigin.Modules() {
		for _, r := range bigin.RelatedLists(m) {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// The scopes of the record tools (the scopes connect links ask for).
var (
	scopeRecords  = "ZohoBigin.modules.ALL"
	scopeNotes    = "ZohoBigin.modules.notes.ALL"
	scopeSettings = "ZohoBigin.settings.ALL"
	scopeSearch   = "ZohoSearch.securesearch.READ"
	scopeCOQL     = "ZohoBigin.coql.READ"
)

// The words the record tools' descriptions share.
const (
	modulesNote    = "Modules are Zoho's API names: Contacts, Accounts (the app's Companies), Pipelines (the app's Deals), Products, Tasks, Events and Calls. "
	fieldNamesNote = "Field names are Zoho's API names, case-sensitive (e.g. Last_Name, Account_Name, Stage); describe_zohobigin_module lists a module's fields with their types, picklist values and which are required. "
	fieldsNote     = fieldNamesNote + "Lookups come back as {\"name\",\"id\"} objects. "
	valuesNote     = "Values go to Zoho as given: text, numbers, true/false, dates as \"YYYY-MM-DD\", date-times as ISO 8601 with an offset (\"2026-03-01T15:00:00+01:00\"), " +
		"a picklist's value as describe_zohobigin_module lists it, and lookups (Account_Name, Contact_Name, Owner, …) as {\"id\": \"…\"}. "
	keyNote = "Pass an `idempotency_key` (1 to 64 characters, new for each distinct write) to make a retry safe: the same key with the same arguments within 24 hours " +
		"returns the first call's result without writing again; the same key with other arguments is an error (idempotency_key_reused). "
	resultsNote = "The result has one entry per input record, in input order: status success with the record's id, or error with Zoho's code " +
		"(MANDATORY_NOT_FOUND, INVALID_DATA, DUPLICATE_DATA, …), message and the field it concerns; a DUPLICATE_DATA entry carries existing_id, the record that already holds the value, to update instead. " +
		"The call is an error (isError) only when every record failed. "
)

// defaultsNote names the default fields of the modules.
func defaultsNote(modules ...string) string {
	parts := make([]string, 0, len(modules))
	for _, m := range modules {
		parts = append(parts, m+" "+strings.Join(defaultFields[m], ", "))
	}
	return "Without `fields`, each record holds a short default set (id is always included): " + strings.Join(parts, "; ") +
		". Ask for other fields by API name with `fields` (up to 50). "
}

// sameDefaults points at list_zohobigin_records's description, which
// names every module's default fields.
const sameDefaults = "Without `fields`, each record holds its module's default set, which list_zohobigin_records names (id is always included); " +
	"ask for other fields by API name with `fields` (up to 50). "

// The arguments of the record tools.
type (
	// moduleArg is the `module` argument.
	moduleArg struct {
		Module string `json:"module" audit:"keep"`
	}
	describeArgs    struct{ moduleArg }
	listRecordsArgs struct {
		moduleArg
		Fields    []string `json:"fields" audit:"keep"`
		SortBy    string   `json:"sort_by" audit:"keep"`
		SortOrder string   `json:"sort_order" audit:"keep"`
		Pipeline  string   `json:"pipeline" audit:"keep"`
		Paging
	}
	getRecordArgs struct {
		moduleArg
		ID     string   `json:"id" audit:"keep"`
		Fields []string `json:"fields" audit:"keep"`
	}
	searchArgs struct {
		moduleArg
		Criteria string   `json:"criteria"`
		Word     string   `json:"word"`
		Email    string   `json:"email"`
		Phone    string   `json:"phone"`
		Fields   []string `json:"fields" audit:"keep"`
		Paging
	}
	queryArgs struct {
		SelectQuery string `json:"select_query"`
		Paging
	}
	relatedArgs struct {
		moduleArg
		ID       string   `json:"id" audit:"keep"`
		Related  string   `json:"related" audit:"keep"`
		Pipeline string   `json:"pipeline" audit:"keep"`
		Fields   []string `json:"fields" audit:"keep"`
		Paging
	}
	createArgs struct {
		moduleArg
		Records []json.RawMessage `json:"records" audit:"count"`
		idempotent
	}
	updateArgs struct {
		moduleArg
		Records []json.RawMessage `json:"records" audit:"count"`
	}
	deleteArgs struct {
		moduleArg
		IDs []string `json:"ids" audit:"keep"`
	}
	noteArgs struct {
		moduleArg
		RecordID string `json:"record_id" audit:"keep"`
		Content  string `json:"content"`
		Title    string `json:"title"`
		idempotent
	}
)

func (m *moduleArg) modules() []string { return []string{m.Module} }

// modules of a related list: the parent's, and the related records'
// unless they are notes.
func (a *relatedArgs) modules() []string {
	if a.Related == bigin.RelatedNotes {
		return []string{a.Module}
	}
	return []string{a.Module, a.Related}
}

// modules of a query: each FROM's (a subquery's too), the first first,
// spelled as the module's API name ("" when the query names none; the
// tool refuses it). The modules its lookups read need the account's
// field metadata: queryRecords checks them (checkLookups).
func (a *queryArgs) modules() []string {
	q, err := bigin.ReadQuery(a.SelectQuery)
	if err != nil {
		return []string{""}
	}
	out := make([]string, len(q.Modules))
	for i, m := range q.Modules {
		out[i] = moduleName(m)
	}
	return out
}

// moduleName spells a module's name as its API name when it is one of
// the record modules, whatever its case; other names stay as they are.
func moduleName(m string) string {
	if i := slices.IndexFunc(bigin.Modules(), func(n string) bool { return strings.EqualFold(n, m) }); i >= 0 {
		return bigin.Modules()[i]
	}
	return m
}

// lookupRefused is a query refused for a module its lookups read (code
// module_not_allowed); nothing of it reached Zoho.
type lookupRefused struct{ message, hint string }

func (e *lookupRefused) Error() string { return e.message }

// checkLookups refuses a query whose columns in dot notation
// (Account_Name.Phone, in SELECT, WHERE or ORDER BY) read a module the
// call may not act on. Each name before a dot must be a lookup, to one
// allowed module, of the module it is read in (the FROM modules first,
// then the lookup's), by the account's field metadata; a column that
// follows anything else (Owner's users, a lookup to several modules, a
// name the metadata does not know) is refused too, since where it leads
// cannot be told. A quoted value that reads as a dotted name is refused
// only when its first name is such a lookup. A URL that allows every
// module checks nothing and reads no metadata.
func (c *Call) checkLookups(ctx context.Context, q bigin.Query) error {
	if len(c.modules) == 0 {
		return nil
	}
	var from []string
	for _, m := range q.Modules {
		if m = moduleName(m); slices.Contains(c.modules, m) && !slices.Contains(from, m) {
			from = append(from, m)
		}
	}
	allowed := strings.Join(c.modules, ", ")
	check := func(column string, strict bool) error {
		names := strings.Split(column, ".")
		in := from
		for k, name := range names[:len(names)-1] {
			var next []string
			for _, m := range in {
				meta, err := c.metadata(ctx, m, metaFields)
				if err != nil {
					return err
				}
				for _, f := range meta.fields {
					if !strings.EqualFold(f.APIName, name) {
						continue
					}
					target := moduleName(f.LookupModule)
					if target == "" {
						if !strict && k == 0 && f.DataType != "lookup" && f.DataType != "ownerlookup" {
							continue // a value naming a field that is not a lookup
						}
						return &lookupRefused{
							message: fmt.Sprintf("This MCP URL's tools act only on %s, and the query's column %s does not follow a lookup to one of them "+
								"(%s of %s is not a lookup to one module); the query was not sent to Zoho.", allowed, clip(column), clip(name), m),
							hint: "Select the lookup itself (its id comes back) or columns of the allowed modules, or ask an administrator for a URL that allows every module.",
						}
					}
					if !slices.Contains(c.modules, target) {
						return &lookupRefused{
							message: fmt.Sprintf("This MCP URL does not allow the %s module, which the query's column %s reads through a lookup (%s of %s); "+
								"its tools act only on %s; the query was not sent to Zoho.", target, clip(column), clip(name), m, allowed),
							hint: "Select the lookup itself (its id comes back) or columns of the allowed modules, or ask an administrator for a URL that allows " + target + ".",
						}
					}
					next = append(next, target)
				}
			}
			if len(next) == 0 {
				if !strict && k == 0 {
					return nil // a value such as 'www.example.com'
				}
				return &lookupRefused{
					message: fmt.Sprintf("This MCP URL's tools act only on %s, and the query's column %s does not follow a lookup to one of them "+
						"(%s is not a field of %s); the query was not sent to Zoho.", allowed, clip(column), clip(name), strings.Join(in, " or ")),
					hint: "Check the column with describe_zohobigin_module, which names each lookup's module.",
				}
			}
			in = next
		}
		return nil
	}
	for _, col := range q.Lookups {
		if err := check(col, true); err != nil {
			return err
		}
	}
	for _, col := range q.MaybeLookups {
		if err := check(col, false); err != nil {
			return err
		}
	}
	return nil
}

// recordTools declares the tools of the CRM records.
func recordTools() []Tool {
	all, parents := bigin.Modules(), parentModules()
	records := []string{"records"}
	notFound := map[string]string{"INVALID_DATA": "No record of this module has id {id}, or a value is invalid; " +
		"find ids with list_zohobigin_records or search_zohobigin_records, and field names with describe_zohobigin_module."}
	badList := map[string]string{"INVALID_DATA": "Check `fields` (Zoho's API names, case-sensitive; describe_zohobigin_module lists them) and any id or pipeline given."}
	// write is a write of any module's records: the records tag and scope,
	// and the per-record results.
	write := func(t Tool) Tool {
		t.Tags, t.Scopes, t.Modules, t.Output = records, []string{scopeRecords}, all, writeOutput()
		return t
	}
	return []Tool{
		{
			Name:  "describe_zohobigin_module",
			Title: "Describe a Bigin module",
			Description: "Describes one module of the connected Zoho Bigin organization: each field's API name (what the record tools read and write), label, type, " +
				"whether it is required when creating a record, whether it is read-only, a picklist's values (`options`) and the module a lookup points to; " +
				"for Pipelines also each team pipeline with its id, sub-pipelines and stages in order. " +
				"Call it before creating or updating records, and to find the field names for `fields`, search criteria and COQL. " + modulesNote +
				"Answers from a cache refreshed every 10 minutes.",
			Method:  tokens.MethodGet,
			Tags:    []string{"records", "metadata"},
			Scopes:  []string{scopeSettings},
			Modules: all,
			Input:   object(map[string]any{"module": moduleSchema(all, "The module to describe.")}, "module"),
			Output:  outputSchema(describeSchema()),
			Run:     handle(describeModule),
		},
		{
			Name:  "list_zohobigin_records",
			Title: "List Bigin records",
			Description: "Lists the records of one module of the connected Zoho Bigin organization, newest first unless `sort_by` (id, Created_Time or Modified_Time) and `sort_order` say otherwise. " +
				modulesNote + defaultsNote(all...) + fieldsNote +
				"For Pipelines, `pipeline` (a team pipeline's name or id; describe_zohobigin_module lists them) lists that team pipeline's deals only. " +
				"To find records by a name, email, phone or value use search_zohobigin_records; for conditions, other orders or exact columns use query_zohobigin_records. " + pagingNote,
			Method:  tokens.MethodList,
			Tags:    records,
			Scopes:  []string{scopeRecords, scopeSettings},
			Modules: all,
			Hints:   badList,
			Input: object(map[string]any{
				"module":      moduleSchema(all, "The module whose records to list."),
				"fields":      recordFieldsSchema(),
				"sort_by":     map[string]any{"type": "string", "enum": bigin.SortFields(), "description": "Sort by id (the default), Created_Time or Modified_Time."},
				"sort_order":  map[string]any{"type": "string", "enum": []string{"asc", "desc"}, "description": "asc or desc (the default)."},
				"pipeline":    pipelineSchema("Pipelines only: list the deals of this team pipeline, by its name or id."),
				"limit":       recordLimitSchema(),
				"next_cursor": cursorSchema(),
			}, "module"),
			Output: listOutput("Zoho record objects with the requested (or default) fields and id."),
			Run:    handle(listRecords),
		},
		{
			Name:  "get_single_zohobigin_record_by_id",
			Title: "Get a Bigin record",
			Description: "Returns one record of a module by id, with all its fields, or only `fields` (id is always included). " + modulesNote + fieldsNote +
				"Find ids with list_zohobigin_records, search_zohobigin_records or query_zohobigin_records.",
			Method:  tokens.MethodGet,
			Tags:    records,
			Scopes:  []string{scopeRecords},
			Modules: all,
			Hints:   notFound,
			Input: object(map[string]any{
				"module": moduleSchema(all, "The record's module."),
				"id":     idSchema("The record's id: Zoho's numeric id as a string."),
				"fields": recordFieldsSchema(),
			}, "module", "id"),
			Output: getOutput("The Zoho record object, unchanged (only the requested `fields` and id when fields is given)."),
			Run:    handle(getRecord),
		},
		{
			Name:  "search_zohobigin_records",
			Title: "Search Bigin records",
			Description: "Searches one module's records. Give exactly one of: `word`, matched in any text field (the quickest way to find a record by a name or any word in it); " +
				"`email`; `phone`; or `criteria`, Zoho's criteria syntax: (Field:operator:value), combined as ((A)and(B)) or ((A)or(B)); " +
				"operators equals, starts_with and in for text, greater_than, less_than and between for numbers and dates; escape ( ) and , in values with a backslash. " +
				"Prefer it over COQL to find records by name, email or phone; Zoho searches at most 2,000 matches, and a record written a moment ago may not be found yet. " +
				modulesNote + sameDefaults + fieldsNote + pagingNote,
			Method:  tokens.MethodList,
			Tags:    []string{"records", "search"},
			Scopes:  []string{scopeRecords, scopeSearch},
			Modules: all,
			Hints: map[string]string{"INVALID_QUERY": "Check the criteria: (Field:operator:value) with a field's API name (describe_zohobigin_module), combined as ((A)and(B)).",
				"INVALID_DATA": badList["INVALID_DATA"]},
			Input: object(map[string]any{
				"module":      moduleSchema(all, "The module to search."),
				"criteria":    searchSchema("Zoho's criteria, e.g. ((Last_Name:equals:Boyle)and(Email:starts_with:p))."),
				"word":        searchSchema("A word to find in any text field, e.g. a name."),
				"email":       searchSchema("An email address to find."),
				"phone":       searchSchema("A phone number to find."),
				"fields":      recordFieldsSchema(),
				"limit":       recordLimitSchema(),
				"next_cursor": cursorSchema(),
			}, "module"),
			Output: listOutput("Matching Zoho record objects with the requested (or default) fields and id."),
			Run:    handle(searchRecords),
		},
		{
			Name:  "query_zohobigin_records",
			Title: "Query Bigin records with COQL",
			Description: "Runs a read-only COQL query, Zoho's SQL-like dialect, over one module: SELECT Field1, Field2 FROM Module [WHERE condition] [ORDER BY Field ASC|DESC] [LIMIT n [OFFSET m]]. " +
				"Comparators: =, !=, <, >, <=, >=, like '%text%', in ('a', 'b'), between, is null, is not null; strings in single quotes; " +
				"more than two conditions need brackets, ((A and B) and C); lookups' fields by dot notation (Account_Name.Account_Name). " +
				"Rows hold the selected columns and id; a selected lookup comes back as {\"id\"} only. A query without WHERE gets `where id is not null` (Zoho's COQL wants a WHERE). " +
				"COQL returns at most 200 rows a call and reaches at most 10,000 rows in all (LIMIT plus OFFSET): without a LIMIT the server pages the query for you, `limit` rows a call, continued with next_cursor; " +
				"with its own LIMIT the query runs as written. The FROM module, and the module of every lookup read by dot notation, must be ones this URL allows. " + modulesNote +
				"Use it for conditions search cannot express (not equal, empty fields, ranges, several fields), ordering by any field and exact columns; " +
				"to find a record by name, email or phone, search_zohobigin_records is simpler. " + fieldNamesNote + pagingNote,
			Method:  tokens.MethodList,
			Tags:    []string{"records", "search"},
			Scopes:  []string{scopeCOQL, scopeRecords, scopeSettings},
			Modules: all,
			Hints: map[string]string{
				"SYNTAX_ERROR":   "Check the query's grammar near the place Zoho names: SELECT columns FROM Module WHERE … with strings in single quotes and brackets around more than two conditions.",
				"INVALID_QUERY":  "Check the column and module names (Zoho's API names: describe_zohobigin_module lists a module's fields) and the comparators each field type allows.",
				"LIMIT_EXCEEDED": "COQL returns at most 200 rows a call (LIMIT) and reaches at most 10,000 rows (LIMIT plus OFFSET); lower them, or leave LIMIT out and page with next_cursor.",
			},
			Input: object(map[string]any{
				"select_query": map[string]any{"type": "string", "minLength": 1, "maxLength": 10000,
					"description": "The COQL query, e.g. SELECT Deal_Name, Stage, Amount FROM Pipelines WHERE Amount > 10000 ORDER BY Amount DESC."},
				"limit":       recordLimitSchema(),
				"next_cursor": cursorSchema(),
			}, "select_query"),
			Output: listOutput("The query's rows: the selected columns and id."),
			Run:    handle(queryRecords),
		},
		{
			Name:  "list_zohobigin_related_records",
			Title: "List a Bigin record's related records",
			Description: "Lists the records related to one record: its Notes, or the records of another module linked to it. " +
				"Only Contacts, Accounts (Companies), Pipelines (Deals) and Products have related lists: a contact's Pipelines, Products, Tasks, Events and Calls; " +
				"a company's Contacts, Pipelines, Products, Tasks, Events and Calls; a deal's Contacts, Products, Tasks, Events and Calls; a product's Contacts, Accounts and Pipelines; every one's Notes. " +
				"A contact's Pipelines cover every team pipeline unless `pipeline` names one. " +
				sameDefaults + defaultsNote(bigin.RelatedNotes) + fieldsNote + pagingNote,
			Method:  tokens.MethodList,
			Tags:    records,
			Scopes:  []string{scopeRecords, scopeNotes, scopeSettings},
			Modules: parents,
			Hints:   notFound,
			Input: object(map[string]any{
				"module":      moduleSchema(parents, "The parent record's module."),
				"id":          idSchema("The parent record's id."),
				"related":     map[string]any{"type": "string", "enum": relatedNames(), "description": "The related list: Notes, or the module of the related records."},
				"pipeline":    pipelineSchema("A contact's Pipelines only: the deals of this team pipeline, by its name or id (default: every team pipeline)."),
				"fields":      recordFieldsSchema(),
				"limit":       recordLimitSchema(),
				"next_cursor": cursorSchema(),
			}, "module", "id", "related"),
			Output: listOutput("The related Zoho records with the requested (or default) fields and id."),
			Run:    handle(relatedRecords),
		},
		write(Tool{
			Name:  "create_zohobigin_records",
			Title: "Create Bigin records",
			Description: "Creates 1 to 100 records in one module. Each record is an object of field API names to values. " + valuesNote +
				"Required fields: Contacts Last_Name; Accounts Account_Name; Pipelines Deal_Name, Sub_Pipeline and Stage (with Pipeline {\"id\": a team pipeline's id}); Products Product_Name; " +
				"Tasks Subject; Events Event_Title, Start_DateTime and End_DateTime; Calls Subject, Call_Type, Call_Start_Time and Call_Duration (describe_zohobigin_module tells this organization's). " +
				resultsNote + keyNote + modulesNote,
			Method: tokens.MethodCreate,
			Input: object(map[string]any{
				"module":          moduleSchema(all, "The module to create the records in."),
				"records":         recordsSchema("The records to create: objects of field API names to values.", false),
				"idempotency_key": keySchema(),
			}, "module", "records"),
			Run: handle(createRecords),
		}),
		write(Tool{
			Name:  "update_zohobigin_records",
			Title: "Update Bigin records",
			Description: "Updates 1 to 100 records of one module: each record is {\"id\": \"…\"} plus only the fields to change. " + valuesNote +
				"To move a deal to another stage: module Pipelines, records [{\"id\": \"…\", \"Stage\": \"Negotiation/Review\"}], with a stage of the deal's team pipeline (describe_zohobigin_module lists them). " +
				resultsNote + "An unknown id is that record's INVALID_DATA. " + modulesNote,
			Method: tokens.MethodUpdate,
			Input: object(map[string]any{
				"module":  moduleSchema(all, "The records' module."),
				"records": recordsSchema("The changes: each record's id and the fields to change.", true),
			}, "module", "records"),
			Run: handle(updateRecords),
		}),
		write(Tool{
			Name:  "delete_zohobigin_records_by_ids",
			Title: "Delete Bigin records",
			Description: "Deletes 1 to 100 records of one module by id. Deleting cannot be undone through this server: confirm the records " +
				"(get_single_zohobigin_record_by_id) with the person you act for before calling. " +
				"The result has one entry per id, in order: status success, or error with Zoho's code (an unknown id is INVALID_DATA). " + modulesNote,
			Method: tokens.MethodDelete,
			Input: object(map[string]any{
				"module": moduleSchema(all, "The records' module."),
				"ids": map[string]any{"type": "array", "minItems": 1, "maxItems": bigin.MaxWriteRecords,
					"items":       map[string]any{"type": "string", "pattern": idPattern},
					"description": "The ids of the records to delete (1 to 100)."},
			}, "module", "ids"),
			Run: handle(deleteRecords),
		}),
		{
			Name:  "add_zohobigin_note",
			Title: "Add a note to a Bigin record",
			Description: "Adds a note to one record of Contacts, Accounts (Companies), Pipelines (Deals) or Products: `content`, and an optional `title`. " +
				"The result is one entry with the new note's id (the write tools' shape). " + keyNote +
				"A record's notes: list_zohobigin_related_records with related Notes.",
			Method:  tokens.MethodCreate,
			Tags:    []string{"records", "notes"},
			Scopes:  []string{scopeRecords, scopeNotes},
			Modules: parents,
			Hints:   notFound,
			Input: object(map[string]any{
				"module":          moduleSchema(parents, "The record's module."),
				"record_id":       idSchema("The id of the record to add the note to."),
				"content":         map[string]any{"type": "string", "minLength": 1, "maxLength": 32000, "description": "The note's text."},
				"title":           map[string]any{"type": "string", "maxLength": 255, "description": "The note's title (optional)."},
				"idempotency_key": keySchema(),
			}, "module", "record_id", "content"),
			Output: writeOutput(),
			Run:    handle(addNote),
		},
	}
}

func moduleSchema(modules []string, desc string) map[string]any {
	return map[string]any{"type": "string", "enum": modules,
		"description": desc + " Zoho's module API name: Accounts are the app's Companies, Pipelines its Deals."}
}

func recordFieldsSchema() map[string]any {
	return map[string]any{
		"type": "array", "minItems": 1, "maxItems": bigin.MaxFields,
		"items": map[string]any{"type": "string"},
		"description": "Only these fields of each record, by Zoho's API name (case-sensitive); id is always included. " +
			"Omit for the default set named in the description; describe_zohobigin_module lists every field.",
	}
}

func recordLimitSchema() map[string]any {
	return map[string]any{
		"type": "integer", "minimum": 1, "maximum": maxLimit, "default": recordLimit,
		"description": "The most records per page, 1 to 200 (default 50). A page may hold fewer to stay within the server's result size budget.",
	}
}

func pipelineSchema(desc string) map[string]any {
	return map[string]any{"type": "string", "minLength": 1, "maxLength": 200, "description": desc}
}

func searchSchema(desc string) map[string]any {
	return map[string]any{"type": "string", "minLength": 1, "maxLength": 2000, "description": desc + " Give exactly one of criteria, word, email and phone."}
}

func keySchema() map[string]any {
	return map[string]any{"type": "string", "minLength": 1, "maxLength": tokens.MaxIdempotencyKey,
		"description": "Makes a retry safe: a call with the same key and arguments within 24 hours returns this call's result without writing again."}
}

// recordsSchema is the `records` argument of a write; withID requires
// each record's id.
func recordsSchema(desc string, withID bool) map[string]any {
	item := map[string]any{"type": "object"}
	if withID {
		item["properties"] = map[string]any{"id": idSchema("The record's id.")}
		item["required"] = []string{"id"}
	}
	return map[string]any{"type": "array", "minItems": 1, "maxItems": bigin.MaxWriteRecords, "items": item, "description": desc}
}

func describeSchema() map[string]any {
	str := map[string]any{"type": "string"}
	strs := map[string]any{"type": "array", "items": str}
	return map[string]any{
		"type":        "object",
		"description": "The module's fields, and for Pipelines its team pipelines.",
		"properties": map[string]any{
			"module": str,
			"fields": map[string]any{"type": "array", "items": map[string]any{
				"type": "object",
				"properties": map[string]any{
					"api_name":  map[string]any{"type": "string", "description": "The name records and calls use."},
					"label":     str,
					"type":      map[string]any{"type": "string", "description": "Zoho's data type: text, email, phone, picklist, date, datetime, currency, boolean, lookup, ownerlookup, …"},
					"required":  map[string]any{"type": "boolean", "description": "Must be given when creating a record."},
					"read_only": map[string]any{"type": "boolean", "description": "Set by Zoho; writes ignore it."},
					"options":   map[string]any{"type": "array", "items": str, "description": "A picklist's values, in order."},
					"lookup":    map[string]any{"type": "string", "description": "The module a lookup points to; its value is {\"id\": \"…\"}."},
				},
				"required": []string{"api_name", "label", "type", "required", "read_only"},
			}},
			"pipelines": map[string]any{"type": "array", "description": "Pipelines only: the team pipelines.", "items": map[string]any{
				"type": "object",
				"properties": map[string]any{
					"id":     map[string]any{"type": "string", "description": "The team pipeline's id: a deal's Pipeline {\"id\"} and the `pipeline` argument."},
					"name":   str,
					"stages": map[string]any{"type": "array", "items": str, "description": "Its stages (the Stage values), in order."},
					"sub_pipelines": map[string]any{"type": "array", "description": "Its sub-pipelines (a deal's Sub_Pipeline), each with its stages when Zoho maps them.",
						"items": map[string]any{"type": "object", "properties": map[string]any{"name": str, "stages": strs}}},
				},
				"required": []string{"id", "name", "stages"},
			}},
		},
		"required": []string{"module", "fields"},
	}
}

// describeModule answers from the account's metadata cache.
func describeModule(ctx context.Context, c *Call, a *describeArgs) ([]byte, error) {
	meta, err := c.metadata(ctx, a.Module, metaFields)
	if err != nil {
		return nil, err
	}
	fields := meta.fields
	type fieldView struct {
		APIName  string   `json:"api_name"`
		Label    string   `json:"label"`
		Type     string   `json:"type"`
		Required bool     `json:"required"`
		ReadOnly bool     `json:"read_only"`
		Options  []string `json:"options,omitempty"`
		Lookup   string   `json:"lookup,omitempty"`
	}
	type subView struct {
		Name   string   `json:"name"`
		Stages []string `json:"stages,omitempty"`
	}
	type pipelineView struct {
		ID           string    `json:"id"`
		Name         string    `json:"name"`
		Stages       []string  `json:"stages"`
		SubPipelines []subView `json:"sub_pipelines,omitempty"`
	}
	out := struct {
		Module    string         `json:"module"`
		Fields    []fieldView    `json:"fields"`
		Pipelines []pipelineView `json:"pipelines,omitempty"`
	}{Module: a.Module, Fields: make([]fieldView, 0, len(fields))}
	for _, f := range fields {
		v := fieldView{APIName: f.APIName, Label: f.Label, Type: f.DataType, Required: f.SystemMandatory, ReadOnly: f.ReadOnly, Lookup: f.LookupModule}
		for _, o := range f.PickList {
			v.Options = append(v.Options, o.ActualValue)
		}
		out.Fields = append(out.Fields, v)
	}
	if a.Module == bigin.ModulePipelines {
		meta, err := c.metadata(ctx, bigin.ModulePipelines, metaLayouts)
		if err != nil {
			return nil, err
		}
		for _, l := range meta.layouts {
			p := pipelineView{ID: l.ID, Name: l.Name, Stages: l.Stages()}
			if p.Stages == nil {
				p.Stages = []string{}
			}
			for _, sp := range l.SubPipelines() {
				p.SubPipelines = append(p.SubPipelines, subView{Name: sp.Name, Stages: sp.Stages})
			}
			out.Pipelines = append(out.Pipelines, p)
		}
	}
	return json.Marshal(map[string]any{"result": out})
}

// pipelineID resolves a team pipeline given by name (without case) or id.
func (c *Call) pipelineID(ctx context.Context, nameOrID string) (string, error) {
	meta, err := c.metadata(ctx, bigin.ModulePipelines, metaLayouts)
	if err != nil {
		return "", err
	}
	var known []string
	for _, l := range meta.layouts {
		if l.ID == nameOrID || strings.EqualFold(l.Name, nameOrID) || strings.EqualFold(l.DisplayLabel, nameOrID) {
			return l.ID, nil
		}
		known = append(known, fmt.Sprintf("%s (id %s)", l.Name, l.ID))
	}
	return "", &ArgsError{Tool: c.Tool, Problems: []string{fmt.Sprintf("pipeline %q is not a team pipeline of this organization; its team pipelines are %s",
		clip(nameOrID), strings.Join(known, ", "))}}
}

func listRecords(ctx context.Context, c *Call, a *listRecordsArgs) ([]byte, error) {
	fields := recordFields(a.Module, a.Fields)
	limit := a.size(recordLimit)
	var pid string
	if a.Pipeline != "" {
		if a.Module != bigin.ModulePipelines {
			return nil, &ArgsError{Tool: c.Tool, Problems: []string{"pipeline applies to module Pipelines only"}}
		}
		var err error
		if pid, err = c.pipelineID(ctx, a.Pipeline); err != nil {
			return nil, err
		}
	}
	key := strings.Join([]string{"r1", a.Module, a.SortBy, a.SortOrder, pid, strconv.Itoa(limit), strings.Join(fields, ",")}, "|")
	return c.pageList(ctx, &a.Paging, limit, key, func(ctx context.Context, page, perPage int) (bigin.Page, error) {
		return c.Client.ListRecords(ctx, bigin.ListRecordsParams{Module: a.Module, Fields: fields, Page: page, PerPage: perPage,
			SortBy: a.SortBy, SortOrder: a.SortOrder, PipelineID: pid})
	}, asIs)
}

func getRecord(ctx context.Context, c *Call, a *getRecordArgs) ([]byte, error) {
	var fields []string
	if len(a.Fields) > 0 {
		fields = recordFields(a.Module, a.Fields)
	}
	rec, err := c.Client.GetRecord(ctx, a.Module, a.ID, fields)
	if err != nil {
		return nil, err
	}
	return recordResult(rec), nil
}

// searchRecords leaves the rule of exactly one of criteria, word, email
// and phone to the client, which refuses anything else before sending.
func searchRecords(ctx context.Context, c *Call, a *searchArgs) ([]byte, error) {
	fields := recordFields(a.Module, a.Fields)
	limit := a.size(recordLimit)
	key := strings.Join([]string{"s1", a.Module, a.Criteria, a.Word, a.Email, a.Phone, strconv.Itoa(limit), strings.Join(fields, ",")}, "|")
	p := bigin.SearchParams{Module: a.Module, Criteria: a.Criteria, Word: a.Word, Email: a.Email, Phone: a.Phone, Fields: fields}
	return c.pageList(ctx, &a.Paging, limit, key, func(ctx context.Context, page, perPage int) (bigin.Page, error) {
		p.Page, p.PerPage = page, perPage
		return c.Client.SearchRecords(ctx, p)
	}, asIs)
}

func queryRecords(ctx context.Context, c *Call, a *queryArgs) ([]byte, error) {
	q, err := bigin.ReadQuery(a.SelectQuery)
	if err != nil {
		return nil, err
	}
	if err := c.checkLookups(ctx, q); err != nil {
		return nil, err
	}
	limit := a.size(recordLimit)
	key := "q1|" + strconv.Itoa(limit) + "|" + q.Text
	pos, err := c.position(&a.Paging, key)
	if err != nil {
		return nil, err
	}
	out := c.newPage(limit)
	if q.HasLimit {
		// Run as written, one call; a cursor is a row of its answer.
		pg, err := c.Client.QueryRecords(ctx, q.Complete())
		if err != nil {
			return nil, err
		}
		for i := min(pos, len(pg.Records)); i < len(pg.Records); i++ {
			if !out.add(pg.Records[i]) {
				return c.listEnd(out, key, i, false), nil
			}
		}
		return c.listEnd(out, key, 0, true), nil
	}
	// Paged by the server: a cursor is the OFFSET of the next row.
	if pos >= bigin.MaxQueryOffset {
		return c.listEnd(out, key, 0, true), nil
	}
	n := min(limit, bigin.MaxQueryRows, bigin.MaxQueryOffset-pos)
	pg, err := c.Client.QueryRecords(ctx, q.Page(n, pos))
	if err != nil {
		return nil, err
	}
	for i, r := range pg.Records {
		if !out.add(r) {
			return c.listEnd(out, key, pos+i, false), nil
		}
	}
	next := pos + len(pg.Records)
	return c.listEnd(out, key, next, !pg.Info.MoreRecords || len(pg.Records) == 0 || next >= bigin.MaxQueryOffset), nil
}

// pipelineShift splits a position across a contact's team pipelines: the
// pipeline's index above it, the position in that pipeline's deals below.
const pipelineShift = 24

func relatedRecords(ctx context.Context, c *Call, a *relatedArgs) ([]byte, error) {
	lists := bigin.RelatedLists(a.Module)
	if !slices.Contains(lists, a.Related) {
		return nil, &ArgsError{Tool: c.Tool, Problems: []string{fmt.Sprintf("related must be one of %s for a %s record; got %q",
			strings.Join(lists, ", "), a.Module, clip(a.Related))}}
	}
	contactDeals := a.Module == bigin.ModuleContacts && a.Related == bigin.ModulePipelines
	if a.Pipeline != "" && !contactDeals {
		return nil, &ArgsError{Tool: c.Tool, Problems: []string{"pipeline applies only to a contact's Pipelines (module Contacts, related Pipelines)"}}
	}
	fields := recordFields(a.Related, a.Fields)
	limit := a.size(recordLimit)
	key := strings.Join([]string{"l1", a.Module, a.ID, a.Related, a.Pipeline, strconv.Itoa(limit), strings.Join(fields, ",")}, "|")
	fetch := func(pid string) func(ctx context.Context, page, perPage int) (bigin.Page, error) {
		return func(ctx context.Context, page, perPage int) (bigin.Page, error) {
			return c.Client.RelatedRecords(ctx, bigin.RelatedParams{Module: a.Module, ID: a.ID, Related: a.Related, Fields: fields,
				Page: page, PerPage: perPage, PipelineID: pid})
		}
	}
	if !contactDeals {
		return c.pageList(ctx, &a.Paging, limit, key, fetch(""), asIs)
	}
	// Zoho lists a contact's deals one team pipeline at a time.
	var pipelines []string
	if a.Pipeline != "" {
		pid, err := c.pipelineID(ctx, a.Pipeline)
		if err != nil {
			return nil, err
		}
		pipelines = []string{pid}
	} else {
		meta, err := c.metadata(ctx, bigin.ModulePipelines, metaLayouts)
		if err != nil {
			return nil, err
		}
		for _, l := range meta.layouts {
			pipelines = append(pipelines, l.ID)
		}
	}
	pos, err := c.position(&a.Paging, key)
	if err != nil {
		return nil, err
	}
	out := c.newPage(limit)
	reads := 0
	for idx, off := pos>>pipelineShift, pos&(1<<pipelineShift-1); idx < len(pipelines); idx, off = idx+1, 0 {
		next, done, err := fill(ctx, out, off, &reads, fetch(pipelines[idx]), asIs)
		if err != nil {
			return nil, err
		}
		switch {
		case !done:
			return c.listEnd(out, key, idx<<pipelineShift|next, false), nil
		case idx+1 < len(pipelines) && (out.full() || reads >= maxReadsPerCall):
			return c.listEnd(out, key, (idx+1)<<pipelineShift, false), nil
		}
	}
	return c.listEnd(out, key, 0, true), nil
}

func asIs(rec json.RawMessage) json.RawMessage { return rec }

func createRecords(ctx context.Context, c *Call, a *createArgs) ([]byte, error) {
	return written(c.Client.CreateRecords(ctx, a.Module, a.Records))
}

func updateRecords(ctx context.Context, c *Call, a *updateArgs) ([]byte, error) {
	return written(c.Client.UpdateRecords(ctx, a.Module, a.Records))
}

func deleteRecords(ctx context.Context, c *Call, a *deleteArgs) ([]byte, error) {
	return written(c.Client.DeleteRecords(ctx, a.Module, a.IDs))
}

func addNote(ctx context.Context, c *Call, a *noteArgs) ([]byte, error) {
	res, err := c.Client.AddNote(ctx, a.Module, a.RecordID, bigin.Note{Title: a.Title, Content: a.Content})
	return written([]bigin.WriteResult{res}, err)
}

// written is a write's result: its outcomes (writeResult), or the error
// of the call as a whole.
func written(res []bigin.WriteResult, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	return writeResult(res)
}
