package tokens

import (
	"slices"
	"strings"
)

// AccountsOfOrg returns the integrated accounts connected to the Zoho org
// orgID in datacenter, oldest first, from the in-memory index (no store
// read). Connecting an org that is already connected makes a second,
// independent account; the admin API, the connect page and the web UI use
// this to say so, and to offer a reconnect of the existing account
// instead. An empty orgID matches nothing.
func (s *Service) AccountsOfOrg(datacenter, orgID string) []*AccountInfo {
	if orgID == "" {
		return nil
	}
	s.mu.RLock()
	var out []*AccountInfo
	for _, ae := range s.accounts {
		if ae.info.OrgID == orgID && ae.info.Datacenter == datacenter {
			out = append(out, ae.info)
		}
	}
	s.mu.RUnlock()
	// IDs are UUIDv7: their order is creation order.
	slices.SortFunc(out, func(a, b *AccountInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}
