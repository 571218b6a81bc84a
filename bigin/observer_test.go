package bigin

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPathTemplateNamesNoRecord(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/users":                 "/users",
		"/users/315674000000291": "/users/{id}",
		"/org":                   "/org",
		"/settings/roles":        "/settings/roles",
		"/settings/roles/42/x":   "/settings/roles/{id}/x",
		"/":                      "/",
	} {
		assert.Equal(t, want, pathTemplate(in), in)
	}
}
