package httpx_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// generous bounds every wait on the server, for a slow, busy machine;
// none of them is a timing the tests assert.
const generous = 20 * time.Second

func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var m struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	require.NoError(t, json.Unmarshal(body, &m), "body: %s", body)
	require.NotEmpty(t, m.Error.Message, "body: %s", body)
	return m.Error.Code
}

// A body that trickles in is cut at the deadline with 408 in the error
// shape, whichever way the handler reads it, and its connection closes.
func TestBodyDeadlineCutsASlowBody(t *testing.T) {
	t.Parallel()
	handlers := []struct {
		name string
		read func(w http.ResponseWriter, r *http.Request) error
	}{
		{"read all", func(w http.ResponseWriter, r *http.Request) error {
			_, err := io.ReadAll(r.Body)
			return err
		}},
		{"decode JSON", func(w http.ResponseWriter, r *http.Request) error {
			var v map[string]any
			return httpx.DecodeBody(w, r, &v)
		}},
	}
	for _, h := range handlers {
		t.Run(h.name, func(t *testing.T) {
			srv := httptest.NewServer(httpx.BodyDeadline(300*time.Millisecond, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := h.read(w, r); err != nil {
					code, msg, _ := httpx.Classify(r.Context(), err)
					httpx.WriteError(w, code, msg)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})))
			t.Cleanup(srv.Close) // after the slow client closes

			slow := (&apptest.SlowBody{Method: "POST", Path: "/", Length: 200000, Every: 20 * time.Millisecond,
				Header: http.Header{"Content-Type": {"application/json"}}}).Start(t, srv.URL)
			res, body, err := slow.Response(generous)
			require.NoError(t, err, "the server answers a trickling body without waiting for it")
			assert.Equal(t, http.StatusRequestTimeout, res.StatusCode)
			assert.Equal(t, tokens.CodeRequestTimeout, errorCode(t, body))
			assert.True(t, res.Close, "the connection closes after the answer")
			assert.True(t, slow.ClosedByServer(generous))
		})
	}
}

// A refusal written before the body was read goes out at once, and the
// connection closes instead of net/http reading the rest of the body:
// the body is never waited for, even with a long deadline, whether the
// handler returns or flushes its answer and goes on.
func TestBodyDeadlineRefusalDoesNotReadTheBody(t *testing.T) {
	t.Parallel()
	release, done := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(httpx.BodyDeadline(time.Hour, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteError(w, tokens.CodeUnauthenticated, "send Authorization: Bearer <api token>")
		if r.URL.Path == "/flush" {
			assert.NoError(t, http.NewResponseController(w).Flush())
			select {
			case <-release:
			case <-done:
			}
		}
	})))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) })

	for _, path := range []string{"/", "/flush"} {
		for _, every := range []time.Duration{0, 50 * time.Millisecond} {
			slow := (&apptest.SlowBody{Method: "POST", Path: path, Length: 200000, Every: every}).Start(t, srv.URL)
			res, err := slow.Answer(generous)
			require.NoError(t, err, "%s: the refusal comes before the body (a byte every %s)", path, every)
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
			assert.True(t, res.Close)
			if path == "/flush" {
				release <- struct{}{}
			}
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			assert.Equal(t, tokens.CodeUnauthenticated, errorCode(t, body))
			assert.True(t, slow.ClosedByServer(generous), "%s: the connection closes", path)
		}
	}
}

// The deadline covers the body only: a handler that outlives it after
// reading its body, or a request without a body (the SSE GET), runs on
// with a live context, and the connection stays reusable.
func TestBodyDeadlineSparesTheRestOfTheRequest(t *testing.T) {
	t.Parallel()
	const d = 100 * time.Millisecond
	srv := httptest.NewServer(httpx.BodyDeadline(d, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			httpx.WriteError(w, tokens.CodeInvalidArgument, err.Error())
			return
		}
		// Outlive the deadline: real time must pass it, since it is the
		// connection's own. Were it still in place, the connection's
		// background read would end at it and cancel this context.
		select {
		case <-time.After(3 * d):
			_, _ = io.WriteString(w, "done")
		case <-r.Context().Done():
			httpx.WriteError(w, tokens.CodeInternal, "the request's context ended")
		}
	})))
	t.Cleanup(srv.Close)

	tests := []struct {
		name, method string
		body         io.Reader
	}{
		{"body read, then a long handler", "POST", strings.NewReader(`{"a":1}`)},
		{"chunked body, then a long handler", "POST", io.MultiReader(strings.NewReader(`{"a":`), strings.NewReader(`1}`))},
		{"no body", "GET", nil},
	}
	client := srv.Client()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range 2 { // the second request reuses the connection
				req, err := http.NewRequest(tt.method, srv.URL, tt.body)
				require.NoError(t, err)
				res, err := client.Do(req)
				require.NoError(t, err)
				got, _ := io.ReadAll(res.Body)
				res.Body.Close()
				assert.Equal(t, http.StatusOK, res.StatusCode, "request %d: %s", i, got)
				assert.False(t, res.Close, "the connection is kept")
				tt.body = nil
				if tt.method == "POST" {
					tt.body = strings.NewReader(`{}`)
				}
			}
		})
	}
}
