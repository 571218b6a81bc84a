package tokens_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// TestCallerActor: audit entries name a caller the same way whichever
// surface identified it.
func TestCallerActor(t *testing.T) {
	t.Parallel()
	tok := &tokens.APIToken{ID: "t1"}
	grant := &tokens.OAuthGrant{ID: "g1", ZUID: "z1"}
	tests := []struct {
		name       string
		who        *tokens.Caller
		actor      string
		apiTokenID string
	}{
		{"none is the system", nil, "system", ""},
		{"empty is the system", &tokens.Caller{}, "system", ""},
		{"admin API, REST or UI", &tokens.Caller{APIToken: tok}, "api_token:t1", "t1"},
		{"url MCP URL", &tokens.Caller{MCPServerID: "s1"}, "mcp:s1", ""},
		{"api_token MCP URL", &tokens.Caller{MCPServerID: "s1", APIToken: tok}, "mcp:s1", "t1"},
		{"oauth MCP URL", &tokens.Caller{MCPServerID: "s1", Grant: grant}, "oauth:z1", ""},
		{"connect link", &tokens.Caller{ConnectLinkID: "l1"}, "connect_link:l1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.actor, tt.who.Actor())
			assert.Equal(t, tt.apiTokenID, tt.who.APITokenID())
		})
	}
}

func TestCallerTravelsInTheContext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	assert.Nil(t, tokens.CallerFrom(ctx), "no caller: the system")
	who := &tokens.Caller{APIToken: &tokens.APIToken{ID: "t1"}}
	assert.Same(t, who, tokens.CallerFrom(tokens.WithCaller(ctx, who)))
}
