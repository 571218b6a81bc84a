package tokens_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/stretchr/testify/assert"
)

// TestConcurrentChanges mints, patches, deletes and resolves from 50
// goroutines over HTTP, while accounts change status and one is deleted,
// and then checks that the index and the store agree exactly.
func TestConcurrentChanges(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	var accounts []*tokens.Account
	for i := range 3 {
		accounts = append(accounts, e.SeedAccount(fmt.Sprintf("acct%d", i)))
	}
	doomed := e.SeedAccount("doomed")

	const workers, opsEach = 50, 12
	var mu sync.Mutex
	everMinted := map[string]string{} // token → server ID, every one ever minted
	// progress gets a value per mint, so the deleting and sweeping
	// goroutines act while the workers are busy, not before or after.
	progress := make(chan struct{}, workers*opsEach)
	var wg, working sync.WaitGroup
	for w := range workers {
		working.Add(1)
		go func() {
			defer working.Done()
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
						body["expires_at"] = e.Clock.Now().Add(time.Duration(250+rng.IntN(600)) * time.Second).Format(time.RFC3339)
					}
					r := e.Request("POST", "/admin/integrated-accounts/"+acct+"/mcp", body)
					if r.Status == http.StatusNotFound && acct == doomed.ID {
						continue
					}
					if !assert.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body) {
						return
					}
					m := r.JSON(t)
					tok := m["url"].(string)[len("https://mcp.example.com/mcp/"):]
					mu.Lock()
					everMinted[tok] = m["id"].(string)
					mu.Unlock()
					progress <- struct{}{}
					mine = append(mine, minted{acct, m["id"].(string), tok})
				case op == 2:
					s := mine[rng.IntN(len(mine))]
					r := e.Request("PATCH", "/admin/integrated-accounts/"+s.acct+"/mcp/"+s.id,
						map[string]any{"name": fmt.Sprintf("p%d", i), "config": map[string]any{"tags": []string{[]string{"users", "roles", "organization"}[rng.IntN(3)]}}})
					assert.Contains(t, []int{http.StatusOK, http.StatusNotFound}, r.Status, "body: %s", r.Body)
				default:
					k := rng.IntN(len(mine))
					s := mine[k]
					r := e.Request("DELETE", "/admin/integrated-accounts/"+s.acct+"/mcp/"+s.id, nil)
					assert.Contains(t, []int{http.StatusNoContent, http.StatusNotFound}, r.Status, "body: %s", r.Body)
					mine = append(mine[:k], mine[k+1:]...)
				}
				// Readers race the writers.
				mu.Lock()
				var some string
				for tok := range everMinted {
					some = tok
					break
				}
				mu.Unlock()
				if res, err := e.Svc.Resolve(ctx, some); err == nil {
					assert.Equal(t, tokens2id(&mu, everMinted, some), res.Server.ID)
				}
			}
		}()
	}
	// Workers that stop early (a failed assertion) may mint fewer than
	// the goroutines below wait for: those then stop waiting.
	workersDone := make(chan struct{})
	go func() { working.Wait(); close(workersDone) }()
	minted := func() {
		select {
		case <-progress:
		case <-workersDone:
		}
	}
	var swept atomic.Int64
	wg.Add(3)
	go func() {
		defer wg.Done()
		for range 20 {
			minted()
		}
		r := e.Request("DELETE", "/admin/integrated-accounts/"+doomed.ID, nil)
		assert.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
	}()
	go func() {
		defer wg.Done()
		for i := range 20 {
			assert.NoError(t, e.Svc.MarkNeedsReauth(ctx, accounts[i%len(accounts)].ID))
			r := e.Request("PATCH", "/admin/integrated-accounts/"+accounts[i%len(accounts)].ID, map[string]any{"name": fmt.Sprintf("renamed %d", i)})
			assert.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		}
	}()
	go func() {
		defer wg.Done()
		for range 20 {
			minted()
			e.Clock.Advance(30 * time.Second)
			n, err := e.Svc.Sweep(ctx)
			assert.NoError(t, err)
			swept.Add(int64(n))
		}
	}()
	wg.Wait()
	<-workersDone
	t.Logf("%d tokens minted, %d swept", len(everMinted), swept.Load())

	tokens.AssertIndexMatchesStore(t, e.Svc, e.DB)
	// Every token ever minted resolves exactly when its server is stored.
	for tok, id := range everMinted {
		_, serr := e.DB.MCPServer(ctx, id)
		stored := serr == nil
		if stored {
			m, _ := e.DB.MCPServer(ctx, id)
			stored = !tokens.Expired(m, e.Clock.Now())
		}
		res, err := e.Svc.Resolve(ctx, tok)
		if stored {
			if assert.NoError(t, err) {
				assert.Equal(t, id, res.Server.ID)
			}
		} else {
			assert.ErrorIs(t, err, tokens.ErrNotFound)
		}
	}
	// And after a restart, the loaded index is the same.
	e.Reopen()
	tokens.AssertIndexMatchesStore(t, e.Svc, e.DB)
}

func tokens2id(mu *sync.Mutex, m map[string]string, tok string) string {
	mu.Lock()
	defer mu.Unlock()
	return m[tok]
}
