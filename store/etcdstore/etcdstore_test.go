package etcdstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/bigin-mcp/bigin-mcp/store/etcdstore"
	"github.com/bigin-mcp/bigin-mcp/store/etcdstore/etcdtest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/bigin-mcp/bigin-mcp/tokens/storetest"
)

// TestAtRest writes every kind of record with distinctive secrets and
// tokens, then reads everything under the prefix straight from etcd: no
// secret appears in clear (nor base64), no token appears in a key name or
// value, while a plain field does (so the scan is meaningful). A cached
// value moved under another key does not open.
func TestAtRest(t *testing.T) {
	ctx := context.Background()
	cluster := etcdtest.Start(t, 1)
	client := cluster.Client(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	prefix := "/at-rest/" + uuid.NewString() + "/"
	s, err := etcdstore.Open(ctx, etcdstore.Options{Client: client, Prefix: prefix, Key: key})
	require.NoError(t, err)
	t.Cleanup(s.Release)

	var secrets, tokensInClear []string
	a := storetest.Account(t, "Plain Org Name")
	secrets = append(secrets, a.ClientSecret, a.RefreshToken, a.AccessToken)
	require.NoError(t, s.CreateAccount(ctx, a))

	mint := func(prefix string) (string, [32]byte) {
		tok := storetest.RandomSecret(t, prefix)
		tokensInClear = append(tokensInClear, tok)
		return tok, storetest.HashOf(tok)
	}
	m := storetest.Server(t, a.ID, "server")
	_, m.TokenHash = mint("bmcp_")
	require.NoError(t, s.CreateMCPServer(ctx, m))
	at := &tokens.APIToken{ID: storetest.NewID(t), Name: "admin", Scopes: []string{tokens.ScopeTools}}
	_, at.TokenHash = mint("bmcp_api_")
	require.NoError(t, s.CreateAPIToken(ctx, at))
	l := &tokens.ConnectLink{ID: storetest.NewID(t), Name: "link", ExpiresAt: time.Now().Add(time.Hour)}
	_, l.TokenHash = mint("bmcp_link_")
	require.NoError(t, s.CreateConnectLink(ctx, l))
	g := &tokens.OAuthGrant{ID: storetest.NewID(t), MCPServerID: m.ID, AccountID: a.ID, ClientID: "c", CodeExpiresAt: time.Now()}
	_, g.CodeHash = mint("bmcp_code_")
	_, g.AccessHash = mint("bmcp_at_")
	_, g.RefreshHash = mint("bmcp_rt_")
	require.NoError(t, s.CreateOAuthGrant(ctx, g))
	cacheKey, _ := mint("acme-challenge-token-")
	cached := []byte(storetest.RandomSecret(t, "-----BEGIN EC PRIVATE KEY-----"))
	secrets = append(secrets, string(cached))
	require.NoError(t, s.CachePut(ctx, cacheKey+"+http-01", cached))

	resp, err := client.Get(ctx, prefix, clientv3.WithPrefix())
	require.NoError(t, err)
	var all []byte
	for _, kv := range resp.Kvs {
		for _, tok := range tokensInClear {
			assert.NotContains(t, string(kv.Key), tok, "a token in a key name")
		}
		all = append(append(all, kv.Key...), kv.Value...)
	}
	require.True(t, bytes.Contains(all, []byte("Plain Org Name")), "the scan sees the records")
	require.True(t, bytes.Contains(all, []byte(hex.EncodeToString(m.TokenHash[:]))), "the scan sees the hash index")
	for _, v := range append(secrets, tokensInClear...) {
		assert.False(t, bytes.Contains(all, []byte(v)), "%q… found in clear in etcd", v[:6])
		assert.False(t, bytes.Contains(all, []byte(base64.StdEncoding.EncodeToString([]byte(v)))), "%q… found as base64", v[:6])
	}

	got, err := s.CacheGet(ctx, cacheKey+"+http-01")
	require.NoError(t, err)
	assert.Equal(t, cached, got)

	// Move the sealed value of one cache key under another (keys are
	// cache/<hex sha256(cache key)>, as the package documents): it must
	// not open.
	cacheName := func(k string) string {
		h := sha256.Sum256([]byte(k))
		return prefix + "cache/" + hex.EncodeToString(h[:])
	}
	require.NoError(t, s.CachePut(ctx, "a.example.com", []byte("cert A")))
	resp, err = client.Get(ctx, cacheName("a.example.com"))
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1, "the cached value is where the layout says")
	_, err = client.Put(ctx, cacheName("b.example.com"), string(resp.Kvs[0].Value))
	require.NoError(t, err)
	_, err = s.CacheGet(ctx, "b.example.com")
	assert.Error(t, err, "a value moved under another key does not open")
	assert.NotErrorIs(t, err, tokens.ErrNotFound)
}

// TestAuditRetention: the log keeps at least the newest AuditRetention
// entries, and trims the older ones once a check is due (every
// trimEvery appends, here 10), oldest first, so what is left is always
// the newest entries.
func TestAuditRetention(t *testing.T) {
	defer etcdstore.SetTrimEvery(10)()
	ctx := context.Background()
	cluster := etcdtest.Start(t, 1)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s, err := etcdstore.Open(ctx, etcdstore.Options{Client: cluster.Client(t), Prefix: "/retention/", Key: key, AuditRetention: 5})
	require.NoError(t, err)
	t.Cleanup(s.Release)

	var ids []string
	kept := func() []string {
		got, more, err := s.Audit(ctx, "", 100)
		require.NoError(t, err)
		require.False(t, more)
		var out []string
		for i := len(got) - 1; i >= 0; i-- {
			out = append(out, got[i].ID)
		}
		return out
	}
	for i := range 43 {
		e := &tokens.AuditEntry{Actor: "system", Action: "tool_call", Outcome: "ok"}
		require.NoError(t, s.AppendAudit(ctx, e))
		ids = append(ids, e.ID)
		left := kept()
		require.GreaterOrEqual(t, len(left), min(i+1, 5), "never fewer than the retention bound")
		require.Equal(t, ids[len(ids)-len(left):], left, "what is left is the newest entries, in order")
		if (i+1)%10 == 0 {
			// The check rides with this append and counts the entries
			// before it: 5 of them stay, and this one.
			assert.Len(t, left, 5+1, "append %d trimmed the log", i+1)
		}
	}
	assert.Len(t, kept(), 5+1+3, "three appends since the last check")
}
