package etcdstore

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bigin-mcp/bigin-mcp/store/internal/kv"
)

// TestLayout: each table of the rules has a key prefix of its own that no
// other prefix (nor meta/, lock/, elect/) starts with, and only accounts
// and servers live under r/, the change feed's watch.
func TestLayout(t *testing.T) {
	dirs := []string{"meta/", "lock/", "elect/"}
	for tb := range kv.Table(kv.NumTables) {
		d := layout[tb].dir
		if !assert.True(t, strings.HasSuffix(d, "/"), "table %s has no key prefix", tb) {
			continue
		}
		for _, o := range dirs {
			assert.False(t, strings.HasPrefix(d, o) || strings.HasPrefix(o, d), "table %s (%s) overlaps %s", tb, d, o)
		}
		dirs = append(dirs, d)
		watched := tb == kv.Accounts || tb == kv.Servers
		assert.Equal(t, watched, strings.HasPrefix(d, "r/"), "table %s (%s): r/ is what the feed watches", tb, d)
	}
}
