package apptest

// AllTools returns the published tool names in the order clients list
// them: tests assert against the inventory as published, not against the
// catalog that produces it.
func AllTools() []string {
	return []string{
		"list_all_zohobigin_users", "get_single_zohobigin_user_by_id", "delete_a_zohobigin_user_by_id",
		"list_all_zohobigin_current_organization", "list_all_zohobigin_me", "list_all_zohobigin_roles", "list_all_zohobigin_profiles",
	}
}

// ReadTools returns the published read-only tools (methods ["read"]).
func ReadTools() []string {
	return []string{
		"list_all_zohobigin_users", "get_single_zohobigin_user_by_id",
		"list_all_zohobigin_current_organization", "list_all_zohobigin_me", "list_all_zohobigin_roles", "list_all_zohobigin_profiles",
	}
}
