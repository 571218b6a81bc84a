package memstore

import "github.com/bigin-mcp/bigin-mcp/store/internal/kv"

// Backend returns the transactions s runs its rules on.
func Backend(s *Store) kv.Backend { return s.mem }
