package connect_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPickerHasNoDefault: a browser that submits the picker as it is must
// not be sent to some Zoho region nobody chose; the form says a choice is
// required, and a submission without one shows the picker again.
func TestPickerHasNoDefault(t *testing.T) {
	t.Parallel()
	z := newConnectEnv(t)
	link := z.mintLink(map[string]any{"name": "Acme"})

	status, _, page := z.get(link)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, `<select id="dc" name="dc" required>`)
	assert.Contains(t, page, `<option value="" disabled selected>Choose your region…</option>`,
		"the preselected option is a prompt that cannot be submitted")
	assert.Equal(t, 1, strings.Count(page, "selected"), "no region is preselected")
	assert.Contains(t, page, "there is no default")

	// What a browser sends when the required choice is bypassed: an
	// empty dc, or none at all.
	for _, q := range []string{"?dc=", "?dc=+"} {
		status, h, page := z.get(link + q)
		assert.Equal(t, http.StatusBadRequest, status, q)
		assert.Empty(t, h.Get("Location"), "no redirect to any Zoho")
		assert.Contains(t, page, "Please choose your region")
		assert.Contains(t, page, `<select id="dc"`)
	}
}

// TestPickerLabelsNameTheRealServer: a datacenter overridden by
// configuration (here, both point at sandboxes on loopback) is labelled
// with the host the customer will be sent to, not Zoho's.
func TestPickerLabelsNameTheRealServer(t *testing.T) {
	t.Parallel()
	z := newConnectEnv(t)
	_, _, page := z.get(z.mintLink(map[string]any{}))
	host := strings.TrimPrefix(z.zoho["us"].BaseURL(), "http://")
	assert.Contains(t, page, `<option value="us">United States (`+host+`)</option>`)
	assert.Contains(t, page, `<option value="au">Australia (zoho.com.au)</option>`, "built-in ones keep Zoho's name")
	assert.NotContains(t, page, "United States (zoho.com)")
}

// TestPickerSaysWhatTheCustomerAllows: the link asks Zoho for write
// access to records and notes and for user management (deleting users
// included), so the page before Zoho's consent must not promise less.
func TestPickerSaysWhatTheCustomerAllows(t *testing.T) {
	t.Parallel()
	z := newConnectEnv(t)
	_, _, page := z.get(z.mintLink(map[string]any{"name": "Acme"}))
	assert.Contains(t, page, "read and change your Zoho Bigin records, notes and users")
	assert.NotContains(t, page, "read and user-management access", "the record scopes are more than read access")
}

// TestPagesEscapeNames: a link's name is the admin's text, shown as text:
// it cannot add markup to the customer's page.
func TestPagesEscapeNames(t *testing.T) {
	t.Parallel()
	z := newConnectEnv(t)
	_, _, page := z.get(z.mintLink(map[string]any{"name": `<img src=x onerror=alert(1)> & Co`}))
	assert.NotContains(t, page, "<img")
	assert.Contains(t, page, "&lt;img src=x onerror=alert(1)&gt; &amp; Co")
	assert.Regexp(t, regexp.MustCompile(`<style>\s*body\{`), page, "the page's own markup and style are intact")
}
