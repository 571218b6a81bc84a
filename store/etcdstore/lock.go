package etcdstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/client/v3/concurrency"
)

// localLock serialises one lock's holders inside this process: an etcd
// mutex is owned by a lease, and this process has one lease for all.
type localLock struct {
	ch    chan struct{} // holds a token while taken
	users int
}

func (s *Store) local(name string) *localLock {
	s.locksMu.Lock()
	defer s.locksMu.Unlock()
	l := s.locks[name]
	if l == nil {
		l = &localLock{ch: make(chan struct{}, 1)}
		s.locks[name] = l
	}
	l.users++
	return l
}

func (s *Store) unlocal(name string, l *localLock) {
	s.locksMu.Lock()
	defer s.locksMu.Unlock()
	if l.users--; l.users == 0 {
		delete(s.locks, name)
	}
}

// LockRefresh takes the lock that elects one refresher of an account's
// Zoho access token among every process sharing the store, and returns
// its release. The lock is leased: a process that dies holding it frees
// it within the session TTL.
func (s *Store) LockRefresh(ctx context.Context, accountID string) (func(), error) {
	name := s.p + "lock/refresh/" + accountID
	l := s.local(name)
	select {
	case l.ch <- struct{}{}:
	case <-ctx.Done():
		s.unlocal(name, l)
		return nil, ctx.Err()
	}
	release := func() {
		<-l.ch
		s.unlocal(name, l)
	}
	sess, err := s.session(ctx)
	if err != nil {
		release()
		return nil, err
	}
	m := concurrency.NewMutex(sess, name)
	if err := m.Lock(ctx); err != nil {
		release()
		return nil, fmt.Errorf("etcdstore: refresh lock: %w", wrap(ctx, err))
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := m.Unlock(uctx); err != nil {
				s.logger.Warn("release the refresh lock (its lease frees it)", "err", err)
			}
			release()
		})
	}, nil
}

// Lead runs fn while this process leads the election called name, with a
// context that ends when leadership is lost (its lease expired), until ctx
// ends (tokens.Elector).
func (s *Store) Lead(ctx context.Context, name string, fn func(ctx context.Context)) error {
	for ctx.Err() == nil {
		sess, err := s.session(ctx)
		if err != nil {
			s.logger.Warn("election: no lease yet", "election", name, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		e := concurrency.NewElection(sess, s.p+"elect/"+name)
		if err := e.Campaign(ctx, "leader"); err != nil {
			if ctx.Err() == nil {
				s.logger.Warn("election: campaign failed", "election", name, "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			continue
		}
		s.logger.Info("leading", "election", name)
		lctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-sess.Done():
			case <-lctx.Done():
			}
			cancel()
		}()
		fn(lctx)
		cancel()
		rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = e.Resign(rctx)
		rcancel()
	}
	return ctx.Err()
}
