package httpx_test

import (
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

// ReadBody and ParseForm answer a body announced over their limit with
// 413 before reading any of it, a slow one with 408, one that turns out
// too long with 413, and a malformed form with 400.
func TestFormAndBodyLimits(t *testing.T) {
	const limit = 1 << 10
	readers := []struct {
		name string
		read func(w http.ResponseWriter, r *http.Request) error
	}{
		{"ParseForm", func(w http.ResponseWriter, r *http.Request) error { return httpx.ParseForm(w, r, limit) }},
		{"ReadBody", func(w http.ResponseWriter, r *http.Request) error {
			_, err := httpx.ReadBody(w, r, limit)
			return err
		}},
	}
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	for _, rd := range readers {
		t.Run(rd.name, func(t *testing.T) {
			serve := func(d time.Duration) string {
				srv := httptest.NewServer(httpx.BodyDeadline(d, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if err := rd.read(w, r); err != nil {
						code, msg, _ := httpx.Classify(r.Context(), err)
						httpx.WriteError(w, code, msg)
						return
					}
					w.WriteHeader(http.StatusNoContent)
				})))
				t.Cleanup(srv.Close)
				return srv.URL
			}
			t.Run("announced too large: 413 without reading", func(t *testing.T) {
				slow := (&apptest.SlowBody{Method: "POST", Path: "/", Header: form, Length: 10 << 20}).Start(t, serve(time.Hour))
				res, body, err := slow.Response(generous)
				require.NoError(t, err, "answered without the body")
				assert.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
				assert.Equal(t, tokens.CodeTooLarge, errorCode(t, body))
				assert.Contains(t, string(body), "over 1 KiB")
				assert.True(t, slow.ClosedByServer(generous))
			})
			t.Run("slow: 408", func(t *testing.T) {
				slow := (&apptest.SlowBody{Method: "POST", Path: "/", Header: form, Length: 500, Every: 20 * time.Millisecond}).Start(t, serve(300*time.Millisecond))
				res, body, err := slow.Response(generous)
				require.NoError(t, err)
				assert.Equal(t, http.StatusRequestTimeout, res.StatusCode)
				assert.Equal(t, tokens.CodeRequestTimeout, errorCode(t, body))
				assert.True(t, slow.ClosedByServer(generous))
			})
			url := serve(time.Hour)
			post := func(body string, chunked bool) int {
				var req *http.Request
				var err error
				if chunked {
					req, err = http.NewRequest("POST", url, struct{ *strings.Reader }{strings.NewReader(body)})
				} else {
					req, err = http.NewRequest("POST", url, strings.NewReader(body))
				}
				require.NoError(t, err)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				res, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				res.Body.Close()
				return res.StatusCode
			}
			assert.Equal(t, http.StatusNoContent, post("a=1", false))
			assert.Equal(t, http.StatusNoContent, post(strings.Repeat("a", limit), true), "exactly the limit")
			assert.Equal(t, http.StatusRequestEntityTooLarge, post(strings.Repeat("a", limit+1), true), "over it, unannounced")
			if rd.name == "ParseForm" {
				assert.Equal(t, http.StatusBadRequest, post("a=%zz", false), "a malformed form")
			}
		})
	}
}
