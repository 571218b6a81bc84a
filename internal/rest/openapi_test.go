package rest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

// exchange is one live request whose answer must match the document.
type exchange struct {
	name        string
	method      string
	path        string // may hold {acct}, {acct2}, {user}, {role}, {profile}, {mcp}, {token}
	body        string
	token       string // "" for the admin token, "-" for none, or a name in tokens
	contentType string // default application/json when there is a body
	status      int
	// badRequest marks a request that breaks the document on purpose (bad
	// input): only its answer is checked.
	badRequest bool
	// jsonl marks an answer in JSON Lines: each line is checked as an
	// item of the JSON page the same operation answers.
	jsonl  bool
	before func()
}

// TestOpenAPIDocumentMatchesLiveAnswers checks the document against the
// OpenAPI 3.1 schema, then every exchange's request and answer against
// the document: its paths, parameters, bodies, statuses and headers.
func TestOpenAPIDocumentMatchesLiveAnswers(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	sb := s.Sandboxes["us"]

	doc := s.RequestAs("", "", http.MethodGet, "/openapi.json", nil)
	require.Equal(t, http.StatusOK, doc.Status)
	require.Equal(t, "application/json", doc.Header.Get("Content-Type"))
	var head struct {
		OpenAPI string `json:"openapi"`
		Servers []struct {
			URL string `json:"url"`
		} `json:"servers"`
	}
	require.NoError(t, json.Unmarshal(doc.Body, &head))
	assert.Equal(t, "3.1.0", head.OpenAPI)
	require.Len(t, head.Servers, 1)
	assert.Equal(t, s.Public, head.Servers[0].URL)

	d, err := libopenapi.NewDocument(doc.Body)
	require.NoError(t, err)
	v, errs := validator.NewValidator(d)
	require.Empty(t, errs)
	ok, verrs := v.ValidateDocument()
	require.True(t, ok, "the document is not valid OpenAPI 3.1: %s", describe(verrs))

	vars := map[string]string{
		"{acct}":    s.account,
		"{user}":    sb.UserIDs("ActiveUsers")[2],
		"{victim}":  sb.UserIDs("ActiveUsers")[4],
		"{victim2}": sb.UserIDs("ActiveUsers")[6],
		"{primary}": sb.PrimaryUserID(),
		"{role}":    sb.Roles()[1].ID,
		"{profile}": sb.Profiles()[0].ID,
		"{deal}":    sb.RecordIDs("Pipelines")[0],
	}
	tokens := map[string]string{}
	expand := func(s string) string {
		for k, val := range vars {
			s = strings.ReplaceAll(s, k, val)
		}
		return s
	}
	newToken := func(name, body string) func() {
		return func() {
			out := s.AdminCall(http.MethodPost, "/admin/api-tokens", json.RawMessage(expand(body)), http.StatusCreated)
			tokens[name] = out["token"].(string)
			vars["{token:"+name+"}"] = out["id"].(string)
		}
	}
	rt := sb.IssueRefreshToken(bigin.Scopes()...)
	reauthAcct := ""
	q := "?integrated_account_id={acct}"
	exchanges := []exchange{
		{name: "healthz", method: "GET", path: "/healthz", token: "-", status: 200},
		{name: "readyz", method: "GET", path: "/readyz", token: "-", status: 200},
		{name: "openapi", method: "GET", path: "/openapi.json", token: "-", status: 200},

		// Admin API.
		{name: "create token", method: "POST", path: "/admin/api-tokens", body: `{"name":"ci"}`, status: 201},
		{name: "create limited token", method: "POST", path: "/admin/api-tokens", body: `{"name":"lim","account_ids":["{acct}"],"scopes":["proxy"]}`, status: 201},
		{name: "create token, bad scope", method: "POST", path: "/admin/api-tokens", body: `{"name":"x","scopes":["root"]}`, status: 400, badRequest: true},
		{name: "create token, no auth", method: "POST", path: "/admin/api-tokens", body: `{"name":"x"}`, token: "-", status: 401, badRequest: true},
		{name: "create token, not JSON", method: "POST", path: "/admin/api-tokens", body: `name=x`, contentType: "text/plain", status: 415, badRequest: true},
		{name: "list tokens", method: "GET", path: "/admin/api-tokens?limit=2", status: 200},
		{name: "list tokens, proxy token", method: "GET", path: "/admin/api-tokens", token: "proxy", status: 403, before: newToken("proxy", `{"name":"p","scopes":["proxy"]}`)},
		{name: "delete token", method: "DELETE", path: "/admin/api-tokens/{token:doomed}", status: 204, before: newToken("doomed", `{"name":"doomed"}`)},
		{name: "delete unknown token", method: "DELETE", path: "/admin/api-tokens/0190a0a0-0000-7000-8000-000000000000", status: 404},
		{name: "create connect link", method: "POST", path: "/admin/connect-links", body: `{"name":"Acme","expires_in_seconds":600}`, status: 201},
		{name: "create reconnect link", method: "POST", path: "/admin/connect-links", body: `{"account_id":"{acct}"}`, status: 201},
		{name: "list connect links", method: "GET", path: "/admin/connect-links?limit=5", status: 200},
		{name: "revoke connect link", method: "DELETE", path: "/admin/connect-links/{link}", status: 204, before: func() {
			vars["{link}"] = s.AdminCall(http.MethodPost, "/admin/connect-links", map[string]any{"name": "doomed"}, http.StatusCreated)["id"].(string)
		}},
		{name: "list connect links, one revoked", method: "GET", path: "/admin/connect-links", status: 200},
		{name: "revoke unknown connect link", method: "DELETE", path: "/admin/connect-links/0190a0a0-0000-7000-8000-000000000000", status: 404},
		{name: "audit", method: "GET", path: "/admin/audit?limit=5", status: 200},
		{name: "audit, filtered", method: "GET", path: "/admin/audit?account_id={acct}&since=2020-01-01T00:00:00Z&outcome=ok", status: 200},
		{name: "audit, jsonl", method: "GET", path: "/admin/audit?format=jsonl", status: 200, jsonl: true},
		{name: "audit, unknown parameter", method: "GET", path: "/admin/audit?colour=red", status: 400, badRequest: true},
		{name: "create account", method: "POST", path: "/admin/integrated-accounts", body: `{"name":"b","datacenter":"us","refresh_token":"` + rt + `","client_id":"` + sb.ClientID() + `","client_secret":"` + sb.ClientSecret() + `"}`, status: 201},
		{name: "create account, refused token", method: "POST", path: "/admin/integrated-accounts", body: `{"name":"b","datacenter":"us","refresh_token":"1000.nope","client_id":"` + sb.ClientID() + `","client_secret":"` + sb.ClientSecret() + `"}`, status: 400},
		{name: "list accounts", method: "GET", path: "/admin/integrated-accounts", status: 200},
		{name: "get account", method: "GET", path: "/admin/integrated-accounts/{acct}", status: 200},
		{name: "get unknown account", method: "GET", path: "/admin/integrated-accounts/nope", status: 404},
		{name: "rename account", method: "PATCH", path: "/admin/integrated-accounts/{acct}", body: `{"name":"renamed"}`, status: 200},
		{name: "mint URL", method: "POST", path: "/admin/integrated-accounts/{acct}/mcp", body: `{"name":"bot","config":{"methods":["read"]},"expires_at":"2099-01-01T00:00:00Z"}`, status: 201},
		{name: "mint URL at the alias", method: "POST", path: "/integrated-account/{acct}/mcp", body: `{"name":"bot2"}`, status: 201},
		{name: "mint URL, no tool left", method: "POST", path: "/admin/integrated-accounts/{acct}/mcp", body: `{"name":"x","config":{"methods":["delete"],"tags":["roles"]}}`, status: 400},
		{name: "list URLs", method: "GET", path: "/admin/integrated-accounts/{acct}/mcp", status: 200},
		{name: "list URLs at the alias", method: "GET", path: "/integrated-account/{acct}/mcp", status: 200},
		{name: "mint URL with limits", method: "POST", path: "/admin/integrated-accounts/{acct}/mcp", body: `{"name":"lim","config":{"tags":["users"],"max_result_chars":5000,"rate_limit":{"requests":10,"per_seconds":60},"auth":"api_token"}}`, status: 201},
		{name: "get URL", method: "GET", path: "/admin/integrated-accounts/{acct}/mcp/{mcp}", status: 200, before: func() {
			vars["{mcp}"] = s.AdminCall(http.MethodPost, "/admin/integrated-accounts/"+s.account+"/mcp", map[string]any{"name": "x"}, http.StatusCreated)["id"].(string)
		}},
		{name: "get URL at the alias", method: "GET", path: "/integrated-account/{acct}/mcp/{mcp}", status: 200},
		{name: "get unknown URL", method: "GET", path: "/admin/integrated-accounts/{acct}/mcp/0190a0a0-0000-7000-8000-000000000000", status: 404},
		{name: "patch URL", method: "PATCH", path: "/admin/integrated-accounts/{acct}/mcp/{mcp}", body: `{"name":"y","config":{"max_result_chars":null,"rate_limit":null},"expires_at":null}`, status: 200},
		{name: "patch URL to oauth", method: "PATCH", path: "/integrated-account/{acct}/mcp/{mcp}", body: `{"config":{"auth":"oauth","oauth_profiles":["Administrator"]}}`, status: 200},
		{name: "list grants", method: "GET", path: "/admin/integrated-accounts/{acct}/mcp/{mcp}/grants", status: 200},
		{name: "list grants at the alias", method: "GET", path: "/integrated-account/{acct}/mcp/{mcp}/grants?limit=3", status: 200},
		{name: "revoke unknown grant", method: "DELETE", path: "/admin/integrated-accounts/{acct}/mcp/{mcp}/grants/0190a0a0-0000-7000-8000-000000000000", status: 404},
		{name: "delete URL", method: "DELETE", path: "/integrated-account/{acct}/mcp/{mcp}", status: 204},
		{name: "account rate limit", method: "PATCH", path: "/admin/integrated-accounts/{acct}", body: `{"rate_limit":{"requests":1000,"per_seconds":60}}`, status: 200},

		// Tools.
		{name: "list tools", method: "GET", path: "/integrated-account/{acct}/tools?methods=read&tags=users", status: 200},
		{name: "list tools, bad method", method: "GET", path: "/integrated-account/{acct}/tools?methods=nope", status: 400},
		{name: "list tools, unknown account", method: "GET", path: "/integrated-account/nope/tools", status: 404},
		{name: "call list tool", method: "POST", path: "/integrated-account/{acct}/tools/list_all_zohobigin_users", body: `{"limit":3}`, status: 200},
		{name: "call get tool", method: "POST", path: "/integrated-account/{acct}/tools/get_single_zohobigin_user_by_id", body: `{"id":"{user}"}`, status: 200},
		{name: "call delete tool", method: "POST", path: "/integrated-account/{acct}/tools/delete_a_zohobigin_user_by_id", body: `{"id":"{victim}"}`, status: 200},
		{name: "call without body", method: "POST", path: "/integrated-account/{acct}/tools/list_all_zohobigin_me", status: 200},
		{name: "call, bad arguments", method: "POST", path: "/integrated-account/{acct}/tools/get_single_zohobigin_user_by_id", body: `{"id":"x"}`, status: 400},
		{name: "call, bad JSON", method: "POST", path: "/integrated-account/{acct}/tools/list_all_zohobigin_roles", body: `{`, status: 400, badRequest: true},
		{name: "call, oversized", method: "POST", path: "/integrated-account/{acct}/tools/list_all_zohobigin_roles", body: `{"x":"` + strings.Repeat("a", 1<<20) + `"}`, status: 413},
		{name: "call, unknown tool", method: "POST", path: "/integrated-account/{acct}/tools/nope", body: `{}`, status: 404, badRequest: true},
		{name: "call, rate limited", method: "POST", path: "/integrated-account/{acct}/tools/list_all_zohobigin_roles", body: `{}`, status: 429, before: func() { sb.FailNext(1, sandbox.RateLimited) }},
		{name: "call, Zoho fails", method: "POST", path: "/integrated-account/{acct}/tools/list_all_zohobigin_roles", body: `{}`, status: 502, before: func() { sb.FailNext(3, sandbox.InternalError) }},
		{name: "call search", method: "POST", path: "/integrated-account/{acct}/tools/search", body: `{"query":"Atlas"}`, status: 200},
		{name: "call fetch", method: "POST", path: "/integrated-account/{acct}/tools/fetch", body: `{"id":"Pipelines:{deal}"}`, status: 200},
		{name: "call fetch, unknown id", method: "POST", path: "/integrated-account/{acct}/tools/fetch", body: `{"id":"Pipelines:1234567"}`, status: 404},
		{name: "call, limited token elsewhere", method: "POST", path: "/integrated-account/{acct}/tools/list_all_zohobigin_roles", body: `{}`, token: "proxy", status: 403},

		// Unified.
		{name: "unified users", method: "GET", path: "/unified/user-directory/users" + q + "&limit=50", status: 200},
		{name: "unified user", method: "GET", path: "/unified/user-directory/users/{user}" + q, status: 200},
		{name: "unified deleted user", method: "GET", path: "/unified/user-directory/users/{victim}" + q, status: 200},
		{name: "unified delete", method: "DELETE", path: "/unified/user-directory/users/{victim2}" + q, status: 200},
		{name: "unified delete, primary", method: "DELETE", path: "/unified/user-directory/users/{primary}" + q, status: 502},
		{name: "unified unknown user", method: "GET", path: "/unified/user-directory/users/123456789" + q, status: 404},
		{name: "unified bad user id", method: "GET", path: "/unified/user-directory/users/abc" + q, status: 400, badRequest: true},
		{name: "unified roles", method: "GET", path: "/unified/user-directory/roles" + q + "&limit=2", status: 200},
		{name: "unified role", method: "GET", path: "/unified/user-directory/roles/{role}" + q, status: 200},
		{name: "unified no account", method: "GET", path: "/unified/user-directory/roles", status: 400, badRequest: true},
		{name: "unified rate limited", method: "GET", path: "/unified/user-directory/users" + q, status: 429, before: func() { sb.FailNext(1, sandbox.RateLimited) }},

		// Proxy.
		{name: "proxy users", method: "GET", path: "/proxy/users" + q + "&type=ActiveUsers&limit=10", status: 200},
		{name: "proxy user", method: "GET", path: "/proxy/users/{user}" + q, status: 200},
		{name: "proxy roles", method: "GET", path: "/proxy/roles" + q, status: 200},
		{name: "proxy role", method: "GET", path: "/proxy/roles/{role}" + q, status: 200},
		{name: "proxy profiles", method: "GET", path: "/proxy/profiles" + q, status: 200},
		{name: "proxy profile", method: "GET", path: "/proxy/profiles/{profile}" + q, status: 200},
		{name: "proxy organization", method: "GET", path: "/proxy/organization" + q, status: 200},
		{name: "proxy me", method: "GET", path: "/proxy/me" + q, status: 200},
		{name: "proxy me, limited token", method: "GET", path: "/proxy/me" + q, token: "lim", status: 200, before: newToken("lim", `{"name":"lim","account_ids":["{acct}"],"scopes":["proxy"]}`)},
		{name: "proxy bad type", method: "GET", path: "/proxy/users" + q + "&type=Everyone", status: 400, badRequest: true},
		{name: "proxy error in 200", method: "GET", path: "/proxy/roles" + q, status: 502, before: func() { sb.FailNext(1, sandbox.ErrorIn200) }},
		{name: "proxy reauth", method: "GET", path: "/proxy/me?integrated_account_id={reauth}", status: 409, before: func() {
			reauthAcct = s.AdminCall(http.MethodPost, "/admin/integrated-accounts", map[string]any{
				"name": "r", "datacenter": "us", "refresh_token": rt, "client_id": sb.ClientID(), "client_secret": sb.ClientSecret(),
			}, http.StatusCreated)["id"].(string)
			vars["{reauth}"] = reauthAcct
			sb.RevokeRefreshToken(rt)
			sb.ExpireAccessTokens()
		}},

		// The account's own limit refuses a call before Zoho.
		{name: "account rate limit, tight", method: "PATCH", path: "/admin/integrated-accounts/{acct}", body: `{"rate_limit":{"requests":1,"per_seconds":86400}}`, status: 200},
		{name: "call within the account's limit", method: "POST", path: "/integrated-account/{acct}/tools/list_all_zohobigin_roles", body: `{}`, status: 200},
		{name: "call over the account's limit", method: "POST", path: "/integrated-account/{acct}/tools/list_all_zohobigin_roles", body: `{}`, status: 429},
		{name: "proxy over the account's limit", method: "GET", path: "/proxy/me" + q, status: 429},
		{name: "account rate limit removed", method: "PATCH", path: "/admin/integrated-accounts/{acct}", body: `{"rate_limit":null}`, status: 200},

		// Last: the account goes.
		{name: "delete account", method: "DELETE", path: "/admin/integrated-accounts/{acct}", status: 204},
	}
	t.Run("the validator bites", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, s.URL+expand("/proxy/me"+q), nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+s.Admin)
		for name, res := range map[string]*http.Response{
			"wrong body":            {StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{"result":5}`))},
			"undocumented status":   {StatusCode: 418, Body: io.NopCloser(strings.NewReader(`{"error":{"code":"x","message":"y"}}`))},
			"error without message": {StatusCode: 404, Body: io.NopCloser(strings.NewReader(`{"error":{"code":"not_found"}}`))},
		} {
			res.Header = http.Header{"Content-Type": {"application/json"}}
			ok, _ := v.ValidateHttpResponse(req, res)
			assert.False(t, ok, name)
		}
	})
	for _, x := range exchanges {
		t.Run(x.name, func(t *testing.T) {
			if x.before != nil {
				x.before()
			}
			build := func() *http.Request {
				var body io.Reader
				if x.body != "" {
					body = strings.NewReader(expand(x.body))
				}
				req, err := http.NewRequest(x.method, s.URL+expand(x.path), body)
				require.NoError(t, err)
				switch x.token {
				case "":
					req.Header.Set("Authorization", "Bearer "+s.Admin)
				case "-":
				default:
					req.Header.Set("Authorization", "Bearer "+tokens[x.token])
				}
				if x.body != "" {
					ct := x.contentType
					if ct == "" {
						ct = "application/json"
					}
					req.Header.Set("Content-Type", ct)
				}
				return req
			}
			res, err := http.DefaultClient.Do(build())
			require.NoError(t, err)
			raw, err := io.ReadAll(res.Body)
			res.Body.Close()
			require.NoError(t, err)
			require.Equal(t, x.status, res.StatusCode, "%s", raw)
			if x.jsonl {
				require.Equal(t, "application/jsonl; charset=utf-8", res.Header.Get("Content-Type"))
				lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
				require.NotEmpty(t, lines)
				raw = append(append([]byte(`{"result":[`), bytes.Join(lines, []byte(","))...), `],"next_cursor":null}`...)
				res.Header.Set("Content-Type", "application/json")
			}
			res.Body = io.NopCloser(bytes.NewReader(raw))

			req := build()
			if x.badRequest {
				ok, verrs := v.ValidateHttpResponse(req, res)
				assert.True(t, ok, "answer %s: %s", raw, describe(verrs))
				return
			}
			ok, verrs := v.ValidateHttpRequestResponse(req, res)
			assert.True(t, ok, "answer %s: %s", clipBody(raw), describe(verrs))
		})
	}
}

func describe(errs any) string {
	b, _ := json.MarshalIndent(errs, "", " ")
	return clipBody(b)
}

func clipBody(b []byte) string {
	if len(b) > 4000 {
		return string(b[:4000]) + "…"
	}
	return string(b)
}
