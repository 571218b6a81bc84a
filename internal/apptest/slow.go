package apptest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// SlowBody is a hostile client on its own HTTP/1.1 connection: it sends
// complete headers promising a body of Length bytes, then the body one
// byte per Every (or nothing at all when Every is 0), for as long as the
// server keeps the connection open.
type SlowBody struct {
	Method, Path string
	Header       http.Header
	Length       int
	Every        time.Duration

	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
	stop chan struct{}
	done chan struct{}
}

// Start connects to baseURL and sends the headers; the body trickles in
// from a goroutine that ends with the connection or the test.
func (s *SlowBody) Start(t testing.TB, baseURL string) *SlowBody {
	t.Helper()
	u, err := url.Parse(baseURL)
	require.NoError(t, err)
	conn, err := net.Dial("tcp", u.Host)
	require.NoError(t, err)
	s.t, s.conn, s.br = t, conn, bufio.NewReader(conn)
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", s.Method, s.Path, u.Host, s.Length)
	for k, vs := range s.Header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	_, err = io.WriteString(conn, b.String())
	require.NoError(t, err)
	go s.trickle()
	t.Cleanup(s.Close)
	return s
}

func (s *SlowBody) trickle() {
	defer close(s.done)
	if s.Every <= 0 {
		return
	}
	tick := time.NewTicker(s.Every)
	defer tick.Stop()
	for range s.Length {
		select {
		case <-s.stop:
			return
		case <-tick.C:
		}
		if _, err := s.conn.Write([]byte{' '}); err != nil {
			return // the server closed the connection
		}
	}
}

// Response waits at most wait for the server's whole answer.
func (s *SlowBody) Response(wait time.Duration) (*http.Response, []byte, error) {
	res, err := s.Answer(wait)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res, body, err
}

// Answer waits at most wait for the status and headers of the server's
// answer; its body is read from the connection as the caller reads it,
// under the same deadline.
func (s *SlowBody) Answer(wait time.Duration) (*http.Response, error) {
	_ = s.conn.SetReadDeadline(time.Now().Add(wait))
	return http.ReadResponse(s.br, nil)
}

// ClosedByServer reports whether the server closed the connection after
// its answer, waiting at most wait.
func (s *SlowBody) ClosedByServer(wait time.Duration) bool {
	_ = s.conn.SetReadDeadline(time.Now().Add(wait))
	_, err := s.br.ReadByte()
	return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}

// Close stops the trickle and closes the connection.
func (s *SlowBody) Close() {
	select {
	case <-s.stop:
		return
	default:
	}
	close(s.stop)
	_ = s.conn.Close()
	<-s.done
}
