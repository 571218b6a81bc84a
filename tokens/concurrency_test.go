package tokens

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/store"
)

// TestConcurrentChanges mints, patches, deletes and resolves from 50
// goroutines over HTTP, while accounts change status and one is deleted,
// and then checks that the index and the store agree exactly.
func TestConcurrentChanges(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	var accounts []*store.Account
	for i := range 3 {
		accounts = append(accounts, e.seedAccount(fmt.Sprintf("acct%d", i)))
	}
	doomed := e.seedAccount("doomed")

	const workers, opsEach = 50, 12
	var mu sync.Mutex
	tokens := map[string]string{} // token → server ID, every one ever minted
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			type minted struct{ acct, id, token string }
			var mine []minted
			for i := range opsEach {
				acct := accounts[rng.IntN(len(accounts))].ID
				if w%10 == 0 {
					acct = doomed.ID // some race the account's deletion
				}
				switch op := rng.IntN(4); {
				case op <= 1 || len(mine) == 0:
					body := map[string]any{"name": fmt.Sprintf("w%d-%d", w, i), "config": map[string]any{"methods": []string{"read"}}}
					if rng.IntN(3) == 0 {
						body["expires_at"] = e.clock.Now().Add(time.Duration(250+rng.IntN(600)) * time.Second).Format(time.RFC3339)
					}
					r := e.request("POST", "/admin/integrated-accounts/"+acct+"/mcp", body)
					if r.status == http.StatusNotFound && acct == doomed.ID {
						continue
					}
					if !assert.Equal(t, http.StatusCreated, r.status, "body: %s", r.body) {
						return
					}
					m := r.json(t)
					tok := m["url"].(string)[len("https://mcp.example.com/mcp/"):]
					mu.Lock()
					tokens[tok] = m["id"].(string)
					mu.Unlock()
					mine = append(mine, minted{acct, m["id"].(string), tok})
				case op == 2:
					s := mine[rng.IntN(len(mine))]
					r := e.request("PATCH", "/admin/integrated-accounts/"+s.acct+"/mcp/"+s.id,
						map[string]any{"name": fmt.Sprintf("p%d", i), "config": map[string]any{"tags": []string{[]string{"users", "roles", "organization"}[rng.IntN(3)]}}})
					assert.Contains(t, []int{http.StatusOK, http.StatusNotFound}, r.status, "body: %s", r.body)
				default:
					k := rng.IntN(len(mine))
					s := mine[k]
					r := e.request("DELETE", "/admin/integrated-accounts/"+s.acct+"/mcp/"+s.id, nil)
					assert.Contains(t, []int{http.StatusNoContent, http.StatusNotFound}, r.status, "body: %s", r.body)
					mine = append(mine[:k], mine[k+1:]...)
				}
				// Readers race the writers.
				mu.Lock()
				var some string
				for tok := range tokens {
					some = tok
					break
				}
				mu.Unlock()
				if res, err := e.svc.Resolve(ctx, some); err == nil {
					assert.Equal(t, tokens2id(&mu, tokens, some), res.Server.ID)
				}
			}
		}()
	}
	var swept atomic.Int64
	wg.Add(3)
	go func() {
		defer wg.Done()
		time.Sleep(20 * time.Millisecond)
		r := e.request("DELETE", "/admin/integrated-accounts/"+doomed.ID, nil)
		assert.Equal(t, http.StatusNoContent, r.status, "body: %s", r.body)
	}()
	go func() {
		defer wg.Done()
		for i := range 20 {
			assert.NoError(t, e.svc.MarkNeedsReauth(ctx, accounts[i%len(accounts)].ID))
			r := e.request("PATCH", "/admin/integrated-accounts/"+accounts[i%len(accounts)].ID, map[string]any{"name": fmt.Sprintf("renamed %d", i)})
			assert.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		}
	}()
	go func() {
		defer wg.Done()
		for range 20 {
			time.Sleep(5 * time.Millisecond)
			e.clock.Advance(30 * time.Second)
			n, err := e.svc.Sweep(ctx)
			assert.NoError(t, err)
			swept.Add(int64(n))
		}
	}()
	wg.Wait()
	t.Logf("%d tokens minted, %d swept", len(tokens), swept.Load())

	assertIndexMatchesStore(t, e.svc, e.db)
	// Every token ever minted resolves exactly when its server is stored.
	for tok, id := range tokens {
		_, serr := e.db.MCPServer(ctx, id)
		stored := serr == nil
		if stored {
			m, _ := e.db.MCPServer(ctx, id)
			stored = !expired(m, e.clock.Now())
		}
		res, err := e.svc.Resolve(ctx, tok)
		if stored {
			if assert.NoError(t, err) {
				assert.Equal(t, id, res.Server.ID)
			}
		} else {
			assert.ErrorIs(t, err, ErrNotFound)
		}
	}
	// And after a restart, the loaded index is the same.
	e.reopen()
	assertIndexMatchesStore(t, e.svc, e.db)
}

func tokens2id(mu *sync.Mutex, m map[string]string, tok string) string {
	mu.Lock()
	defer mu.Unlock()
	return m[tok]
}

// assertIndexMatchesStore checks the Service's index against the store:
// every indexed server is stored with the same hash, name, config, expiry
// and account, and every stored server is indexed; each account's server
// set and info match too.
func assertIndexMatchesStore(t *testing.T, s *Service, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	stored := map[string]*store.MCPServer{}
	require.NoError(t, db.ForEachMCPServer(ctx, func(m *store.MCPServer) error { stored[m.ID] = m; return nil }))

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
		assert.Equal(t, AllowedTools(m.Config), e.Tools)
		assert.Equal(t, m.ExpiresAt, e.Server.ExpiresAt)
		assert.Equal(t, m.AccountID, e.Account.ID)
		ae := s.accounts[m.AccountID]
		if assert.NotNil(t, ae) {
			assert.Same(t, e, ae.servers[m.ID])
			assert.Same(t, ae.info, e.Account, "URLs share their account's info")
		}
		assert.False(t, e.Stale())
		assertOpen(t, e.Done())
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
