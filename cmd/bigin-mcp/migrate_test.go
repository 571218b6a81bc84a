package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/store/etcdstore"
	"github.com/bigin-mcp/bigin-mcp/store/etcdstore/etcdtest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// TestMigrateToEtcd copies a bbolt file with accounts, URLs, API tokens
// and audit entries into etcd; afterwards every URL works on etcd-backed
// replicas, and a second run copies nothing new.
func TestMigrateToEtcd(t *testing.T) {
	cluster := etcdtest.Start(t, 3)
	src := apptest.New(t, apptest.Options{})
	acct := src.ConnectAccount("us")
	var urls []string
	for range 3 {
		_, u := src.MintURL(acct, nil)
		urls = append(urls, u)
	}
	_, apiTok, err := src.Svc.CreateAPIToken(context.Background(), "ci")
	require.NoError(t, err)
	audit, _, err := src.Store.Audit(context.Background(), "", 1000)
	require.NoError(t, err)
	require.NotEmpty(t, audit)
	src.Close()

	prefix := "/migrate/" + uuid.NewString() + "/"
	env := map[string]string{
		"BIGIN_MCP_ETCD_ENDPOINTS": strings.Join(cluster.Endpoints(), ","),
		"BIGIN_MCP_ETCD_PREFIX":    prefix,
		"BIGIN_MCP_SECRET_KEY":     base64.StdEncoding.EncodeToString(src.Key),
	}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"migrate", "--from", src.Path, "--to", "etcd"}, envOf(env), &out, io.Discard))
	t.Log(out.String())
	assert.Contains(t, out.String(), "accounts:           1 copied,      0 already there")
	assert.Contains(t, out.String(), "mcp servers:        3 copied,      0 already there")
	assert.Contains(t, out.String(), "api tokens:         2 copied,      0 already there")

	out.Reset()
	require.NoError(t, run(context.Background(), []string{"migrate", "--from=" + src.Path, "--to=etcd"}, envOf(env), &out, io.Discard))
	assert.Contains(t, out.String(), "accounts:           0 copied,      1 already there", "a second run is a no-op")
	assert.Contains(t, out.String(), "mcp servers:        0 copied,      3 already there")

	open := func(t testing.TB, key []byte, now func() time.Time) tokens.Store {
		c, err := etcdstore.Dial(etcdstore.ClientConfig{Endpoints: cluster.Endpoints()})
		require.NoError(t, err)
		s, err := etcdstore.Open(context.Background(), etcdstore.Options{Client: c, Prefix: prefix, Key: key, Now: now})
		require.NoError(t, err)
		return s
	}
	for range 2 {
		r := apptest.New(t, apptest.Options{OpenStore: open, ReplicaOf: src})
		for _, u := range urls {
			cs := r.MustConnect(r.URL+u[strings.Index(u, "/mcp/"):], "streamable")
			res, _ := apptest.CallTool(t, cs, "list_all_zohobigin_current_organization", nil)
			assert.False(t, res.IsError, "a migrated URL works on an etcd replica")
		}
		got := r.RequestAs(apiTok, "", "GET", "/admin/integrated-accounts", nil)
		assert.Equal(t, http.StatusOK, got.Status, "a migrated API token works")
		entries, _, err := r.Store.Audit(context.Background(), "", 1000)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, len(entries), len(audit), "the audit log came along")
	}
}

func TestMigrateNeedsItsArguments(t *testing.T) {
	err := run(context.Background(), []string{"migrate", "--from", "x.db"}, envOf(nil), io.Discard, io.Discard)
	assert.ErrorContains(t, err, "usage: bigin-mcp migrate")
	err = run(context.Background(), []string{"serve", "--store", "etcd", "--etcd-endpoints", "http://127.0.0.1:1"}, envOf(nil), io.Discard, io.Discard)
	assert.ErrorContains(t, err, "BIGIN_MCP_SECRET_KEY: required with BIGIN_MCP_STORE=etcd")
	assert.NotContains(t, err.Error(), "\n", "one line")
}
