package mcp

// PruneEvery is how many builds pass between sweeps of the server cache.
const PruneEvery = pruneEvery

// CachedServers is how many URLs have a go-sdk server in the cache.
func (h *Handler) CachedServers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.servers)
}
