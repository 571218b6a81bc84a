package etcdstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/bigin-mcp/bigin-mcp/store/internal/record"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// ProbeInterval is how often Follow confirms the follower is current when
// FollowOptions.ProbeInterval is zero.
const ProbeInterval = time.Second

// stuckAfter is how long a watch may go without confirming anything while
// the cluster answers quorum reads before Follow gives it up for a new
// snapshot.
const stuckAfter = 5 * ProbeInterval

// snapshotPage is how many records one request of a snapshot reads.
const snapshotPage = 1000

// Follow keeps f in step with the accounts and MCP servers under the
// prefix until ctx ends (tokens.ChangeFeed). It loads a snapshot at one
// revision, then watches every later change from the next revision, in
// commit order. Once a second it proves f current: a quorum read gives the
// cluster's revision R at time T, and once the watch has delivered
// everything up to R (a progress report from the member it streams from
// says so), f is current as of T. A member that is partitioned away, a
// watch that breaks, or a history compacted under it stops the proofs and
// makes Follow take a new snapshot as soon as the cluster answers.
func (s *Store) Follow(ctx context.Context, f tokens.Follower) error {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.followOnce(ctx, f)
		if ctx.Err() != nil {
			break
		}
		s.logger.Warn("the URL index lost the etcd watch; taking a new snapshot", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
	return ctx.Err()
}

// probe is a quorum read's revision and the time just before it.
type probe struct {
	at  time.Time
	rev int64
}

func (s *Store) followOnce(ctx context.Context, f tokens.Follower) error {
	at := time.Now()
	rev, err := s.snapshot(ctx, f)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	f.Current(at)
	s.setApplied(rev)

	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	w := clientv3.NewWatcher(s.c)
	defer w.Close()
	wch := w.Watch(wctx, s.p+"r/", clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithPrevKV())
	// A progress request waits for the watch stream, which may be
	// reconnecting: bound it, and ask again on the next probe.
	requestProgress := func() {
		pctx, pcancel := context.WithTimeout(wctx, ProbeInterval)
		defer pcancel()
		_ = w.RequestProgress(pctx)
	}
	s.fmu.Lock()
	s.progress = requestProgress
	s.fmu.Unlock()
	defer func() {
		s.fmu.Lock()
		s.progress = nil
		s.fmu.Unlock()
	}()

	tick := time.NewTicker(ProbeInterval)
	defer tick.Stop()
	probes := make(chan probe, 4)
	var pending []probe
	inflight := false
	confirmed := time.Now()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if inflight {
				continue // the last quorum read has not answered yet
			}
			inflight = true
			go func() {
				pctx, pcancel := context.WithTimeout(wctx, 2*ProbeInterval)
				defer pcancel()
				p := probe{at: time.Now()}
				resp, err := s.c.Get(pctx, s.p+"meta/key_check", clientv3.WithCountOnly())
				if err == nil {
					p.rev = resp.Header.Revision
				}
				probes <- p
			}()
		case p := <-probes:
			inflight = false
			if p.rev == 0 {
				continue // the cluster did not answer
			}
			if time.Since(confirmed) > stuckAfter {
				// The cluster answers but this watch has not confirmed
				// anything for a while: start over from a snapshot.
				return fmt.Errorf("the watch has confirmed nothing for %s while the cluster answers", stuckAfter)
			}
			pending = append(pending, p)
			go requestProgress()
		case resp, ok := <-wch:
			if !ok {
				return fmt.Errorf("watch closed")
			}
			if err := resp.Err(); err != nil {
				return err
			}
			if resp.CompactRevision != 0 {
				return fmt.Errorf("watch compacted at revision %d", resp.CompactRevision)
			}
			if len(resp.Events) > 0 {
				changes, err := s.changes(resp.Events)
				if err != nil {
					return err
				}
				f.Apply(changes)
			}
			applied := resp.Header.Revision
			if n := len(resp.Events); n > 0 && resp.Events[n-1].Kv.ModRevision > applied {
				applied = resp.Events[n-1].Kv.ModRevision
			}
			s.setApplied(applied)
			var best time.Time
			keep := pending[:0]
			for _, p := range pending {
				if p.rev <= applied {
					if p.at.After(best) {
						best = p.at
					}
				} else {
					keep = append(keep, p)
				}
			}
			pending = keep
			if !best.IsZero() {
				f.Current(best)
				confirmed = time.Now()
			}
		}
	}
}

