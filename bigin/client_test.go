package bigin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin"
	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
	"github.com/bigin-mcp/bigin-mcp/internal/clock/clocktest"
)

// TestOperationsEveryDatacenter runs each operation against a sandbox per
// datacenter key of the built-in table, the table overridden to point each
// key at its sandbox, and checks the request Zoho got and the parsed result.
func TestOperationsEveryDatacenter(t *testing.T) {
	t.Parallel()
	keys := bigin.DefaultDatacenters().Keys()
	require.Len(t, keys, 9)
	sbs := map[string]*sandbox.Sandbox{}
	urls := map[string]string{}
	for _, k := range keys {
		sb := sandbox.New(sandbox.Options{Location: k, Users: 40})
		ts := httptest.NewServer(sb)
		t.Cleanup(ts.Close)
		sb.SetBaseURL(ts.URL)
		sbs[k], urls[k] = sb, ts.URL
	}
	dcs := tableFor(t, urls)

	for _, k := range keys {
		t.Run(k, func(t *testing.T) {
			f := &fixture{key: k, sb: sbs[k], dcs: dcs}
			others := func() int {
				n := 0
				for o, sb := range sbs {
					if o != k {
						n += sb.RequestCount()
					}
				}
				return n
			}
			before := others()
			var log tokenLog
			c := f.client(t, &log)
			assert.Equal(t, urls[k], c.APIDomain())
			victim := f.sb.UserIDs("ActiveConfirmedUsers")[3]
			require.NotEqual(t, f.sb.PrimaryUserID(), victim)

			tests := []struct {
				name   string
				call   func() (any, error)
				method string
				path   string
				query  url.Values
				check  func(t *testing.T, got any)
			}{
				{"list users", func() (any, error) {
					return c.ListUsers(t.Context(), bigin.ListUsersParams{Type: "ActiveUsers", Page: 1, PerPage: 5})
				}, "GET", "/bigin/v2/users", url.Values{"type": {"ActiveUsers"}, "page": {"1"}, "per_page": {"5"}},
					func(t *testing.T, got any) {
						pg := got.(bigin.Page)
						assert.Equal(t, f.sb.UserIDs("ActiveUsers")[:5], ids(t, pg.Records))
						assert.Equal(t, bigin.PageInfo{Page: 1, PerPage: 5, Count: 5, MoreRecords: true}, pg.Info)
					}},
				{"get user", func() (any, error) { return c.GetUser(t.Context(), victim) },
					"GET", "/bigin/v2/users/" + victim, url.Values{},
					func(t *testing.T, got any) {
						want, _ := f.sb.User(victim)
						wantJSON, err := json.Marshal(want)
						require.NoError(t, err)
						assert.JSONEq(t, string(wantJSON), string(got.(json.RawMessage)))
					}},
				{"current user", func() (any, error) { return c.CurrentUser(t.Context()) },
					"GET", "/bigin/v2/users", url.Values{"type": {"CurrentUser"}},
					func(t *testing.T, got any) { assert.Equal(t, f.sb.PrimaryUserID(), idOf(t, got.(json.RawMessage))) }},
				{"org", func() (any, error) { return c.Org(t.Context()) },
					"GET", "/bigin/v2/org", url.Values{},
					func(t *testing.T, got any) {
						assert.JSONEq(t, string(f.sb.OrgJSON()), string(got.(json.RawMessage)), "the record's bytes are Zoho's")
					}},
				{"roles", func() (any, error) { return c.Roles(t.Context()) },
					"GET", "/bigin/v2/settings/roles", url.Values{},
					func(t *testing.T, got any) {
						var want []string
						for _, r := range f.sb.Roles() {
							want = append(want, r.ID)
						}
						assert.Equal(t, want, ids(t, got.([]json.RawMessage)))
					}},
				{"profiles", func() (any, error) { return c.Profiles(t.Context()) },
					"GET", "/bigin/v2/settings/profiles", url.Values{},
					func(t *testing.T, got any) {
						var want []string
						for _, p := range f.sb.Profiles() {
							want = append(want, p.ID)
						}
						assert.Equal(t, want, ids(t, got.([]json.RawMessage)))
					}},
				{"delete user", func() (any, error) { return nil, c.DeleteUser(t.Context(), victim) },
					"DELETE", "/bigin/v2/users/" + victim, url.Values{},
					func(t *testing.T, _ any) {
						u, _ := f.sb.User(victim)
						assert.Equal(t, "deleted", u.Status)
					}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got, err := tt.call()
					require.NoError(t, err)
					req := f.lastRequest(t)
					tok := log.last()
					require.NotEmpty(t, tok.AccessToken)
					assert.Equal(t, tt.method, req.Method)
					assert.Equal(t, tt.path, req.Path)
					assert.Equal(t, tt.query, req.Query)
					assert.Equal(t, "Zoho-oauthtoken "+tok.AccessToken, req.Authorization)
					assert.Equal(t, http.StatusOK, req.Status)
					tt.check(t, got)
				})
			}
			assert.Equal(t, 1, f.sb.RefreshCount(), "one refresh served every call")
			assert.Len(t, log.all(), 1)
			assert.Equal(t, urls[k], log.last().APIDomain)
			assert.Equal(t, before, others(), "no other datacenter was called")
		})
	}
}

