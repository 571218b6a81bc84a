package store

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFileName is the file in the data directory that holds a generated key.
const KeyFileName = "secret.key"

// DBFileName is the database file in the data directory.
const DBFileName = "bigin-mcp.db"

// LoadOrCreateKey returns the key from the base64 value b64 when it is not
// empty (it must decode to exactly 32 bytes; standard, URL-safe and unpadded
// base64 are accepted), otherwise reads <dir>/secret.key, creating it (mode
// 0600, 32 random bytes, base64) when it does not exist. dir is created with
// mode 0700 if missing. A new key file is written atomically and never
// replaces one that appeared meanwhile. When there is neither a key nor a
// key file but dir already holds a database (DBFileName), it fails with
// ErrNoKey and writes nothing: a new key could never open that database.
func LoadOrCreateKey(dir, b64 string) ([]byte, error) {
	if strings.TrimSpace(b64) != "" {
		key, err := decodeKey(b64)
		if err != nil {
			return nil, fmt.Errorf("BIGIN_MCP_SECRET_KEY: %w", err)
		}
		return key, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(dir, KeyFileName)
	key, err := readKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if fi, err := os.Stat(filepath.Join(dir, DBFileName)); err == nil && fi.Size() > 0 {
		return nil, ErrNoKey
	}
	return createKeyFile(dir, path)
}

// decodeKey decodes base64 in any common form to exactly KeySize bytes.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		key, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("decodes to %d bytes; it must be exactly %d (generate one with: openssl rand -base64 32)", len(key), KeySize)
		}
		return key, nil
	}
	return nil, errors.New("is not valid base64 (generate one with: openssl rand -base64 32)")
}

// readKeyFile reads and decodes an existing key file.
func readKeyFile(path string) ([]byte, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	key, err := decodeKey(string(buf))
	if err != nil {
		return nil, fmt.Errorf("secret key file %s %w", path, err)
	}
	return key, nil
}

// createKeyFile writes a new random key to path: temp file, fsync, then a
// hard link (which fails if path exists, so two processes starting at once
// agree on one key), falling back to rename where links are unsupported.
func createKeyFile(dir, path string) ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate secret key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".secret.key-*")
	if err != nil {
		return nil, fmt.Errorf("create secret key file in %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := writeSynced(tmp, base64.StdEncoding.EncodeToString(key)+"\n"); err != nil {
		return nil, fmt.Errorf("write secret key file %s: %w", tmpName, err)
	}
	switch err := os.Link(tmpName, path); {
	case err == nil:
	case errors.Is(err, fs.ErrExist):
		// Another process created it first: use theirs.
		return readKeyFile(path)
	default:
		if err := os.Rename(tmpName, path); err != nil {
			return nil, fmt.Errorf("create secret key file %s: %w", path, err)
		}
	}
	syncDir(dir)
	return key, nil
}

// writeSynced writes s to f with mode 0600, fsyncs and closes it.
func writeSynced(f *os.File, s string) error {
	err := f.Chmod(0o600)
	if err == nil {
		_, err = f.WriteString(s)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a new directory entry durable; not every platform supports
// it, so errors are ignored.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
