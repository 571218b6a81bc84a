package httpx_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// An unavailable answer tells the client when to ask again; no other
// error does on its own.
func TestUnavailableCarriesRetryAfter(t *testing.T) {
	rec := httptest.NewRecorder()
	httpx.WriteError(rec, tokens.CodeUnavailable, "try again shortly")
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))

	rec = httptest.NewRecorder()
	rec.Header().Set("Retry-After", "7")
	httpx.WriteError(rec, tokens.CodeUnavailable, "try again shortly")
	assert.Equal(t, "7", rec.Header().Get("Retry-After"), "the caller's own value stays")

	rec = httptest.NewRecorder()
	httpx.WriteError(rec, tokens.CodeInternal, "boom")
	assert.Empty(t, rec.Header().Get("Retry-After"))
}

// An error that Is tokens.ErrUnavailable, however wrapped, is classified
// unavailable.
func TestClassifyUnavailable(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("look up: %w", errors.Join(tokens.ErrUnavailable, errors.New("deadline"))),
		fmt.Errorf("look up: %w", &tokens.Error{Code: tokens.CodeUnavailable, Message: "m", Err: tokens.ErrUnavailable}),
	} {
		code, _, known := httpx.Classify(context.Background(), err)
		assert.True(t, known)
		assert.Equal(t, tokens.CodeUnavailable, code)
	}
}