// TestPagingEveryUserOnce pages through the 260-user org with an odd page
// size and with AllUsers, for every user type.
func TestPagingEveryUserOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{})
	c := f.client(t, nil)
	all := f.sb.UserIDs("AllUsers")
	require.GreaterOrEqual(t, len(all), 250)

	var got []string
	for page := 1; ; page++ {
		pg, err := c.ListUsers(t.Context(), bigin.ListUsersParams{Page: page, PerPage: 37})
		require.NoError(t, err)
		got = append(got, ids(t, pg.Records)...)
		assert.Equal(t, len(pg.Records), pg.Info.Count)
		if !pg.Info.MoreRecords {
			break
		}
	}
	assert.Equal(t, all, got, "every user once, in order")

	pg, err := c.ListUsers(t.Context(), bigin.ListUsersParams{Page: 99, PerPage: 37})
	require.NoError(t, err, "past the end is Zoho's 204, an empty page")
	assert.Empty(t, pg.Records)
	assert.NotNil(t, pg.Records)
	assert.False(t, pg.Info.MoreRecords)

	for _, typ := range bigin.UserTypes() {
		t.Run(typ, func(t *testing.T) {
			recs, err := c.AllUsers(t.Context(), typ)
			require.NoError(t, err)
			got := ids(t, recs)
			assert.Equal(t, f.sb.UserIDs(typ), got)
			assert.NotEmpty(t, got, "the seeded org has users of every type")
		})
	}
}

