// Package record is the on-disk form of bigin-mcp's records, shared by
// every store backend (the bbolt file and etcd): records as JSON, token
// hashes as base64, and an account's secrets sealed with AES-256-GCM bound
// to the account and field they belong to. Two backends that share this
// package and a key can read each other's records, which is what lets
// `bigin-mcp migrate` copy records without opening them.
package record

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// KeySize is the length in bytes of the secret key (AES-256).
const KeySize = 32

// sealVersion is the first byte of every sealed value, so that another
// format (or key rotation) can be told apart later.
const sealVersion = 1

// KeyCheckPlaintext is a known value a store seals once when it is
// created, so a wrong key is detected at startup instead of when the first
// secret is read.
const KeyCheckPlaintext = "bigin-mcp key check v1"

// KeyCheckAD is the additional data of the sealed key check.
var KeyCheckAD = AD("meta", "store", "key_check")

// Sealer seals and opens values with AES-256-GCM. A cipher.AEAD holds no
// per-call state, so one Sealer is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer checks the key's length and builds the AEAD.
func NewSealer(key []byte) (Sealer, error) {
	if len(key) != KeySize {
		return Sealer{}, fmt.Errorf("store: secret key is %d bytes; it must be exactly %d (AES-256)", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return Sealer{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return Sealer{}, err
	}
	return Sealer{aead: aead}, nil
}

// AD is the additional data that binds a sealed value to its record and
// field, so that a value copied into another record or field fails to open.
func AD(kind, id, field string) []byte {
	return []byte(kind + "\x00" + id + "\x00" + field)
}

// Seal returns version || nonce || ciphertext+tag, with a fresh random
// 12-byte nonce.
func (s Sealer) Seal(plaintext, ad []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("store: random nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:], plaintext, ad), nil
}

// ErrUnseal is returned when a sealed value cannot be opened.
var ErrUnseal = errors.New("sealed value cannot be opened (wrong key, corrupt data, or moved between records)")

// Open reverses Seal.
func (s Sealer) Open(sealed, ad []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < 1+ns+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, ErrUnseal
	}
	pt, err := s.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], ad)
	if err != nil {
		return nil, ErrUnseal
	}
	return pt, nil
}

// KeyCheck returns a fresh sealed key check.
func (s Sealer) KeyCheck() ([]byte, error) {
	return s.Seal([]byte(KeyCheckPlaintext), KeyCheckAD)
}

// CheckKey reports whether sealed is a key check sealed with this key.
func (s Sealer) CheckKey(sealed []byte) bool {
	pt, err := s.Open(sealed, KeyCheckAD)
	return err == nil && string(pt) == KeyCheckPlaintext
}

// diskAccount is an account as written: the plain fields of tokens.Account
// (its secret fields are tagged json:"-") plus the secrets, each sealed
// with the account's ID and the field's name as additional data.
type diskAccount struct {
	tokens.Account
	PlainClientID      string    `json:"client_id,omitempty"`
	SealedClientSecret []byte    `json:"client_secret_sealed"`
	SealedRefreshToken []byte    `json:"refresh_token_sealed"`
	SealedAccessToken  []byte    `json:"access_token_sealed"`
	PlainAccessExpiry  time.Time `json:"access_expiry,omitzero"`
}

// Sealed account fields, also their additional-data names.
const (
	fieldClientSecret = "client_secret"
	fieldRefreshToken = "refresh_token"
	fieldAccessToken  = "access_token"
)

// EncodeAccount seals a's secrets and marshals it.
func (s Sealer) EncodeAccount(a *tokens.Account) ([]byte, error) {
	d := diskAccount{Account: *a, PlainClientID: a.ClientID, PlainAccessExpiry: a.AccessExpiry}
	for _, f := range []struct {
		name  string
		plain string
		out   *[]byte
	}{
		{fieldClientSecret, a.ClientSecret, &d.SealedClientSecret},
		{fieldRefreshToken, a.RefreshToken, &d.SealedRefreshToken},
		{fieldAccessToken, a.AccessToken, &d.SealedAccessToken},
	} {
		sealed, err := s.Seal([]byte(f.plain), AD("account", a.ID, f.name))
		if err != nil {
			return nil, err
		}
		*f.out = sealed
	}
	return json.Marshal(&d)
}

