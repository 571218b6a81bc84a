package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
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

// TestMigrateToEtcd copies a bbolt file with accounts, URLs (one of them
// oauth, with a registered client and a grant), API tokens (one limited),
// connect links (one revoked), cached ACME data and audit entries into
// etcd; afterwards every URL works on etcd-backed replicas, every record
// reads back as it was, and a second run copies nothing new and says so.
func TestMigrateToEtcd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// One member: what is tested is the copy, not etcd's replication (and
	// a three-member cluster takes seconds to stop).
	cluster := etcdtest.Start(t, 1)
	src := apptest.New(t, apptest.Options{})
	acct := src.ConnectAccount("us")
	var urls []string
	for range 3 {
		_, u := src.MintURL(acct, nil)
		urls = append(urls, u)
	}
	cs := src.MustConnect(urls[0], "streamable")
	res, _ := apptest.CallTool(t, cs, "list_all_zohobigin_current_organization", nil)
	require.False(t, res.IsError, "a tool call, so the audit holds one")
	_, apiTok, err := src.Svc.CreateAPIToken(ctx, tokens.APITokenInput{Name: "ci"})
	require.NoError(t, err)
	limited, _, err := src.Svc.CreateAPIToken(ctx, tokens.APITokenInput{Name: "tools only", AccountIDs: []string{acct}, Scopes: []string{tokens.ScopeTools}})
	require.NoError(t, err)
	usable, _, err := src.Svc.CreateConnectLink(ctx, "usable", "", time.Hour)
	require.NoError(t, err)
	revoked, _, err := src.Svc.CreateConnectLink(ctx, "revoked", "", time.Hour)
	require.NoError(t, err)
	_, err = src.Svc.RevokeConnectLink(ctx, revoked.ID)
	require.NoError(t, err)
	oauthID, oauthURL := src.MintURL(acct, map[string]any{"auth": "oauth"})
	oauthSrv, err := src.Store.MCPServer(ctx, oauthID)
	require.NoError(t, err)
	client := &tokens.OAuthClient{ID: tokens.OAuthClientPrefix + "migrated", Name: "Claude", RedirectURIs: []string{"https://claude.ai/api/mcp/auth_callback"}}
	require.NoError(t, src.Store.CreateOAuthClient(ctx, client))
	access := tokens.OAuthAccessPrefix + strings.Repeat("m", 43)
	grant := &tokens.OAuthGrant{
		ID: apptest.NewID(), MCPServerID: oauthID, AccountID: acct, AuthEpoch: oauthSrv.Config.AuthEpoch, ClientID: client.ID,
		UserID: "1", ZUID: "1", Email: "p@example.com", CodeHash: tokens.HashToken("code"), CodeExpiresAt: src.Clock.Now(),
		AccessHash: tokens.HashToken(access), AccessExpiresAt: src.Clock.Now().Add(24 * time.Hour),
		RefreshHash: tokens.HashToken("refresh"), RefreshExpiresAt: src.Clock.Now().Add(30 * 24 * time.Hour),
	}
	require.NoError(t, src.Store.CreateOAuthGrant(ctx, grant), "a grant as the token endpoint stores it")
	require.Equal(t, http.StatusOK, postMCP(t, oauthURL, access), "the grant works before the move")
	cert := []byte("-----BEGIN EC PRIVATE KEY-----\nsecret\n")
	require.NoError(t, src.Store.CachePut(ctx, "acme/mcp.example.com", cert))
	src.App.Flush()
	audit, _, err := src.Store.Audit(ctx, "", 1000)
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
	require.NoError(t, run(ctx, []string{"migrate", "--from", src.Path, "--to", "etcd"}, envOf(env), &out, io.Discard))
	t.Log(out.String())
	for _, line := range []string{
		"accounts:           1 copied,      0 already there",
		"mcp servers:        4 copied,      0 already there",
		"api tokens:         3 copied,      0 already there",
		"connect links:      2 copied,      0 already there",
		"oauth clients:      1 copied,      0 already there",
		"oauth grants:       1 copied,      0 already there",
		"cache entries:      1 copied,      0 already there",
		fmt.Sprintf("audit entries: %6d copied,      0 already there", len(audit)),
	} {
		assert.Contains(t, out.String(), line)
	}

	out.Reset()
	require.NoError(t, run(ctx, []string{"migrate", "--from=" + src.Path, "--to=etcd"}, envOf(env), &out, io.Discard))
	for _, line := range []string{
		"accounts:           0 copied,      1 already there",
		"mcp servers:        0 copied,      4 already there",
		"connect links:      0 copied,      2 already there",
		"oauth clients:      0 copied,      1 already there",
		"oauth grants:       0 copied,      1 already there",
		"api tokens:         0 copied,      3 already there",
		"cache entries:      0 copied,      1 already there",
		fmt.Sprintf("audit entries:      0 copied, %6d already there", len(audit)),
	} {
		assert.Contains(t, out.String(), line, "a second run is a no-op")
	}

	open := func(t testing.TB, key []byte, now func() time.Time) tokens.Store {
		c, err := etcdstore.Dial(etcdstore.ClientConfig{Endpoints: cluster.Endpoints()})
		require.NoError(t, err)
		s, err := etcdstore.Open(ctx, etcdstore.Options{Client: c, Prefix: prefix, Key: key, Now: now})
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
		assert.Equal(t, http.StatusOK, postMCP(t, r.URL+oauthURL[strings.Index(oauthURL, "/mcp/"):], access), "a migrated OAuth grant works")
		got := r.RequestAs(apiTok, "", "GET", "/admin/integrated-accounts", nil)
		assert.Equal(t, http.StatusOK, got.Status, "a migrated API token works")

		lim, err := r.Store.APITokenByHash(ctx, limited.TokenHash)
		require.NoError(t, err)
		assert.Equal(t, limited.AccountIDs, lim.AccountIDs, "a token's limits come along")
		assert.Equal(t, limited.Scopes, lim.Scopes)
		l, err := r.Store.ConnectLink(ctx, revoked.ID)
		require.NoError(t, err)
		assert.NotNil(t, l.RevokedAt, "a revoked link stays revoked")
		l, err = r.Store.ConnectLink(ctx, usable.ID)
		require.NoError(t, err)
		assert.Nil(t, l.RevokedAt)
		c, err := r.Store.OAuthClient(ctx, client.ID)
		require.NoError(t, err)
		assert.Equal(t, client.RedirectURIs, c.RedirectURIs)
		v, err := r.Store.CacheGet(ctx, "acme/mcp.example.com")
		require.NoError(t, err)
		assert.Equal(t, cert, v, "cached ACME data comes along")

		entries, _, err := r.Store.Audit(ctx, "", 1000)
		require.NoError(t, err)
		byID := map[string]*tokens.AuditEntry{}
		for _, e := range entries {
			byID[e.ID] = e
		}
		for _, e := range audit {
			assert.Equal(t, e, byID[e.ID], "audit entry %s (%s) comes along whole", e.ID, e.Action)
		}
	}
}