// TestSingleFlightRefresh: 100 concurrent calls needing a token cause one
// refresh, with no token, with an expired seeded token, and when all of
// them hit 401 INVALID_TOKEN on the same stale token.
func TestSingleFlightRefresh(t *testing.T) {
	t.Parallel()
	run100 := func(t *testing.T, c *bigin.Client) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for range 100 {
			wg.Go(func() {
				_, err := c.Org(t.Context())
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	}

	t.Run("no token yet", func(t *testing.T) {
		f := newFixture(t, sandbox.Options{Users: 20})
		var log tokenLog
		run100(t, f.client(t, &log))
		assert.Equal(t, 1, f.sb.RefreshCount())
		assert.Len(t, log.all(), 1, "OnToken once")
		assert.Equal(t, 100, f.sb.APIRequestCount())
	})
	t.Run("expired seeded token", func(t *testing.T) {
		f := newFixture(t, sandbox.Options{Users: 20})
		run100(t, f.client(t, nil, func(o *bigin.Options) {
			o.Token = &bigin.Token{AccessToken: "1000.stale.token", Expiry: time.Now().Add(-time.Minute), APIDomain: f.ts.URL}
		}))
		assert.Equal(t, 1, f.sb.RefreshCount())
		for _, r := range f.sb.APIRequests() {
			assert.NotEqual(t, "1000.stale.token", r.Token, "an expired token is not sent")
		}
	})
	t.Run("token near expiry is replaced early", func(t *testing.T) {
		f := newFixture(t, sandbox.Options{Users: 20})
		seed := bigin.Token{AccessToken: "1000.old", Expiry: time.Now().Add(50 * time.Second), APIDomain: f.ts.URL}
		run100(t, f.client(t, nil, func(o *bigin.Options) { o.Token = &seed }))
		assert.Equal(t, 1, f.sb.RefreshCount(), "refreshed about a minute before expiry")
	})
	t.Run("100 callers hit 401 on one stale token", func(t *testing.T) {
		f := newFixture(t, sandbox.Options{Users: 20})
		var log tokenLog
		c := f.client(t, &log)
		_, err := c.Org(t.Context())
		require.NoError(t, err)
		f.sb.ExpireAccessTokens()
		f.sb.ResetCounts()
		run100(t, c)
		assert.Equal(t, 1, f.sb.RefreshCount(), "one refresh for 100 INVALID_TOKEN answers")
		assert.Len(t, log.all(), 2)
		rejected := 0
		for _, r := range f.sb.APIRequests() {
			if r.Status == http.StatusUnauthorized {
				rejected++
			}
		}
		// Callers that start after the refresh use the new token at once.
		assert.Positive(t, rejected)
		assert.Equal(t, 100+rejected, f.sb.APIRequestCount(), "each rejected call retried once")
	})
}

// TestInvalidTokenRefreshesAndRetriesOnce covers the 401 rule.
func TestInvalidTokenRefreshesAndRetriesOnce(t *testing.T) {
	t.Parallel()
	for _, fault := range []sandbox.Fault{sandbox.InvalidToken, sandbox.AuthenticationFailure} {
		t.Run(fmt.Sprint(fault), func(t *testing.T) {
			f := newFixture(t, sandbox.Options{Users: 20})
			var log tokenLog
			c := f.client(t, &log)
			_, err := c.Roles(t.Context())
			require.NoError(t, err)
			first := log.last()

			f.sb.FailNext(1, fault)
			roles, err := c.Roles(t.Context())
			require.NoError(t, err)
			assert.Len(t, roles, len(f.sb.Roles()))
			assert.Equal(t, 2, f.sb.RefreshCount())
			reqs := f.sb.APIRequests()
			require.Len(t, reqs, 3)
			assert.Equal(t, first.AccessToken, reqs[1].Token)
			assert.Equal(t, http.StatusUnauthorized, reqs[1].Status)
			assert.Equal(t, log.last().AccessToken, reqs[2].Token, "the retry carries the new token")
			assert.NotEqual(t, first.AccessToken, reqs[2].Token)
		})
	}

	t.Run("a second 401 is returned, not retried again", func(t *testing.T) {
		f := newFixture(t, sandbox.Options{Users: 20})
		c := f.client(t, nil)
		f.sb.FailNext(2, sandbox.InvalidToken)
		_, err := c.Org(t.Context())
		var ae *bigin.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, http.StatusUnauthorized, ae.Status)
		assert.Equal(t, "INVALID_TOKEN", ae.Code)
		assert.Equal(t, 2, f.sb.RefreshCount())
		assert.Equal(t, 2, f.sb.APIRequestCount())
	})

	t.Run("expired on Zoho's side", func(t *testing.T) {
		f := newFixture(t, sandbox.Options{Users: 20})
		c := f.client(t, nil)
		_, err := c.Org(t.Context())
		require.NoError(t, err)
		f.sb.ExpireAccessTokens()
		_, err = c.Org(t.Context())
		require.NoError(t, err)
		assert.Equal(t, 2, f.sb.RefreshCount())
	})

	t.Run("other 401s are not retried", func(t *testing.T) {
		f := newFixture(t, sandbox.Options{Users: 20})
		c := f.client(t, nil, func(o *bigin.Options) {
			o.Credentials.RefreshToken = f.sb.IssueRefreshToken("ZohoBigin.org.READ")
		})
		_, err := c.Roles(t.Context())
		var ae *bigin.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "OAUTH_SCOPE_MISMATCH", ae.Code)
		assert.Equal(t, 1, f.sb.APIRequestCount())
		assert.Equal(t, 1, f.sb.RefreshCount())
	})
}

