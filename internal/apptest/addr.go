package apptest

import (
	"net"
	"net/http"
)

// ClientFrom returns an HTTP client whose connections come from the
// loopback address ip (any of 127.0.0.0/8 on Linux), so a test can be
// several client addresses against one server. It follows no redirects.
func ClientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{
		Transport:     &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
