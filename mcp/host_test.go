package mcp

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLoopbackHostCheck(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		host string
		want bool
	}{{"127.0.0.1:8080", true}, {"localhost", true}, {"[::1]:80", true}, {"mcp.example.com", true}, {"evil.example", false}} {
		h := &Handler{publicHost: "mcp.example.com"}
		req, _ := http.NewRequest("POST", "/", bytes.NewReader(nil))
		req.Host = tt.host
		req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}))
		assert.Equal(t, tt.want, h.hostAllowed(req), tt.host)
	}
}
