package httpx

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestValidTraceParent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    string
		ok   bool
	}{
		{"the spec's example", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true},
		{"not sampled", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", true},
		{"empty", "", false},
		{"uppercase hex", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", false},
		{"zero trace id", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", false},
		{"zero parent id", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", false},
		{"version ff", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false},
		{"too short", "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", false},
		{"a newline for the log", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0\n", false},
		{"wrong separators", "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.ok, ValidTraceParent(tt.v))
			if tt.ok {
				assert.Equal(t, tt.v[3:35], TraceID(tt.v))
			} else {
				assert.Empty(t, TraceID(tt.v))
			}
		})
	}
}

func TestWithTraceParentIgnoresInvalidValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	assert.Empty(t, TraceParent(WithTraceParent(ctx, "garbage")))
	tp := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	assert.Equal(t, tp, TraceParent(WithTraceParent(ctx, tp)))
}

func TestRouteTemplate(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"GET /admin/audit":    "/admin/audit",
		"/mcp/{token}":        "/mcp/{token}",
		"unmatched":           "unmatched",
		"DELETE /x/{id}/y":    "/x/{id}/y",
		"/admin/":             "/admin/",
		"POST  /double/space": "/double/space",
	} {
		assert.Equal(t, want, routeTemplate(in), in)
	}
}