// TestRetries: 429 surfaces and is never retried; GETs are retried at most
// twice on 5xx and network errors; DELETE never.
func TestRetries(t *testing.T) {
	t.Parallel()
	t.Run("429 is not retried and keeps the rate limit", func(t *testing.T) {
		f := newFixture(t, sandbox.Options{Users: 20})
		c := f.client(t, nil)
		f.sb.FailNext(1, sandbox.RateLimited)
		start := time.Now()
		_, err := c.ListUsers(t.Context(), bigin.ListUsersParams{})
		var ae *bigin.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, http.StatusTooManyRequests, ae.Status)
		assert.Equal(t, "TOO_MANY_REQUESTS", ae.Code)
		assert.True(t, ae.RateLimited())
		require.NotNil(t, ae.RateLimit)
		assert.Equal(t, sandbox.FaultRateLimit, ae.RateLimit.Limit)
		assert.Equal(t, 0, ae.RateLimit.Remaining)
		assert.WithinDuration(t, start.Add(sandbox.FaultRetryAfter), ae.RateLimit.Reset, 2*time.Second)
		assert.Equal(t, sandbox.FaultRetryAfter, ae.RetryAfter)
		assert.Equal(t, 1, f.sb.APIRequestCount(), "Zoho got one request")
		assert.Contains(t, err.Error(), "429")
	})
	t.Run("GET 5xx then success", func(t *testing.T) {
		f := newFixture(t, sandbox.Options{Users: 20})
		c := f.client(t, nil)
		f.sb.FailNext(1, sandbox.InternalError)
		f.sb.FailNext(1, sandbox.BadGateway)
		org, err := c.Org(t.Context())
		require.NoError(t, err)
		assert.Equal(t, f.sb.OrgID(), idOf(t, org))
		assert.Equal(t, 3, f.sb.APIRequestCount())
	})
	t.Run("GET 5xx three times gives up", func(t *testing.T) {
		f := newFixture(t, sandbox.Options{Users: 20})
		c := f.client(t, nil)
		f.sb.FailNext(3, sandbox.InternalError)
		_, err := c.Profiles(t.Context())
		var ae *bigin.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, http.StatusInternalServerError, ae.Status)
		assert.Equal(t, "INTERNAL_ERROR", ae.Code)
		assert.Equal(t, 3, f.sb.APIRequestCount(), "one try and two retries")
	})
	t.Run("DELETE 5xx is not retried", func(t *testing.T) {
		f := newFixture(t, sandbox.Options{Users: 20})
		c := f.client(t, nil)
		id := f.sb.UserIDs("ActiveConfirmedUsers")[2]
		f.sb.FailNext(1, sandbox.InternalError)
		err := c.DeleteUser(t.Context(), id)
		var ae *bigin.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, http.StatusInternalServerError, ae.Status)
		assert.Equal(t, 1, f.sb.APIRequestCount(), "exactly one DELETE")
		u, _ := f.sb.User(id)
		assert.Equal(t, "active", u.Status)
	})
	t.Run("GET network errors are retried", func(t *testing.T) {
		f := newFixture(t, sandbox.Options{Users: 20})
		var mu sync.Mutex
		drops := 2
		flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			drop := drops > 0 && r.URL.Path == "/bigin/v2/org"
			if drop {
				drops--
			}
			mu.Unlock()
			if drop {
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					conn.Close()
				}
				return
			}
			f.sb.ServeHTTP(w, r)
		}))
		t.Cleanup(flaky.Close)
		f.sb.SetBaseURL(flaky.URL)
		dcs := tableFor(t, map[string]string{"us": flaky.URL})
		c := f.client(t, nil, func(o *bigin.Options) { o.Datacenters = dcs })
		_, err := c.Org(t.Context())
		require.NoError(t, err)
		assert.Equal(t, 1, f.sb.APIRequestCount(), "two dropped connections, then one answer")
	})
}

