package tokens

// Hooks into the index for the tests of package tokens_test, which need a
// real Store (and so cannot be internal tests: package store imports this
// one).

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Expired reports whether m has expired at now.
func Expired(m *MCPServer, now time.Time) bool { return expired(m, now) }

// IndexSize is how many URLs the index holds by token hash.
func (s *Service) IndexSize() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byHash)
}

// Indexed reports whether the server is in the index under its account
// and by its token hash.
func (s *Service) Indexed(accountID, id string, hash [32]byte) (underAccount, byHash bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if ae := s.accounts[accountID]; ae != nil {
		_, underAccount = ae.servers[id]
	}
	_, byHash = s.byHash[hash]
	return underAccount, byHash
}

// AssertIndexMatchesStore checks the Service's index against the store:
// every indexed server is stored with the same hash, name, config, expiry
// and account, and every stored server is indexed; each account's server
// set and info match too.
func AssertIndexMatchesStore(t *testing.T, s *Service, db Store) {
	t.Helper()
	ctx := context.Background()
	stored := map[string]*MCPServer{}
	require.NoError(t, db.ForEachMCPServer(ctx, func(m *MCPServer) error { stored[m.ID] = m; return nil }))

	s.mu.RLock()
	defer s.mu.RUnlock()
	assert.Equal(t, len(stored), s.servers)
	assert.Len(t, s.byHash, len(stored))
	for h, e := range s.byHash {
		m, ok := stored[e.Server.ID]
		if !assert.True(t, ok, "indexed server %s is not stored", e.Server.ID) {
			continue
		}
		assert.Equal(t, m.TokenHash, h)
		assert.Equal(t, m.Name, e.Server.Name)
		assert.Equal(t, m.Config, e.Server.Config)
		assert.Equal(t, s.inv.Allowed(m.Config), e.Tools)
		assert.Equal(t, m.ExpiresAt, e.Server.ExpiresAt)
		assert.Equal(t, m.AccountID, e.Account.ID)
		ae := s.accounts[m.AccountID]
		if assert.NotNil(t, ae) {
			assert.Same(t, e, ae.servers[m.ID])
			assert.Same(t, ae.info, e.Account, "URLs share their account's info")
		}
		assert.False(t, e.Stale())
		AssertOpen(t, e.Done())
	}
	for id, m := range stored {
		var e *Resolved
		if ae := s.accounts[m.AccountID]; ae != nil {
			e = ae.servers[id]
		}
		if assert.NotNil(t, e, "stored server %s is not indexed", id) {
			assert.Equal(t, m.TokenHash, e.Server.TokenHash)
		}
	}
	n := 0
	for id, ae := range s.accounts {
		a, err := db.Account(ctx, id)
		if assert.NoError(t, err, "indexed account %s is not stored", id) {
			assert.Equal(t, a.Name, ae.info.Name)
			assert.Equal(t, a.Status, ae.info.Status)
		}
		n += len(ae.servers)
	}
	assert.Equal(t, len(stored), n)
}

// AssertClosed fails the test if c is not closed.
func AssertClosed(t *testing.T, c <-chan struct{}, msg string) {
	t.Helper()
	select {
	case <-c:
	default:
		t.Errorf("channel not closed: %s", msg)
	}
}

// AssertOpen fails the test if c is closed.
func AssertOpen(t *testing.T, c <-chan struct{}) {
	t.Helper()
	select {
	case <-c:
		t.Errorf("channel closed")
	default:
	}
}

// SameConfig reports whether the index treats two configs as equal.
func SameConfig(a, b Config) bool { return sameConfig(&a, &b) }

// SameAccountInfo exposes the index's account comparison.
func SameAccountInfo(a, b AccountInfo) bool { return sameAccountInfo(&a, &b) }

// ClipClient is clipClient, which shortens client ids for the audit log.
func ClipClient(id string) string { return clipClient(id) }
