package store

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bigin-mcp/bigin-mcp/store/internal/kv"
)

// TestEveryTableHasABucket: each table of the rules lives in a bucket of
// its own that Open creates, so a table added to kv cannot be forgotten
// here.
func TestEveryTableHasABucket(t *testing.T) {
	seen := map[string]kv.Table{}
	for tb := range kv.Table(kv.NumTables) {
		name := string(buckets[tb])
		if !assert.NotEmpty(t, name, "table %s has no bucket", tb) {
			continue
		}
		if other, dup := seen[name]; dup {
			t.Errorf("tables %s and %s share bucket %s", other, tb, name)
		}
		seen[name] = tb
		assert.True(t, slices.ContainsFunc(allBuckets, func(b []byte) bool { return string(b) == name }), "Open does not create bucket %s", name)
	}
}