// DecodeAccount unmarshals and unseals an account stored under id.
func (s Sealer) DecodeAccount(id string, buf []byte) (*tokens.Account, error) {
	var d diskAccount
	if err := json.Unmarshal(buf, &d); err != nil {
		return nil, fmt.Errorf("decode account %q: %w", id, err)
	}
	a := d.Account
	a.ClientID = d.PlainClientID
	a.AccessExpiry = d.PlainAccessExpiry
	for _, f := range []struct {
		name   string
		sealed []byte
		out    *string
	}{
		{fieldClientSecret, d.SealedClientSecret, &a.ClientSecret},
		{fieldRefreshToken, d.SealedRefreshToken, &a.RefreshToken},
		{fieldAccessToken, d.SealedAccessToken, &a.AccessToken},
	} {
		pt, err := s.Open(f.sealed, AD("account", id, f.name))
		if err != nil {
			return nil, fmt.Errorf("account %q %s: %w", id, f.name, err)
		}
		*f.out = string(pt)
	}
	return &a, nil
}

// diskServer is an MCP server as written: the hash as base64 rather than
// an array of 32 numbers.
type diskServer struct {
	tokens.MCPServer
	TokenHash []byte `json:"token_hash"`
}

// CloneServer returns a deep copy of s.
func CloneServer(s *tokens.MCPServer) *tokens.MCPServer {
	c := *s
	c.Config.Methods = slices.Clone(s.Config.Methods)
	c.Config.Tags = slices.Clone(s.Config.Tags)
	c.Config.Modules = slices.Clone(s.Config.Modules)
	c.Config.OAuthProfiles = slices.Clone(s.Config.OAuthProfiles)
	if s.ExpiresAt != nil {
		t := *s.ExpiresAt
		c.ExpiresAt = &t
	}
	return &c
}

// EncodeServer marshals s.
func EncodeServer(s *tokens.MCPServer) ([]byte, error) {
	return json.Marshal(&diskServer{MCPServer: *s, TokenHash: s.TokenHash[:]})
}

// DecodeServer unmarshals a server stored under id.
func DecodeServer(id string, buf []byte) (*tokens.MCPServer, error) {
	var d diskServer
	if err := json.Unmarshal(buf, &d); err != nil {
		return nil, fmt.Errorf("decode mcp server %q: %w", id, err)
	}
	if len(d.TokenHash) != 32 {
		return nil, fmt.Errorf("decode mcp server %q: token hash is %d bytes", id, len(d.TokenHash))
	}
	s := d.MCPServer
	s.TokenHash = [32]byte(d.TokenHash)
	return &s, nil
}

// diskAPIToken is an API token as written (hash as base64).
type diskAPIToken struct {
	tokens.APIToken
	TokenHash []byte `json:"token_hash"`
}

// EncodeAPIToken marshals t.
func EncodeAPIToken(t *tokens.APIToken) ([]byte, error) {
	return json.Marshal(&diskAPIToken{APIToken: *t, TokenHash: t.TokenHash[:]})
}

// DecodeAPIToken unmarshals an API token stored under id.
func DecodeAPIToken(id string, buf []byte) (*tokens.APIToken, error) {
	var d diskAPIToken
	if err := json.Unmarshal(buf, &d); err != nil {
		return nil, fmt.Errorf("decode api token %q: %w", id, err)
	}
	if len(d.TokenHash) != 32 {
		return nil, fmt.Errorf("decode api token %q: token hash is %d bytes", id, len(d.TokenHash))
	}
	t := d.APIToken
	t.TokenHash = [32]byte(d.TokenHash)
	return &t, nil
}

// diskConnectLink is a connect link as written (hash as base64).
type diskConnectLink struct {
	tokens.ConnectLink
	TokenHash []byte `json:"token_hash"`
}

// EncodeConnectLink marshals l.
func EncodeConnectLink(l *tokens.ConnectLink) ([]byte, error) {
	return json.Marshal(&diskConnectLink{ConnectLink: *l, TokenHash: l.TokenHash[:]})
}