// snapshot resets f from every account and server at one revision, and
// returns that revision.
func (s *Store) snapshot(ctx context.Context, f tokens.Follower) (int64, error) {
	var accounts []*tokens.Account
	var servers []*tokens.MCPServer
	prefix := s.p + "r/"
	end := prefixEnd(prefix)
	start := prefix
	var rev int64
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(snapshotPage),
			clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		gctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		resp, err := s.c.Get(gctx, start, opts...)
		cancel()
		if err != nil {
			return 0, err
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, x := range resp.Kvs {
			k := string(x.Key)
			switch {
			case strings.HasPrefix(k, prefix+"a/"):
				a, err := s.sealer.DecodeAccount(k[len(prefix)+2:], x.Value)
				if err != nil {
					return 0, err
				}
				accounts = append(accounts, a)
			case strings.HasPrefix(k, prefix+"s/"):
				m, err := record.DecodeServer(k[len(prefix)+2:], x.Value)
				if err != nil {
					return 0, err
				}
				servers = append(servers, m)
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	f.Reset(accounts, servers)
	return rev, nil
}

// changes decodes watch events.
func (s *Store) changes(evs []*clientv3.Event) ([]tokens.Change, error) {
	prefix := s.p + "r/"
	out := make([]tokens.Change, 0, len(evs))
	for _, ev := range evs {
		k := string(ev.Kv.Key)
		isAccount := strings.HasPrefix(k, prefix+"a/")
		id := k[len(prefix)+2:]
		switch {
		case ev.Type == mvccpb.DELETE && isAccount:
			out = append(out, tokens.Change{DeletedAccount: id})
		case ev.Type == mvccpb.DELETE:
			if ev.PrevKv == nil {
				continue // nothing to drop: the server was never seen
			}
			m, err := record.DecodeServer(id, ev.PrevKv.Value)
			if err != nil {
				return nil, err
			}
			out = append(out, tokens.Change{DeletedServer: m})
		case isAccount:
			a, err := s.sealer.DecodeAccount(id, ev.Kv.Value)
			if err != nil {
				return nil, err
			}
			out = append(out, tokens.Change{Account: a})
		default:
			m, err := record.DecodeServer(id, ev.Kv.Value)
			if err != nil {
				return nil, err
			}
			out = append(out, tokens.Change{Server: m})
		}
	}
	return out, nil
}

// setApplied records the revision the follower has applied through.
func (s *Store) setApplied(rev int64) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if rev > s.applied {
		s.applied = rev
		close(s.appliedC)
		s.appliedC = make(chan struct{})
	}
}

// Barrier returns once the follower has applied every change committed
// before the call (tokens.ChangeFeed): a quorum read gives the cluster's
// revision, and the watch is asked to report its progress until it has
// delivered that revision.
func (s *Store) Barrier(ctx context.Context) error {
	resp, err := s.c.Get(ctx, s.p+"meta/key_check", clientv3.WithCountOnly())
	if err != nil {
		return wrap(ctx, err)
	}
	want := resp.Header.Revision
	for {
		s.fmu.Lock()
		applied, ch, progress := s.applied, s.appliedC, s.progress
		s.fmu.Unlock()
		if applied >= want {
			return nil
		}
		if progress != nil {
			progress()
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
			// ask for progress again: a report may have been answered
			// before this revision was reached
		}
	}
}
