package oauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// sealer encrypts and authenticates the states that travel through the
// browser and Zoho (AES-256-GCM): they hold the MCP URL token of the
// resource, which must not be readable on the way, and must not be
// forged. Each names its purpose, so one cannot stand in for another.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if len(key) < 32 {
		return nil, errors.New("oauth: the state key must be 32 bytes")
	}
	block, err := aes.NewCipher(key[:32])
	if err != nil {
		return nil, fmt.Errorf("oauth: state key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("oauth: state key: %w", err)
	}
	return &sealer{aead: aead}, nil
}

var errBadSeal = errors.New("invalid or expired state")

// envelope is what a sealed value holds besides its payload.
type envelope struct {
	Purpose string          `json:"p"`
	Expires int64           `json:"e"`
	Payload json.RawMessage `json:"v"`
}

// seal returns v sealed for purpose until expires, as base64url.
func (s *sealer) seal(purpose string, expires time.Time, v any) (string, error) {
	payload, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	plain, err := json.Marshal(envelope{Purpose: purpose, Expires: expires.Unix(), Payload: payload})
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(purpose))), nil
}

// open reads a value sealed for purpose that has not expired at now.
func (s *sealer) open(purpose, sealed string, now time.Time, v any) error {
	if len(sealed) > 16<<10 {
		return errBadSeal
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return errBadSeal
	}
	plain, err := s.aead.Open(nil, raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():], []byte(purpose))
	if err != nil {
		return errBadSeal
	}
	var env envelope
	if err := json.Unmarshal(plain, &env); err != nil || env.Purpose != purpose || now.Unix() >= env.Expires {
		return errBadSeal
	}
	if err := json.Unmarshal(env.Payload, v); err != nil {
		return errBadSeal
	}
	return nil
}
