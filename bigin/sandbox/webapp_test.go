package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/bigin/sandbox"
)

// A link to a record in Bigin's web app, made for the sandbox's org,
// opens a page that says the sandbox has no web app; another org's
// number is not found, and the API keeps its own answers.
func TestRecordPage(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{OrgName: "Zylker Traders", Users: 3})
	ts := httptest.NewServer(sb)
	t.Cleanup(ts.Close)
	var org struct {
		ZGID string `json:"zgid"`
	}
	require.NoError(t, json.Unmarshal(sb.OrgJSON(), &org))
	require.NotEmpty(t, org.ZGID)

	get := func(path string) (int, string, string) {
		res, err := http.Get(ts.URL + path)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, res.Header.Get("Content-Type"), string(b)
	}
	status, ctype, body := get("/bigin/org" + org.ZGID + "/Home#/deals/315674000003000661")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "text/html; charset=utf-8", ctype)
	assert.Contains(t, body, "<h1>Zylker Traders</h1>")
	assert.Contains(t, body, "has no web app")

	for _, path := range []string{"/bigin/org1/Home", "/bigin/org" + org.ZGID + "/Home/x", "/bigin/org" + org.ZGID} {
		status, _, _ := get(path)
		assert.Equal(t, http.StatusNotFound, status, path)
	}
	status, _, body = get("/bigin/v3/users")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Contains(t, body, "INVALID_URL_PATTERN", "Zoho's answer to an unknown API path")
}
