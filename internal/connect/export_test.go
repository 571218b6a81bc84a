package connect

import "time"

// SignState and CheckState expose the OAuth state to the external tests.
func (h *Handler) SignState(linkID string, expires time.Time) string {
	return h.signState(linkID, expires)
}

// CheckState returns the link id of a valid state.
func (h *Handler) CheckState(state string) (string, error) { return h.checkState(state) }

// ClipText exposes clipText to the external tests.
func ClipText(s string, n int) string { return clipText(s, n) }
