package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/clock/clocktest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func newTestClock() *clocktest.Fake {
	return clocktest.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

// testKey returns a fresh random 32-byte key.
func testKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}

// openTest opens a new database in a temp dir, closed at cleanup.
func openTest(t testing.TB, opts Options) *DB {
	t.Helper()
	if opts.Key == nil {
		opts.Key = testKey(t)
	}
	db, err := Open(filepath.Join(t.TempDir(), "bigin-mcp.db"), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// newID returns a uuid v7 string.
func newID(t testing.TB) string {
	t.Helper()
	id, err := uuid.NewV7()
	require.NoError(t, err)
	return id.String()
}

// hashOf returns the SHA-256 of s, as the tokens package stores it.
func hashOf(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// randomSecret returns a distinctive random string that cannot appear in
// the file by chance.
func randomSecret(t testing.TB, prefix string) string {
	t.Helper()
	b := make([]byte, 24)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return prefix + hex.EncodeToString(b)
}

// testAccount returns an account with random secrets.
func testAccount(t testing.TB, name string) *tokens.Account {
	t.Helper()
	return &tokens.Account{
		ID:           newID(t),
		Name:         name,
		Datacenter:   "us",
		APIDomain:    "https://www.zohoapis.com",
		OrgID:        "1234567",
		OrgName:      "Org " + name,
		ClientID:     "1000.CLIENTID",
		ClientSecret: randomSecret(t, "cs-"),
		RefreshToken: randomSecret(t, "rt-"),
		AccessToken:  randomSecret(t, "at-"),
		AccessExpiry: time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC),
	}
}

// testServer returns a server of account accountID with a random token hash.
func testServer(t testing.TB, accountID, name string) *tokens.MCPServer {
	t.Helper()
	return &tokens.MCPServer{
		ID:        newID(t),
		AccountID: accountID,
		Name:      name,
		TokenHash: hashOf(randomSecret(t, "bmcp_")),
		Config:    tokens.Config{Methods: []string{"read"}, Tags: []string{"users"}},
	}
}

func ptr[T any](v T) *T { return &v }