// TestZohoAnswers: errors in 200 bodies, garbage, 204, wrapped errors and
// refusals all give typed errors, never a panic.
func TestZohoAnswers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{Users: 30})
	c := f.client(t, nil)
	admin := f.sb.PrimaryUserID()
	victim := f.sb.UserIDs("ActiveConfirmedUsers")[4]
	require.NoError(t, c.DeleteUser(t.Context(), victim))
	var nonAdmin string
	for _, u := range f.sb.Users() {
		if u.Status == "active" && u.Confirm && !u.Admin() {
			nonAdmin = u.ID
			break
		}
	}
	rt, err := f.sb.IssueRefreshTokenFor(nonAdmin)
	require.NoError(t, err)
	plain := f.client(t, nil, func(o *bigin.Options) { o.Credentials.RefreshToken = rt })

	apiErr := func(status int, code string) func(t *testing.T, err error) {
		return func(t *testing.T, err error) {
			t.Helper()
			var ae *bigin.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, status, ae.Status)
			assert.Equal(t, code, ae.Code)
		}
	}
	tests := []struct {
		name     string
		fault    sandbox.Fault
		call     func() (any, error)
		check    func(t *testing.T, err error)
		requests int
	}{
		{"error in a 200 body", sandbox.ErrorIn200, func() (any, error) { return c.ListUsers(t.Context(), bigin.ListUsersParams{}) },
			func(t *testing.T, err error) {
				apiErr(200, "INVALID_DATA")(t, err)
				var ae *bigin.APIError
				errors.As(err, &ae)
				assert.Equal(t, "the id given seems to be invalid", ae.Message)
				assert.JSONEq(t, `{"resource_path_index":1}`, string(ae.Details))
			}, 1},
		{"garbage body", sandbox.Garbage, func() (any, error) { return c.Org(t.Context()) },
			func(t *testing.T, err error) {
				apiErr(200, bigin.CodeInvalidResponse)(t, err)
				assert.NotContains(t, err.Error(), "<html>", "no body in the error")
			}, 1},
		{"204 list users", sandbox.NoContent, func() (any, error) {
			pg, err := c.ListUsers(t.Context(), bigin.ListUsersParams{Type: "AdminUsers"})
			if err == nil && (len(pg.Records) != 0 || pg.Records == nil) {
				return nil, fmt.Errorf("want an empty page, got %d", len(pg.Records))
			}
			return pg, err
		}, func(t *testing.T, err error) { require.NoError(t, err) }, 1},
		{"204 roles", sandbox.NoContent, func() (any, error) {
			r, err := c.Roles(t.Context())
			if err == nil && len(r) != 0 {
				return nil, errors.New("want no roles")
			}
			return r, err
		}, func(t *testing.T, err error) { require.NoError(t, err) }, 1},
		{"204 org", sandbox.NoContent, func() (any, error) { return c.Org(t.Context()) }, apiErr(204, bigin.CodeInvalidResponse), 1},
		{"204 get user", sandbox.NoContent, func() (any, error) { return c.GetUser(t.Context(), victim) }, apiErr(204, "INVALID_DATA"), 1},
		{"unknown user id", 0, func() (any, error) { return c.GetUser(t.Context(), "123456789012345678") },
			func(t *testing.T, err error) {
				apiErr(400, "INVALID_DATA")(t, err)
				var ae *bigin.APIError
				errors.As(err, &ae)
				assert.JSONEq(t, `{"resource_path_index":1}`, string(ae.Details))
			}, 1},
		{"deleted user is still there", 0, func() (any, error) {
			rec, err := c.GetUser(t.Context(), victim)
			if err == nil && !json.Valid(rec) {
				return nil, errors.New("bad record")
			}
			return rec, err
		}, func(t *testing.T, err error) { require.NoError(t, err) }, 1},
		{"delete primary user", 0, func() (any, error) { return nil, c.DeleteUser(t.Context(), admin) }, apiErr(400, "INVALID_REQUEST"), 1},
		{"delete twice", 0, func() (any, error) { return nil, c.DeleteUser(t.Context(), victim) },
			func(t *testing.T, err error) {
				apiErr(400, "ID_ALREADY_DELETED")(t, err)
				var ae *bigin.APIError
				errors.As(err, &ae)
				assert.Equal(t, "User is already deleted", ae.Message)
			}, 1},
		{"delete without admin rights", 0, func() (any, error) { return nil, plain.DeleteUser(t.Context(), victim) }, apiErr(403, "NO_PERMISSION"), 1},
		{"delete 5xx", sandbox.InternalError, func() (any, error) { return nil, c.DeleteUser(t.Context(), victim) }, apiErr(500, "INTERNAL_ERROR"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _ = plain.Org(t.Context()) // warm the other client's token
			f.sb.ResetCounts()
			if tt.fault != 0 {
				f.sb.FailNext(1, tt.fault)
			}
			var err error
			require.NotPanics(t, func() { _, err = tt.call() })
			tt.check(t, err)
			assert.Equal(t, tt.requests, f.sb.APIRequestCount())
			assert.Zero(t, f.sb.PendingFaults())
		})
	}
}

