package tokens

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewInventoryRefusesBadTools(t *testing.T) {
	t.Parallel()
	ok := Tool{Name: "a", Method: MethodList, Tags: []string{"x"}}
	for name, tools := range map[string][]Tool{
		"none":       nil,
		"duplicate":  {ok, ok},
		"group word": {{Name: "b", Method: MethodRead}},
		"unknown":    {{Name: "b", Method: "destroy"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewInventory(tools)
			assert.Error(t, err)
		})
	}
	inv, err := NewInventory([]Tool{ok, {Name: "b", Method: MethodDelete, Tags: []string{"y"}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"x", "y"}, inv.Tags())
	read := inv.Allowed(Config{Methods: []string{"read"}})
	assert.Equal(t, []string{"a"}, read)
	assert.Same(t, &read[0], &inv.Allowed(Config{Tags: []string{"x"}})[0], "configs allowing the same tools share one list")
}

// A config field this package does not interpret is kept by Normalize,
// not dropped.
func TestNormalizeKeepsEveryField(t *testing.T) {
	t.Parallel()
	inv, err := NewInventory([]Tool{{Name: "a", Method: MethodList}})
	require.NoError(t, err)
	got, err := inv.Normalize(Config{RequireAPITokenAuth: true})
	require.NoError(t, err)
	assert.True(t, got.RequireAPITokenAuth)
}
