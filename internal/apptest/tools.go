package apptest

import "slices"

// The published tool inventory, in the order clients list them: tests
// assert against the inventory as published, not against the catalog
// that produces it.

// DirectoryTools returns the tools of users, the organization, roles and
// profiles.
func DirectoryTools() []string {
	return []string{
		"list_all_zohobigin_users", "get_single_zohobigin_user_by_id", "delete_a_zohobigin_user_by_id",
		"list_all_zohobigin_current_organization", "list_all_zohobigin_me", "list_all_zohobigin_roles", "list_all_zohobigin_profiles",
	}
}

// RecordTools returns the tools of the CRM records.
func RecordTools() []string {
	return []string{
		"describe_zohobigin_module", "list_zohobigin_records", "get_single_zohobigin_record_by_id", "search_zohobigin_records",
		"query_zohobigin_records", "list_zohobigin_related_records",
		"create_zohobigin_records", "update_zohobigin_records", "delete_zohobigin_records_by_ids", "add_zohobigin_note",
	}
}

// RecordReadTools returns the record tools that only read.
func RecordReadTools() []string {
	return []string{
		"describe_zohobigin_module", "list_zohobigin_records", "get_single_zohobigin_record_by_id", "search_zohobigin_records",
		"query_zohobigin_records", "list_zohobigin_related_records",
	}
}

// ChatGPTTools returns ChatGPT's search and fetch, offered when a URL
// allows one of Contacts, Accounts and Pipelines; both only read.
func ChatGPTTools() []string { return []string{"search", "fetch"} }

// AllTools returns every published tool: what a URL with no methods,
// tags or modules offers.
func AllTools() []string { return slices.Concat(DirectoryTools(), RecordTools(), ChatGPTTools()) }

// ReadTools returns the published read-only tools (methods ["read"]).
func ReadTools() []string {
	return slices.Concat([]string{
		"list_all_zohobigin_users", "get_single_zohobigin_user_by_id",
		"list_all_zohobigin_current_organization", "list_all_zohobigin_me", "list_all_zohobigin_roles", "list_all_zohobigin_profiles",
	}, RecordReadTools(), ChatGPTTools())
}
