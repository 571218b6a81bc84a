package tokens

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// Token prefixes. The random part is 43 characters of unpadded
// base64url: 32 bytes, 256 bits.
const (
	MCPTokenPrefix = "bmcp_"
	APITokenPrefix = "bmcp_api_"

	randomBytes = 32
	randomChars = 43 // base64.RawURLEncoding.EncodedLen(randomBytes)
)

// NewMCPToken returns a fresh MCP URL token: "bmcp_" + 43 base64url chars.
func NewMCPToken() string { return newToken(MCPTokenPrefix) }

// NewAPIToken returns a fresh API token: "bmcp_api_" + 43 base64url chars.
func NewAPIToken() string { return newToken(APITokenPrefix) }

func newToken(prefix string) string {
	var b [randomBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it crashes the program instead)
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// HashToken returns the SHA-256 of a token, the only form ever stored.
func HashToken(token string) [32]byte {
	// Copying into a stack buffer keeps the hot path (Resolve) free of the
	// heap allocation a []byte(token) conversion of this length costs.
	var buf [64]byte
	if len(token) <= len(buf) {
		n := copy(buf[:], token)
		return sha256.Sum256(buf[:n])
	}
	return sha256.Sum256([]byte(token))
}

// isMCPToken reports whether s has the shape of an MCP URL token; anything
// else cannot be one and needs no lookup. (API tokens are longer.)
func isMCPToken(s string) bool {
	return len(s) == len(MCPTokenPrefix)+randomChars && strings.HasPrefix(s, MCPTokenPrefix)
}
