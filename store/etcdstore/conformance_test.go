package etcdstore_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/store/etcdstore"
	"github.com/bigin-mcp/bigin-mcp/store/etcdstore/etcdtest"
	"github.com/bigin-mcp/bigin-mcp/store/internal/kv"
	"github.com/bigin-mcp/bigin-mcp/store/internal/kv/kvtest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/bigin-mcp/bigin-mcp/tokens/storetest"
)

// TestConformance holds the etcd store to the tokens.Store contract that
// every backend must meet, and its transactions to the kv.Tx contract the
// Store's rules are written against, on a real three-member cluster. Each
// test gets a prefix of its own on the one cluster.
func TestConformance(t *testing.T) {
	cluster := etcdtest.Start(t, 3)
	client := cluster.Client(t)
	open := func(t *testing.T, now func() time.Time) *etcdstore.Store {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		s, err := etcdstore.Open(context.Background(), etcdstore.Options{
			Client: client, Prefix: "/conformance/" + uuid.NewString() + "/", Key: key, Now: now,
		})
		require.NoError(t, err)
		t.Cleanup(func() { closeKeepingClient(s) })
		return s
	}
	storetest.Run(t, func(t *testing.T, now func() time.Time) tokens.Store { return open(t, now) })
	t.Run("Tx", func(t *testing.T) {
		kvtest.Run(t, func(t *testing.T) kv.Backend { return etcdstore.Backend(open(t, nil)) })
	})
}

// closeKeepingClient closes a store but not the client the test shares.
func closeKeepingClient(s *etcdstore.Store) { s.Release() }
