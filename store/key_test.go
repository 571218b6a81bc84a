package store

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadOrCreateKeyFromValue(t *testing.T) {
	key := testKey(t)
	tests := []struct {
		name string
		b64  string
		want []byte
		msg  string
	}{
		{"std", base64.StdEncoding.EncodeToString(key), key, ""},
		{"std with newline", base64.StdEncoding.EncodeToString(key) + "\n", key, ""},
		{"raw std", base64.RawStdEncoding.EncodeToString(key), key, ""},
		{"url", base64.URLEncoding.EncodeToString(key), key, ""},
		{"raw url", base64.RawURLEncoding.EncodeToString(key), key, ""},
		{"too short", base64.StdEncoding.EncodeToString(key[:16]), nil, "BIGIN_MCP_SECRET_KEY: decodes to 16 bytes; it must be exactly 32"},
		{"too long", base64.StdEncoding.EncodeToString(append(key, 1)), nil, "decodes to 33 bytes"},
		{"not base64", "not*base64!", nil, "BIGIN_MCP_SECRET_KEY: is not valid base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			got, err := LoadOrCreateKey(dir, tt.b64)
			if tt.msg != "" {
				assert.ErrorContains(t, err, tt.msg)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			_, err = os.Stat(filepath.Join(dir, KeyFileName))
			assert.True(t, os.IsNotExist(err), "a key from the environment must not create secret.key")
		})
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	k1, err := LoadOrCreateKey(dir, "")
	require.NoError(t, err)
	assert.Len(t, k1, KeySize)

	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	fi, err = os.Stat(filepath.Join(dir, KeyFileName))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temp file left behind")

	k2, err := LoadOrCreateKey(dir, "")
	require.NoError(t, err)
	assert.Equal(t, k1, k2, "the second start reads the same key")

	// The generated key opens a database; the same key reopens it.
	path := filepath.Join(dir, "bigin-mcp.db")
	db, err := Open(path, Options{Key: k1})
	require.NoError(t, err)
	require.NoError(t, db.Close())
	db, err = Open(path, Options{Key: k2})
	require.NoError(t, err)
	require.NoError(t, db.Close())
}

func TestLoadOrCreateKeyCorruptFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		msg     string
	}{
		{"garbage", "this is not a key", "is not valid base64"},
		{"wrong length", base64.StdEncoding.EncodeToString([]byte("short")), "decodes to 5 bytes"},
		{"empty", "", "decodes to 0 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, KeyFileName)
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o600))
			_, err := LoadOrCreateKey(dir, "")
			assert.ErrorContains(t, err, path)
			assert.ErrorContains(t, err, tt.msg)
		})
	}
}

func TestLoadOrCreateKeyUnwritableDir(t *testing.T) {
	// A regular file where the data directory's parent should be: no
	// directory can be created under it, even by root (CI runs as root,
	// where permission bits would not stop it).
	parent := filepath.Join(t.TempDir(), "not-a-dir")
	require.NoError(t, os.WriteFile(parent, nil, 0o600))
	_, err := LoadOrCreateKey(filepath.Join(parent, "data"), "")
	assert.ErrorContains(t, err, "create data directory")
}

// TestLoadOrCreateKeyBesideASealedDatabase: a data directory whose
// database was sealed with a key given in the environment, restarted
// without it, must not get a new secret.key that could never open it.
func TestLoadOrCreateKeyBesideASealedDatabase(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(filepath.Join(dir, DBFileName), Options{Key: testKey(t)})
	require.NoError(t, err)
	require.NoError(t, db.Close())
	before, err := os.ReadDir(dir)
	require.NoError(t, err)

	_, err = LoadOrCreateKey(dir, "")
	require.ErrorIs(t, err, ErrNoKey)

	after, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Equal(t, before, after, "nothing is written: no secret.key, no temp file")

	// An empty database file (a start that stopped before creating it) is
	// not sealed data: a key is generated as on a first start.
	empty := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(empty, DBFileName), nil, 0o600))
	key, err := LoadOrCreateKey(empty, "")
	require.NoError(t, err)
	assert.Len(t, key, KeySize)
}
