package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeySize is the length in bytes of the secret key (AES-256).
const KeySize = 32

// sealVersion is the first byte of every sealed value, so that another
// format (or key rotation) can be told apart later.
const sealVersion = 1

// Key check: a known value sealed in meta on first open, so a wrong key is
// detected at startup instead of when the first secret is read.
const keyCheckPlaintext = "bigin-mcp key check v1"

var keyCheckAD = sealAD("meta", "store", "key_check")

// sealer seals and opens values with AES-256-GCM. A cipher.AEAD from
// crypto/cipher holds no per-call state, so one sealer is safe for
// concurrent use.
type sealer struct {
	aead cipher.AEAD
}

// newSealer checks the key's length and builds the AEAD.
func newSealer(key []byte) (sealer, error) {
	if len(key) != KeySize {
		return sealer{}, fmt.Errorf("store: secret key is %d bytes; it must be exactly %d (AES-256)", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return sealer{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return sealer{}, err
	}
	return sealer{aead: aead}, nil
}

// sealAD is the additional data that binds a sealed value to its record and
// field, so that a value copied into another record or field fails to open.
func sealAD(kind, id, field string) []byte {
	return []byte(kind + "\x00" + id + "\x00" + field)
}

// seal returns version || nonce || ciphertext+tag, with a fresh random
// 12-byte nonce.
func (s sealer) seal(plaintext, ad []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("store: random nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:], plaintext, ad), nil
}

// errUnseal is returned when a sealed value cannot be opened.
var errUnseal = errors.New("sealed value cannot be opened (wrong key, corrupt data, or moved between records)")

// open reverses seal.
func (s sealer) open(sealed, ad []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < 1+ns+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, errUnseal
	}
	pt, err := s.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], ad)
	if err != nil {
		return nil, errUnseal
	}
	return pt, nil
}
