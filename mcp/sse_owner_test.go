package mcp_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"path"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// sseCaller is one credential of an MCP URL: the headers that carry it,
// and what its tool calls' audit entries name.
type sseCaller struct {
	hdr        http.Header
	apiTokenID string // api_token URLs
	userZUID   string // oauth URLs
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

// mintMCPToken makes an API token allowed to use MCP.
func mintMCPToken(e *apptest.Env, name string) sseCaller {
	out := e.AdminCall(http.MethodPost, "/admin/api-tokens", map[string]any{"name": name, "scopes": []string{"mcp"}}, http.StatusCreated)
	return sseCaller{hdr: bearer(out["token"].(string)), apiTokenID: out["id"].(string)}
}

// grantOAuth approves the oauth URL for the sandbox user, as its sign-in
// and consent would, and returns the access token of the new grant.
func grantOAuth(t *testing.T, e *apptest.Env, mcpURL, userID string) sseCaller {
	t.Helper()
	ctx := context.Background()
	urlToken := path.Base(mcpURL)
	res, err := e.App.OAuth.Resolve(ctx, urlToken)
	require.NoError(t, err)
	u, ok := e.Sandboxes["us"].User(userID)
	require.True(t, ok)
	const client, redirect = "test-client", "http://127.0.0.1:5001/cb"
	verifier := apptest.NewID() + apptest.NewID()
	sum := sha256.Sum256([]byte(verifier))
	code, err := e.App.OAuth.IssueCode(ctx, res, tokens.CodeRequest{
		ClientID: client, ClientName: "test", RedirectURI: redirect, CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]),
		Member: &tokens.Member{UserID: u.ID, ZUID: u.ZUID, Email: u.Email, Profile: u.Profile.Name, Status: "active"},
	})
	require.NoError(t, err)
	iss, err := e.App.OAuth.ExchangeCode(ctx, code, client, redirect, verifier, urlToken)
	require.NoError(t, err)
	return sseCaller{hdr: bearer(iss.AccessToken), userZUID: u.ZUID}
}

func toolCallBody(id int) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"list_all_zohobigin_me","arguments":{}}}`, id)
}

// TestSSESessionTakesMessagesOnlyFromItsOpener: a legacy SSE session runs
// its messages as the caller whose request opened its stream, so it takes
// them from that caller alone. Another valid credential of the same URL
// that learned the session id (a second API token of an api_token URL, a
// second person's grant of an oauth URL) is refused with a 403 JSON-RPC
// error and nothing it sent runs: no answer on the stream, no audit
// entry, no call to Zoho. On an auth url URL the URL is the credential,
// so every caller of it is the same one.
func TestSSESessionTakesMessagesOnlyFromItsOpener(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := e.ConnectAccount("us")
	sb := e.Sandboxes["us"]
	users := sb.UserIDs("ActiveUsers")
	require.GreaterOrEqual(t, len(users), 2)

	apiID, apiURL := e.MintURL(acct, map[string]any{"auth": "api_token"})
	oauthID, oauthURL := e.MintURL(acct, map[string]any{"auth": "oauth"})
	oauth2ID, oauth2URL := e.MintURL(acct, map[string]any{"auth": "oauth"})
	urlID, urlURL := e.MintURL(acct, map[string]any{})
	tests := []struct {
		name          string
		serverID, url string
		opener, other sseCaller
		sameCaller    bool
	}{
		{"api_token URL, another API token", apiID, apiURL, mintMCPToken(e, "opener"), mintMCPToken(e, "other"), false},
		{"oauth URL, another person's grant", oauthID, oauthURL, grantOAuth(t, e, oauthURL, users[0]), grantOAuth(t, e, oauthURL, users[1]), false},
		{"oauth URL, no credential", oauth2ID, oauth2URL, grantOAuth(t, e, oauth2URL, users[0]), sseCaller{}, false},
		{"url URL, another client", urlID, urlURL, sseCaller{}, sseCaller{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openSSESessionAs(t, tt.url, tt.opener.hdr)
			status, body := s.send(initBody("1"))
			require.Equal(t, http.StatusAccepted, status, body)
			require.Equal(t, "1", string(decodeAnswer(t, s.next().data).ID))
			status, body = s.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
			require.Equal(t, http.StatusAccepted, status, body)
			calls := sb.APIRequestCount()

			status, body = s.sendAs(tt.other.hdr, toolCallBody(2))
			if tt.sameCaller {
				require.Equal(t, http.StatusAccepted, status, body)
				a := decodeAnswer(t, s.next().data)
				assert.Equal(t, "2", string(a.ID))
				assert.Nil(t, a.Error)
				return
			}
			if tt.other.hdr == nil {
				require.Equal(t, http.StatusUnauthorized, status, "admission refuses a request without the URL's credential: %s", body)
			} else {
				require.Equal(t, http.StatusForbidden, status, body)
				a := decodeAnswer(t, body)
				require.NotNil(t, a.Error, body)
				assert.Equal(t, "2", string(a.ID))
				assert.Equal(t, tokens.CodePermissionDenied, a.Error.Data.Code)
				assert.Contains(t, a.Error.Message, "belongs to the credential that opened its event stream")
				status, body = s.sendAs(tt.other.hdr, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`)
				assert.Equal(t, http.StatusForbidden, status, "a notification is refused too: %s", body)
			}

			// The opener's own call is the next answer on the stream: the
			// refused one never ran.
			status, body = s.send(toolCallBody(3))
			require.Equal(t, http.StatusAccepted, status, body)
			a := decodeAnswer(t, s.next().data)
			assert.Equal(t, "3", string(a.ID))
			assert.Nil(t, a.Error)
			assert.Equal(t, calls+1, sb.APIRequestCount(), "one call reached Zoho: the opener's")

			e.App.Flush()
			entries, _, err := e.DB.Audit(context.Background(), "", 200)
			require.NoError(t, err)
			var mine []*tokens.AuditEntry
			for _, en := range entries {
				if en.Action == "tool_call" && en.MCPServerID == tt.serverID {
					mine = append(mine, en)
				}
			}
			require.Len(t, mine, 1, "one call audited: the opener's")
			assert.Equal(t, tt.opener.apiTokenID, mine[0].APITokenID)
			assert.Equal(t, tt.opener.userZUID, mine[0].UserZUID)
		})
	}
}