// DecodeConnectLink unmarshals a connect link stored under id.
func DecodeConnectLink(id string, buf []byte) (*tokens.ConnectLink, error) {
	var d diskConnectLink
	if err := json.Unmarshal(buf, &d); err != nil {
		return nil, fmt.Errorf("decode connect link %q: %w", id, err)
	}
	if len(d.TokenHash) != 32 {
		return nil, fmt.Errorf("decode connect link %q: token hash is %d bytes", id, len(d.TokenHash))
	}
	l := d.ConnectLink
	l.TokenHash = [32]byte(d.TokenHash)
	return &l, nil
}

// EncodeAudit marshals an audit entry.
func EncodeAudit(e *tokens.AuditEntry) ([]byte, error) { return json.Marshal(e) }

// DecodeAudit unmarshals an audit entry stored under id.
func DecodeAudit(id string, buf []byte) (*tokens.AuditEntry, error) {
	var e tokens.AuditEntry
	if err := json.Unmarshal(buf, &e); err != nil {
		return nil, fmt.Errorf("decode audit entry %q: %w", id, err)
	}
	return &e, nil
}

// EncodeOAuthClient marshals an OAuth client.
func EncodeOAuthClient(c *tokens.OAuthClient) ([]byte, error) { return json.Marshal(c) }

// DecodeOAuthClient unmarshals an OAuth client stored under id.
func DecodeOAuthClient(id string, buf []byte) (*tokens.OAuthClient, error) {
	var c tokens.OAuthClient
	if err := json.Unmarshal(buf, &c); err != nil {
		return nil, fmt.Errorf("decode OAuth client %q: %w", id, err)
	}
	return &c, nil
}

// EncodeOAuthGrant marshals an OAuth grant (it holds only hashes of
// tokens, so nothing in it is sealed).
func EncodeOAuthGrant(g *tokens.OAuthGrant) ([]byte, error) { return json.Marshal(g) }

// DecodeOAuthGrant unmarshals an OAuth grant stored under id.
func DecodeOAuthGrant(id string, buf []byte) (*tokens.OAuthGrant, error) {
	var g tokens.OAuthGrant
	if err := json.Unmarshal(buf, &g); err != nil {
		return nil, fmt.Errorf("decode OAuth grant %q: %w", id, err)
	}
	return &g, nil
}

// CloneOAuthGrant returns a deep copy of g.
func CloneOAuthGrant(g *tokens.OAuthGrant) *tokens.OAuthGrant {
	c := *g
	c.UsedRefreshHashes = slices.Clone(g.UsedRefreshHashes)
	if g.CodeUsedAt != nil {
		t := *g.CodeUsedAt
		c.CodeUsedAt = &t
	}
	return &c
}

// CheckCacheKey rejects keys a cache does not hold (never quoting the
// value, which may be a secret).
func CheckCacheKey(key string) error {
	switch {
	case key == "":
		return errors.New("store: cache key is empty")
	case len(key) > tokens.MaxCacheKey:
		return fmt.Errorf("store: cache key is longer than %d bytes", tokens.MaxCacheKey)
	case strings.ContainsRune(key, 0):
		return errors.New("store: cache key contains a NUL byte")
	}
	return nil
}

// CheckCacheValue rejects a value larger than a cache holds.
func CheckCacheValue(key string, value []byte) error {
	if len(value) > tokens.MaxCacheValue {
		return fmt.Errorf("store: cache value for %q is %d bytes; at most %d are kept", key, len(value), tokens.MaxCacheValue)
	}
	return nil
}

// CacheAD is the additional data of a cached value: it binds the value to
// its key, so a value moved under another key fails to open.
func CacheAD(key string) []byte { return AD("cache", key, "value") }

// CheckID rejects IDs that would break a key layout.
func CheckID(kind, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("store: %s ID is empty", kind)
	case len(id) > 256:
		return fmt.Errorf("store: %s ID is longer than 256 bytes", kind)
	case strings.ContainsRune(id, 0):
		return fmt.Errorf("store: %s ID contains a NUL byte", kind)
	}
	return nil
}

// CheckLimit rejects a page size below 1.
func CheckLimit(limit int) error {
	if limit < 1 {
		return fmt.Errorf("store: limit %d must be at least 1", limit)
	}
	return nil
}

// NotFound wraps tokens.ErrNotFound with what was looked up (never a
// secret).
func NotFound(kind, id string) error {
	if id == "" {
		return fmt.Errorf("%s: %w", kind, tokens.ErrNotFound)
	}
	return fmt.Errorf("%s %q: %w", kind, id, tokens.ErrNotFound)
}