// postMCP sends an MCP initialize to url with a bearer token and returns
// the status.
func postMCP(t *testing.T, url, bearer string) int {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+bearer)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	return res.StatusCode
}

func TestMigrateNeedsItsArguments(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"migrate", "--from", "x.db"}, envOf(nil), io.Discard, io.Discard)
	assert.ErrorContains(t, err, "usage: bigin-mcp migrate")
	code, stdout, stderr := runCLI(t, nil, "migrate", "--to", "etcd")
	assert.Equal(t, 2, code, "a usage mistake")
	assert.Empty(t, stdout)
	assert.True(t, strings.HasPrefix(stderr, "usage: bigin-mcp migrate --from <bbolt path> --to etcd"), stderr)
	assert.Contains(t, stderr, "Usage: bigin-mcp migrate [flags]")
	err = run(context.Background(), []string{"serve", "--store", "etcd", "--etcd-endpoints", "http://127.0.0.1:1"}, envOf(nil), io.Discard, io.Discard)
	assert.ErrorContains(t, err, "BIGIN_MCP_SECRET_KEY: required with BIGIN_MCP_STORE=etcd")
	assert.NotContains(t, err.Error(), "\n", "one line")
}

// TestMigrateHelp: migrate --help (and help migrate) shows its flags,
// --from and --to with the etcd settings of serve, and exits 0.
func TestMigrateHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"migrate", "--help"}, {"migrate", "-h"}, {"help", "migrate"}} {
		code, stdout, stderr := runCLI(t, nil, args...)
		assert.Equal(t, 0, code, "%v", args)
		assert.Empty(t, stderr)
		assert.Contains(t, stdout, "Usage: bigin-mcp migrate [flags]")
		for _, flag := range []string{"-from", "-to", "-etcd-endpoints", "-etcd-prefix", "-secret-key"} {
			assert.Contains(t, stdout, "\n  "+flag+" ", "%v lists %s", args, flag)
		}
		assert.NotContains(t, stdout, "-acme-domains", "only the settings migrate reads")
		assertListsEveryCommand(t, stdout)
	}
}

// TestMigrateFromAMissingFile: a --from that names no file is reported as
// such, before any setting (the secret key it would read beside the file
// among them) is looked at.
func TestMigrateFromAMissingFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		from string
		want string
	}{
		{"/nope.db", "--from: there is no file /nope.db"},
		{dir, "--from: " + dir + " is a directory; give the path of the bbolt file in it, " + filepath.Join(dir, "bigin-mcp.db")},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCLI(t, nil, "migrate", "--from", tt.from, "--to", "etcd")
		assert.Equal(t, 1, code)
		assert.Empty(t, stdout)
		assert.True(t, strings.HasPrefix(stderr, "bigin-mcp: "+tt.want), stderr)
		assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %s", stderr)
		assert.NotContains(t, stderr, "SECRET_KEY")
	}
}
