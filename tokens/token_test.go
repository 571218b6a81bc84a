package tokens

import (
	"crypto/sha256"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTokenShapes(t *testing.T) {
	t.Parallel()
	mcpRE := regexp.MustCompile(`^bmcp_[A-Za-z0-9_-]{43}$`)
	apiRE := regexp.MustCompile(`^bmcp_api_[A-Za-z0-9_-]{43}$`)
	seen := map[string]bool{}
	for range 1000 {
		m, a := NewMCPToken(), NewAPIToken()
		assert.Regexp(t, mcpRE, m)
		assert.Regexp(t, apiRE, a)
		assert.True(t, isMCPToken(m))
		assert.False(t, isMCPToken(a), "an API token is not an MCP URL token")
		assert.False(t, seen[m] || seen[a], "tokens repeat")
		seen[m], seen[a] = true, true
	}
	assert.False(t, isMCPToken("bmcp_short"))
	assert.False(t, isMCPToken("xxxx_"+strings.Repeat("a", 43)))
}

func TestHashToken(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "bmcp_x", NewMCPToken(), NewAPIToken(), strings.Repeat("long", 100)} {
		assert.Equal(t, sha256.Sum256([]byte(s)), HashToken(s))
	}
}
