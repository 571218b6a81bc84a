package httpx_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
)

func TestClientAddr(t *testing.T) {
	tests := []struct{ remote, want string }{
		{"203.0.113.7:51234", "203.0.113.7"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:443", "2001:db8:1:2::/64"}, // the same subscriber
		{"[2001:db8:1:3::1]:443", "2001:db8:1:3::/64"},
		{"[::ffff:203.0.113.7]:80", "203.0.113.7"},
		{"[fe80::1%eth0]:80", "fe80::/64"},
		{"203.0.113.7", "203.0.113.7"},
		{"pipe", ""},
		{"", ""},
	}
	for _, tt := range tests {
		r := &http.Request{RemoteAddr: tt.remote}
		assert.Equal(t, tt.want, httpx.ClientAddr(r), tt.remote)
	}
}
