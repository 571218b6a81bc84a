package rest_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/apptest"
)

// stack is a running server with one connected sandbox account.
type stack struct {
	*apptest.Env
	account string
}

func newStack(t *testing.T) *stack {
	t.Helper()
	e := apptest.New(t, apptest.Options{})
	return &stack{Env: e, account: e.ConnectAccount("us")}
}

// get sends a GET with the admin token and requires status want.
func (s *stack) get(path string, want int) map[string]any {
	s.T.Helper()
	r := s.Request(http.MethodGet, path, nil)
	require.Equal(s.T, want, r.Status, "GET %s: %s", path, r.Body)
	return r.JSON(s.T)
}

// call calls a tool over REST with the admin token.
func (s *stack) call(tool string, args any) apptest.Response {
	s.T.Helper()
	return s.Request(http.MethodPost, "/integrated-account/"+s.account+"/tools/"+tool, args)
}

// walk follows next_cursor from path (which must already hold a query)
// and returns every record's id.
func (s *stack) walk(path string) []string {
	s.T.Helper()
	var ids []string
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(s.T, pages, 100, "paging does not end")
		p := path
		if cursor != "" {
			p += "&next_cursor=" + cursor
		}
		out := s.get(p, http.StatusOK)
		for _, rec := range out["result"].([]any) {
			ids = append(ids, rec.(map[string]any)["id"].(string))
		}
		next, _ := out["next_cursor"].(string)
		if next == "" {
			require.Nil(s.T, out["next_cursor"])
			return ids
		}
		cursor = next
	}
}

func errorOf(t *testing.T, r apptest.Response) (code, message string, upstream map[string]any) {
	t.Helper()
	var m struct {
		Error struct {
			Code     string         `json:"code"`
			Message  string         `json:"message"`
			Upstream map[string]any `json:"upstream"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	require.NotEmpty(t, m.Error.Code, "not the error shape: %s", r.Body)
	return m.Error.Code, m.Error.Message, m.Error.Upstream
}
