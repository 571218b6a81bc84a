// Package storetest is the conformance suite of tokens.Store: every
// implementation (bbolt in package store, and any other backend) runs it
// and must pass it unchanged, so the policy can rely on what the Store
// interface promises whatever holds the data.
package storetest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/clock/clocktest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Factory opens a new, empty Store for one test, whose clock is now (nil:
// the real clock), and closes it when the test ends.
type Factory func(t *testing.T, now func() time.Time) tokens.Store

// Run runs every conformance test against stores that open makes.
func Run(t *testing.T, open Factory) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T, Factory)
	}{
		{"AccountCRUD", testAccountCRUD},
		{"AccountsPaging", testAccountsPaging},
		{"APITokens", testAPITokens},
		{"LastAPITokenRace", testLastAPITokenRace},
		{"AuditPagingNewestFirst", testAuditPagingNewestFirst},
		{"AuditEntryFields", testAuditEntryFields},
		{"DeleteAuditBefore", testDeleteAuditBefore},
		{"ConcurrentWrites", testConcurrentWrites},
		{"ConnectLinks", testConnectLinks},
		{"ConnectLinksPaging", testConnectLinksPaging},
		{"RevokeConnectLink", testRevokeConnectLink},
		{"RevokeRacesUse", testRevokeRacesUse},
		{"ReconnectLink", testReconnectLink},
		{"ReconnectRacesRevoke", testReconnectRacesRevoke},
		{"MCPServerCRUD", testMCPServerCRUD},
		{"MCPServersPagingPerAccount", testMCPServersPagingPerAccount},
		{"ForEachMCPServer", testForEachMCPServer},
		{"DeleteAccountCascades", testDeleteAccountCascades},
		{"DeleteExpiredMCPServers", testDeleteExpiredMCPServers},
		{"CreateMCPServersIsAllOrNothing", testCreateMCPServersIsAllOrNothing},
		{"CanceledContext", testCanceledContext},
		{"LimitMustBePositive", testLimitMustBePositive},
		{"OAuthClients", testOAuthClients},
		{"DeleteIdleOAuthClients", testDeleteIdleOAuthClients},
		{"OAuthGrantHashes", testOAuthGrantHashes},
		{"OAuthGrantsPerServer", testOAuthGrantsPerServer},
		{"Cache", testCache},
		{"IdempotencyKeys", testIdempotencyKeys},
		{"IdempotencySweepSpansBatches", testIdempotencySweepSpansBatches},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open) })
	}
}

func newTestClock() *clocktest.Fake {
	return clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

// NewID returns a uuid v7 string, as record IDs are.
func NewID(t testing.TB) string {
	t.Helper()
	id, err := uuid.NewV7()
	require.NoError(t, err)
	return id.String()
}

// HashOf returns the SHA-256 of s, as the tokens package stores it.
func HashOf(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// RandomSecret returns a distinctive random string that cannot appear in
// the data by chance.
func RandomSecret(t testing.TB, prefix string) string {
	t.Helper()
	b := make([]byte, 24)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return prefix + hex.EncodeToString(b)
}

// Account returns an account with random secrets.
func Account(t testing.TB, name string) *tokens.Account {
	t.Helper()
	return &tokens.Account{
		ID:           NewID(t),
		Name:         name,
		Datacenter:   "us",
		APIDomain:    "https://www.zohoapis.com",
		OrgID:        "1234567",
		OrgName:      "Org " + name,
		ClientID:     "1000.CLIENTID",
		ClientSecret: RandomSecret(t, "cs-"),
		RefreshToken: RandomSecret(t, "rt-"),
		AccessToken:  RandomSecret(t, "at-"),
		AccessExpiry: time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC),
	}
}

// Server returns a server of account accountID with a random token hash.
func Server(t testing.TB, accountID, name string) *tokens.MCPServer {
	t.Helper()
	return &tokens.MCPServer{
		ID:        NewID(t),
		AccountID: accountID,
		Name:      name,
		TokenHash: HashOf(RandomSecret(t, "bmcp_")),
		Config:    tokens.Config{Methods: []string{"read"}, Tags: []string{"users"}},
	}
}

func ptr[T any](v T) *T { return &v }
