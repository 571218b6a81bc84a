package tokens

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	allTools = []string{
		"list_all_zohobigin_users", "get_single_zohobigin_user_by_id", "delete_a_zohobigin_user_by_id",
		"list_all_zohobigin_current_organization", "list_all_zohobigin_me", "list_all_zohobigin_roles", "list_all_zohobigin_profiles",
	}
	readTools = []string{
		"list_all_zohobigin_users", "get_single_zohobigin_user_by_id",
		"list_all_zohobigin_current_organization", "list_all_zohobigin_me", "list_all_zohobigin_roles", "list_all_zohobigin_profiles",
	}
)

func TestNormalizeConfig(t *testing.T) {
	tests := []struct {
		name      string
		in        Config
		want      Config
		tools     []string
		errSubstr string // non-empty: a 400 whose message holds this
	}{
		{name: "empty is all", in: Config{}, want: Config{}, tools: allTools},
		{name: "empty lists are all", in: Config{Methods: []string{}, Tags: []string{}}, want: Config{}, tools: allTools},
		{name: "read", in: Config{Methods: []string{"read"}}, want: Config{Methods: []string{"read"}}, tools: readTools},
		{name: "write", in: Config{Methods: []string{"write"}}, want: Config{Methods: []string{"write"}}, tools: []string{"delete_a_zohobigin_user_by_id"}},
		{name: "exact get", in: Config{Methods: []string{"get"}}, want: Config{Methods: []string{"get"}}, tools: []string{"get_single_zohobigin_user_by_id"}},
		{name: "normalised", in: Config{Methods: []string{" LIST", "get", "list"}, Tags: []string{"Users", "users"}},
			want:  Config{Methods: []string{"get", "list"}, Tags: []string{"users"}},
			tools: []string{"list_all_zohobigin_users", "get_single_zohobigin_user_by_id", "list_all_zohobigin_me"}},
		{name: "tags any", in: Config{Tags: []string{"organization", "roles"}}, want: Config{Tags: []string{"organization", "roles"}},
			tools: []string{"list_all_zohobigin_current_organization", "list_all_zohobigin_roles"}},
		{name: "methods and tags", in: Config{Methods: []string{"delete"}, Tags: []string{"directory"}, RequireAPITokenAuth: true},
			want:  Config{Methods: []string{"delete"}, Tags: []string{"directory"}, RequireAPITokenAuth: true},
			tools: []string{"delete_a_zohobigin_user_by_id"}},
		{name: "unknown method", in: Config{Methods: []string{"read", "destroy"}}, errSubstr: `unknown method "destroy" in config.methods; valid methods: read, write, list, get, create, update, delete`},
		{name: "unknown tag", in: Config{Tags: []string{"contacts"}}, errSubstr: `unknown tag "contacts" in config.tags; valid tags: directory, organization, permissions, profiles, roles, users`},
		{name: "no tool: create", in: Config{Methods: []string{"create", "update"}}, errSubstr: "config allows no tool"},
		{name: "no tool: delete organization", in: Config{Methods: []string{"write"}, Tags: []string{"organization"}}, errSubstr: "config allows no tool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeConfig(tt.in)
			if tt.errSubstr != "" {
				var e *Error
				require.True(t, errors.As(err, &e), "want *Error, got %v", err)
				assert.Equal(t, CodeInvalidArgument, e.Code)
				assert.Contains(t, e.Message, tt.errSubstr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.tools, AllowedTools(got))
			again, err := NormalizeConfig(got)
			require.NoError(t, err)
			assert.Equal(t, got, again, "normalising is idempotent")
		})
	}
}

func TestAllowedToolsIgnoresUnknownWords(t *testing.T) {
	assert.Empty(t, AllowedTools(Config{Methods: []string{"bogus"}}))
	assert.Equal(t, allTools, AllowedTools(Config{}))
}

func TestParseExpiry(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	raw := func(s string) rawField { return rawField{set: true, raw: []byte(s)} }
	tests := []struct {
		name      string
		in        rawField
		want      expiryChange
		errSubstr string
	}{
		{name: "absent", in: rawField{}, want: expiryChange{}},
		{name: "null removes", in: raw("null"), want: expiryChange{set: true, field: "expires_at"}},
		{name: "61s", in: raw(`"2026-03-01T12:01:01Z"`), want: expiryChange{set: true, field: "expires_at", value: ptr(now.Add(61 * time.Second))}},
		{name: "60s exactly", in: raw(`"2026-03-01T12:01:00Z"`), want: expiryChange{set: true, field: "expires_at", value: ptr(now.Add(60 * time.Second))}},
		{name: "offset is converted to UTC", in: raw(`"2026-03-01T15:00:00+02:00"`), want: expiryChange{set: true, field: "expires_at", value: ptr(now.Add(time.Hour))}},
		{name: "59s", in: raw(`"2026-03-01T12:00:59Z"`), errSubstr: "expires_at must be at least 60 seconds in the future"},
		{name: "past", in: raw(`"2020-01-01T00:00:00Z"`), errSubstr: "at least 60 seconds in the future"},
		{name: "not RFC 3339", in: raw(`"tomorrow"`), errSubstr: "is not an RFC 3339 time"},
		{name: "number", in: raw(`1772400000`), errSubstr: "must be an RFC 3339 time string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseExpiry(tt.in, "expires_at", now)
			if err == nil {
				err = got.check(now)
			}
			if tt.errSubstr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.errSubstr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func ptr[T any](v T) *T { return &v }
