package etcdstore

import "github.com/bigin-mcp/bigin-mcp/store/internal/kv"

// Backend returns the transactions s runs its rules on.
func Backend(s *Store) kv.Backend { return backend{s} }

// SetTrimEvery sets how many audit appends pass between two retention
// checks in stores opened afterwards, and returns the undo.
func SetTrimEvery(n int) (undo func()) {
	old := trimEvery
	trimEvery = n
	return func() { trimEvery = old }
}