// TestBadArguments are refused before any call.
func TestBadArguments(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{Users: 20})
	c := f.client(t, nil)
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"letters", func() error { _, err := c.GetUser(t.Context(), "abc"); return err }, `a user id is 1 to 30 digits, got "abc"`},
		{"empty", func() error { _, err := c.GetUser(t.Context(), ""); return err }, `got ""`},
		{"path", func() error { return c.DeleteUser(t.Context(), "../org") }, `got "../org"`},
		{"signed", func() error { _, err := c.GetUser(t.Context(), "-1"); return err }, `got "-1"`},
		{"too long", func() error { _, err := c.GetUser(t.Context(), "1234567890123456789012345678901"); return err }, "1 to 30 digits"},
		{"user type", func() error {
			_, err := c.ListUsers(t.Context(), bigin.ListUsersParams{Type: "Everyone"})
			return err
		}, `user type "Everyone"; valid types: AllUsers, ActiveUsers`},
		{"per page", func() error {
			_, err := c.ListUsers(t.Context(), bigin.ListUsersParams{PerPage: 201})
			return err
		}, "per_page must be 1 to 200, got 201"},
		{"page", func() error {
			_, err := c.ListUsers(t.Context(), bigin.ListUsersParams{Page: -1})
			return err
		}, "page must be 1 or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.ErrorIs(t, err, bigin.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	assert.Zero(t, f.sb.RequestCount(), "nothing reached Zoho, not even a refresh")
}

// TestTimeouts: every call is bounded by Options.Timeout and the caller's
// context.
func TestTimeouts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{Users: 20})
	c := f.client(t, nil, func(o *bigin.Options) { o.Timeout = 300 * time.Millisecond })
	_, err := c.Org(t.Context())
	require.NoError(t, err)
	f.sb.SetLatency(5 * time.Second)

	start := time.Now()
	_, err = c.Org(t.Context())
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)

	c2 := f.client(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = c2.Roles(ctx)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled), "%v", err)
	assert.Less(t, time.Since(start), 2*time.Second)
}

// TestSeededTokenSavesARefresh: a token from the store is used as is.
func TestSeededTokenSavesARefresh(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{Users: 20})
	var log tokenLog
	first := f.client(t, &log)
	tok, err := first.Refresh(t.Context())
	require.NoError(t, err)
	assert.Equal(t, log.last(), tok)
	assert.Equal(t, f.ts.URL, tok.APIDomain)
	assert.WithinDuration(t, time.Now().Add(time.Hour), tok.Expiry, 5*time.Second)

	restarted := f.client(t, nil, func(o *bigin.Options) { o.Token = &tok; o.APIDomain = tok.APIDomain })
	_, err = restarted.Org(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, f.sb.RefreshCount(), "the restarted client spent no refresh")
	assert.Equal(t, tok.AccessToken, f.lastRequest(t).Token)
}

// TestClock: the client's clock decides expiry.
func TestClock(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sandbox.Options{Users: 20})
	clock := clocktest.New(time.Now())
	c := f.client(t, nil, func(o *bigin.Options) { o.Now = clock.Now })
	_, err := c.Org(t.Context())
	require.NoError(t, err)
	clock.Advance(58 * time.Minute)
	_, err = c.Org(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, f.sb.RefreshCount(), "still valid 2 minutes before expiry")
	clock.Advance(90 * time.Second)
	_, err = c.Org(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 2, f.sb.RefreshCount(), "refreshed within the last minute")
}

