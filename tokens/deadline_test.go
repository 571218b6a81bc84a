package tokens_test

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// hangingStore answers APITokenByHash as a store that is not there: not
// before the call's context ends, with that context's error (as the etcd
// client does when no member answers). Its other methods are not called.
type hangingStore struct{ tokens.Store }

func (hangingStore) APITokenByHash(ctx context.Context, _ [32]byte) (*tokens.APIToken, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// answeringStore answers CountAPITokens at once.
type answeringStore struct{ tokens.Store }

func (answeringStore) CountAPITokens(context.Context) (int, error) { return 3, nil }

func TestBoundStoreCallsEndAtTheirDeadline(t *testing.T) {
	const d = 20 * time.Millisecond
	t.Run("a call past the deadline is unavailable", func(t *testing.T) {
		ctx := tokens.WithStoreDeadline(context.Background(), d)
		_, err := tokens.BoundStore(hangingStore{}).APITokenByHash(ctx, [32]byte{})
		require.Error(t, err)
		assert.ErrorIs(t, err, tokens.ErrUnavailable)
		assert.ErrorIs(t, err, context.DeadlineExceeded, "the cause is kept")
		var te *tokens.Error
		require.ErrorAs(t, err, &te)
		assert.Equal(t, tokens.CodeUnavailable, te.Code)
	})
	t.Run("the caller's own end is its own error", func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		ctx := tokens.WithStoreDeadline(parent, time.Hour)
		cancel()
		_, err := tokens.BoundStore(hangingStore{}).APITokenByHash(ctx, [32]byte{})
		assert.ErrorIs(t, err, context.Canceled)
		assert.False(t, errors.Is(err, tokens.ErrUnavailable))
	})
	t.Run("a call without a deadline runs as it is", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		_, err := tokens.BoundStore(hangingStore{}).APITokenByHash(ctx, [32]byte{})
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.False(t, errors.Is(err, tokens.ErrUnavailable), "the caller's deadline, not the store's")
	})
	t.Run("a call in time answers", func(t *testing.T) {
		n, err := tokens.BoundStore(answeringStore{}).CountAPITokens(tokens.WithStoreDeadline(context.Background(), d))
		require.NoError(t, err)
		assert.Equal(t, 3, n)
	})
}

// The bound store declares every method of Store (but Ping and Close,
// which take no context): a method it only inherited from the Store it
// wraps would run without a deadline.
func TestBoundStoreDeclaresEveryStoreMethod(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "deadline.go", nil, 0)
	require.NoError(t, err)
	declared := map[string]bool{}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || len(fn.Recv.List) != 1 {
			continue
		}
		if id, ok := fn.Recv.List[0].Type.(*ast.Ident); ok && id.Name == "boundStore" {
			declared[fn.Name.Name] = true
		}
	}
	store := reflect.TypeFor[tokens.Store]()
	for i := range store.NumMethod() {
		name := store.Method(i).Name
		if name == "Ping" || name == "Close" {
			continue
		}
		assert.True(t, declared[name], "boundStore does not declare %s", name)
	}
}
