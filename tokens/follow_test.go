package tokens_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// TestIndexFollowsChanges drives the index as a change feed does (Apply
// and Reset with records another replica wrote): changes that do not
// touch what a resolution holds keep it, others re-issue or drop it.
func TestIndexFollowsChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newTestEnv(t)
	svc := e.Svc
	acct := e.SeedAccount("acme")
	m, url, err := svc.CreateMCPServer(ctx, acct.ID, tokens.NewMCPServer{Name: "one"})
	require.NoError(t, err)
	tok := url[len("https://mcp.example.com/mcp/"):]
	stored := func() (*tokens.Account, *tokens.MCPServer) {
		a, err := e.Store.Account(ctx, acct.ID)
		require.NoError(t, err)
		s, err := e.Store.MCPServer(ctx, m.ID)
		require.NoError(t, err)
		return a, s
	}

	tests := []struct {
		name   string
		change func() tokens.Change
		same   bool // the resolution is kept
		credsV bool // the credentials version changed
	}{
		{"access token refreshed", func() tokens.Change {
			a, _ := stored()
			a.AccessToken = "at-new"
			return tokens.Change{Account: a}
		}, true, false},
		{"server unchanged", func() tokens.Change { _, s := stored(); return tokens.Change{Server: s} }, true, false},
		{"account renamed", func() tokens.Change { a, _ := stored(); a.Name = "renamed"; return tokens.Change{Account: a} }, false, false},
		{"refresh token replaced", func() tokens.Change {
			a, _ := stored()
			a.RefreshToken = "rt-new"
			return tokens.Change{Account: a}
		}, false, true},
		{"server renamed", func() tokens.Change { _, s := stored(); s.Name = "two"; return tokens.Change{Server: s} }, false, false},
		{"auth changed to oauth", func() tokens.Change {
			_, s := stored()
			s.Config.Auth, s.Config.AuthEpoch = tokens.AuthOAuth, 1
			return tokens.Change{Server: s}
		}, false, false},
		{"oauth profiles changed", func() tokens.Change {
			_, s := stored()
			s.Config.OAuthProfiles = []string{"Administrator"}
			return tokens.Change{Server: s}
		}, false, false},
		{"auth epoch moved", func() tokens.Change { _, s := stored(); s.Config.AuthEpoch = 7; return tokens.Change{Server: s} }, false, false},
		{"result budget changed", func() tokens.Change {
			_, s := stored()
			s.Config.MaxResultChars = 5000
			return tokens.Change{Server: s}
		}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, s := stored()
			svc.Apply([]tokens.Change{{Account: a}, {Server: s}}) // each case starts from what is stored
			before, err := svc.Resolve(ctx, tok)
			require.NoError(t, err)
			svc.Apply([]tokens.Change{tt.change()})
			after, err := svc.Resolve(ctx, tok)
			require.NoError(t, err)
			if c := tt.change(); c.Server != nil {
				assert.Equal(t, c.Server.Config, after.Server.Config, "the resolution holds the changed config")
			}
			if tt.same {
				assert.Same(t, before, after)
				assert.False(t, before.Stale())
			} else {
				assert.NotSame(t, before, after)
				assert.True(t, before.Stale(), "the old resolution's Done closes")
			}
			assert.Equal(t, tt.credsV, before.Account.CredentialsVersion != after.Account.CredentialsVersion)
		})
	}

	t.Run("server deleted", func(t *testing.T) {
		_, s := stored()
		svc.Apply([]tokens.Change{{DeletedServer: s}})
		_, err := svc.Resolve(ctx, tok)
		assert.ErrorIs(t, err, tokens.ErrNotFound)
	})
	t.Run("reset restores and drops", func(t *testing.T) {
		a, s := stored()
		svc.Reset([]*tokens.Account{a}, []*tokens.MCPServer{s})
		_, err := svc.Resolve(ctx, tok)
		require.NoError(t, err)
		svc.Reset(nil, nil)
		_, err = svc.Resolve(ctx, tok)
		assert.ErrorIs(t, err, tokens.ErrNotFound, "an account missing from the snapshot is dropped with its URLs")
	})
	t.Run("a store of its own is always available", func(t *testing.T) {
		assert.NoError(t, svc.Available())
		assert.True(t, svc.CurrentAsOf().IsZero())
	})
}

// TestSameConfigSeesEveryField: the index compares every field of a
// Config, so a field added later cannot be ignored by the replicas that
// follow another one's change.
func TestSameConfigSeesEveryField(t *testing.T) {
	t.Parallel()
	base := tokens.Config{}
	typ := reflect.TypeOf(base)
	for i := range typ.NumField() {
		f := typ.Field(i)
		t.Run(f.Name, func(t *testing.T) {
			changed := base
			v := reflect.ValueOf(&changed).Elem().Field(i)
			switch f.Type.Kind() {
			case reflect.String:
				v.SetString("x")
			case reflect.Bool:
				v.SetBool(true)
			case reflect.Int, reflect.Int64:
				v.SetInt(1)
			case reflect.Slice:
				v.Set(reflect.ValueOf([]string{"x"}))
			case reflect.Pointer:
				v.Set(reflect.New(f.Type.Elem()))
			default:
				t.Fatalf("field %s of kind %s: teach this test (and sameConfig) about it", f.Name, f.Type.Kind())
			}
			assert.True(t, tokens.SameConfig(base, base))
			assert.False(t, tokens.SameConfig(base, changed), "a change of %s is seen", f.Name)
		})
	}
}

// TestSameAccountInfoSeesEveryField: likewise for what the index keeps of
// an account.
func TestSameAccountInfoSeesEveryField(t *testing.T) {
	t.Parallel()
	base := tokens.AccountInfo{}
	typ := reflect.TypeOf(base)
	for i := range typ.NumField() {
		f := typ.Field(i)
		t.Run(f.Name, func(t *testing.T) {
			changed := base
			v := reflect.ValueOf(&changed).Elem().Field(i)
			switch f.Type.Kind() {
			case reflect.String:
				v.SetString("x")
			case reflect.Int, reflect.Int64:
				v.SetInt(1)
			case reflect.Pointer:
				v.Set(reflect.New(f.Type.Elem()))
			default:
				t.Fatalf("field %s of kind %s: teach this test (and sameAccountInfo) about it", f.Name, f.Type.Kind())
			}
			assert.True(t, tokens.SameAccountInfo(base, base))
			assert.False(t, tokens.SameAccountInfo(base, changed), "a change of %s is seen", f.Name)
		})
	}
}
