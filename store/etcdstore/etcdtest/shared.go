package etcdtest

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// tb is what a Cluster needs of its owner: a test (testing.TB), or the
// package-wide harness of a Shared cluster.
type tb interface {
	Helper()
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	FailNow()
	Cleanup(func())
	TempDir() string
}

// Shared is one cluster for a whole test package, started by the first
// test that asks for it and stopped once every test has run:
//
//	var shared etcdtest.Shared
//
//	func TestMain(m *testing.M) { os.Exit(shared.Run(m, 3)) }
//
// Starting a cluster is most of what a short test against etcd costs
// (its first election takes seconds), so tests that only read and write
// share one, each on a key prefix of its own, and may run in parallel.
// A test that stops or restarts members starts a cluster of its own with
// Start.
type Shared struct {
	n    int
	once sync.Once
	c    *Cluster
	err  error
	h    *harness
}

// Run runs the package's tests (m.Run) with clusters of n members and
// stops the cluster, if one was started; it returns the exit code.
func (s *Shared) Run(m *testing.M, n int) int {
	s.n = n
	code := m.Run()
	if s.h != nil {
		if err := s.h.close(); err != nil {
			fmt.Fprintln(os.Stderr, "etcdtest:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// Cluster returns the shared cluster, starting it on first use. A start
// that failed fails every test that asks.
func (s *Shared) Cluster(t testing.TB) *Cluster {
	t.Helper()
	s.once.Do(func() {
		if s.n == 0 {
			s.err = errors.New("etcdtest.Shared: TestMain must call Run")
			return
		}
		s.h = &harness{}
		s.c, s.err = s.h.do(func() *Cluster { return startRetrying(s.h, s.n) })
	})
	if s.err != nil {
		t.Fatalf("start the shared etcd cluster: %v", s.err)
	}
	return s.c
}

// harness is the owner of a Shared cluster: it keeps the cleanups to run
// at the end and the errors met along the way.
type harness struct {
	mu       sync.Mutex
	cleanups []func()
	errs     []string
}

// failNow is what FailNow panics with, for do to recover.
type failNow struct{}

func (h *harness) do(start func() *Cluster) (c *Cluster, err error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(failNow); !ok {
				panic(r)
			}
			err = h.err()
		}
	}()
	return start(), nil
}

func (h *harness) Helper()                   {}
func (h *harness) Logf(string, ...any)       {}
func (h *harness) FailNow()                  { panic(failNow{}) }
func (h *harness) Cleanup(f func())          { h.mu.Lock(); h.cleanups = append(h.cleanups, f); h.mu.Unlock() }
func (h *harness) Fatalf(f string, a ...any) { h.Errorf(f, a...); h.FailNow() }

func (h *harness) Errorf(f string, a ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.errs = append(h.errs, fmt.Sprintf(f, a...))
}

func (h *harness) TempDir() string {
	dir, err := os.MkdirTemp("", "etcdtest-")
	if err != nil {
		h.Fatalf("temporary directory: %v", err)
	}
	h.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func (h *harness) err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.errs) == 0 {
		return nil
	}
	return errors.New(strings.Join(h.errs, "; "))
}

// close runs the cleanups, last first, and returns the errors met.
func (h *harness) close() error {
	h.mu.Lock()
	cleanups := h.cleanups
	h.cleanups = nil
	h.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	return h.err()
}