// TestRedirectsAreNotFollowed: a token is only ever sent to the configured
// host, even if it answers with a redirect.
func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	var elsewhere counter
	other := httptest.NewServer(&elsewhere)
	t.Cleanup(other.Close)
	f := newFixture(t, sandbox.Options{Users: 20})
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bigin/v2/org" {
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
			return
		}
		f.sb.ServeHTTP(w, r)
	}))
	t.Cleanup(redirecting.Close)
	f.sb.SetBaseURL(redirecting.URL)
	c := f.client(t, nil, func(o *bigin.Options) { o.Datacenters = tableFor(t, map[string]string{"us": redirecting.URL}) })
	_, err := c.Org(t.Context())
	var ae *bigin.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusFound, ae.Status)
	assert.Equal(t, bigin.CodeInvalidResponse, ae.Code)
	assert.Zero(t, elsewhere.n.Load())
}

func TestUserTypesAndScopes(t *testing.T) {
	t.Parallel()
	types := bigin.UserTypes()
	assert.Equal(t, "AllUsers", types[0])
	assert.Len(t, types, 10)
	assert.True(t, slices.Contains(types, "CurrentUser"))
	directory := []string{"ZohoBigin.users.ALL", "ZohoBigin.org.READ", "ZohoBigin.settings.roles.READ", "ZohoBigin.settings.profiles.READ"}
	records := []string{"ZohoBigin.modules.ALL", "ZohoBigin.modules.notes.ALL", "ZohoBigin.coql.READ", "ZohoSearch.securesearch.READ", "ZohoBigin.settings.ALL"}
	assert.Equal(t, directory, bigin.DirectoryScopes())
	assert.Equal(t, records, bigin.RecordScopes())
	assert.Equal(t, append(directory, records...), bigin.Scopes(), "connect links ask for both")
	assert.Equal(t, bigin.Scopes(), sandbox.Scopes(), "the sandbox's default grant is what the client needs")
	assert.Equal(t, bigin.DirectoryScopes(), sandbox.DirectoryScopes())
	assert.Equal(t, "v2", bigin.APIVersion)
}

// Zoho may frame an answer with Content-Length or chunked; the client reads
// both alike, and refuses an answer cut short of its declared length.
func TestAnswerFraming(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{Location: "us", Users: 60})
	framing := "length"
	var mu sync.Mutex
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		sb.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		body := rec.Body.Bytes()
		mu.Lock()
		mode := framing
		mu.Unlock()
		if !strings.HasPrefix(r.URL.Path, "/bigin/") {
			mode = "length"
		}
		switch mode {
		case "length":
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(rec.Code)
			w.Write(body)
		case "chunked":
			w.WriteHeader(rec.Code)
			half := len(body) / 2
			w.Write(body[:half])
			w.(http.Flusher).Flush() // no length known: chunked
			w.Write(body[half:])
		case "short":
			w.Header().Set("Content-Length", strconv.Itoa(len(body)+100))
			w.WriteHeader(rec.Code)
			w.Write(body)
		}
	}))
	t.Cleanup(ts.Close)
	sb.SetBaseURL(ts.URL)
	c, err := bigin.NewClient(bigin.Options{Datacenters: tableFor(t, map[string]string{"us": ts.URL}), Datacenter: "us",
		Credentials: bigin.Credentials{ClientID: sb.ClientID(), ClientSecret: sb.ClientSecret(), RefreshToken: sb.IssueRefreshToken()},
		Timeout:     10 * time.Second})
	require.NoError(t, err)
	list := func(mode string) (bigin.Page, error) {
		mu.Lock()
		framing = mode
		mu.Unlock()
		return c.ListUsers(t.Context(), bigin.ListUsersParams{PerPage: 50})
	}
	byLength, err := list("length")
	require.NoError(t, err)
	require.Len(t, byLength.Records, 50)
	chunked, err := list("chunked")
	require.NoError(t, err)
	require.Equal(t, len(byLength.Records), len(chunked.Records))
	for i := range byLength.Records {
		assert.Equal(t, string(byLength.Records[i]), string(chunked.Records[i]))
	}
	_, err = list("short")
	assert.Error(t, err, "an answer shorter than its Content-Length")
}
