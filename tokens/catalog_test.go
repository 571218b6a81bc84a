package tokens

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCatalogMatchesSpec(t *testing.T) {
	want := []Tool{
		{"list_all_zohobigin_users", "list", []string{"users", "directory"}},
		{"get_single_zohobigin_user_by_id", "get", []string{"users", "directory"}},
		{"delete_a_zohobigin_user_by_id", "delete", []string{"users", "directory"}},
		{"list_all_zohobigin_current_organization", "list", []string{"organization"}},
		{"list_all_zohobigin_me", "list", []string{"users", "directory"}},
		{"list_all_zohobigin_roles", "list", []string{"roles", "directory", "permissions"}},
		{"list_all_zohobigin_profiles", "list", []string{"profiles", "directory", "permissions"}},
	}
	assert.Equal(t, want, Catalog())
	assert.Equal(t, []string{"directory", "organization", "permissions", "profiles", "roles", "users"}, Tags())

	c := Catalog()
	c[0].Tags[0] = "changed"
	c[0].Name = "changed"
	require.Equal(t, want, Catalog(), "Catalog returns a copy")
}
