package mcp_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bigin-mcp/bigin-mcp/internal/app"
)

// smallSendBuffers gives every connection it accepts a small send
// buffer, so that a client that stops reading blocks the server's writes
// after a few kilobytes rather than the megabyte Linux grants loopback.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

// stalledReader is a legacy SSE client that opens its stream, reads the
// endpoint event, and then reads nothing more.
type stalledReader struct {
	conn net.Conn
	br   *bufio.Reader
	post string // the session's POST URL
}

func openStalledReader(t *testing.T, base, path string) *stalledReader {
	t.Helper()
	host := strings.TrimPrefix(base, "http://")
	conn, err := net.Dial("tcp", host)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	_, err = fmt.Fprintf(conn, "GET %s/sse HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", path, host)
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(generous)))
	s := &stalledReader{conn: conn, br: bufio.NewReader(conn)}
	resp, err := http.ReadResponse(s.br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	// The body is chunked: read its lines up to the endpoint event's data
	// (in the first chunk), straight from the connection's reader.
	for {
		line, err := s.br.ReadString('\n')
		require.NoError(t, err, "the endpoint event")
		if ep, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "data: "); ok {
			s.post = base + ep
			return s
		}
	}
}

// closedByServer reports whether the server closed the connection,
// draining what it had sent, within d.
func (s *stalledReader) closedByServer(d time.Duration) bool {
	_ = s.conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, s.br)
	return err == nil || !isTimeout(err)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func postTo(t *testing.T, url, body string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// A legacy SSE client that stops reading its stream while it goes on
// posting made every answer wait in memory for a stream nobody read
// (152 → 384 MB after 1,800 calls). A session holds at most
// MaxSSEAnswersInFlight answers its stream has not taken (one more
// request is answered 429, and never reaches Zoho), and a stream whose
// client takes no write within SSEWriteTimeout is ended with its session,
// which frees what it held.
func TestSSEStalledReaderIsBoundedAndEnded(t *testing.T) {
	const inFlight = 3
	const writeTimeout = time.Minute
	e := newLimitedEnv(t, app.Limits{MaxSSEAnswersInFlight: inFlight, SSEWriteTimeout: writeTimeout})
	sb := e.Sandboxes["us"]
	_, url := e.MintURL(e.ConnectAccount("us"), map[string]any{"max_result_chars": 1_000_000})
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = e.App.NewServer()
	srv.Listener = smallSendBuffers{srv.Listener}
	srv.Start()
	t.Cleanup(func() { e.App.MCP.CloseStreams(); srv.Close() })

	c := openStalledReader(t, srv.URL, strings.TrimPrefix(url, e.URL))
	resp, body := postTo(t, c.post, initBody("0"))
	require.Equal(t, http.StatusAccepted, resp.StatusCode, body)
	resp, _ = postTo(t, c.post, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Eventually(t, func() bool { return e.App.MCP.SSEStreams().AnswersInFlight == 0 }, generous, 5*time.Millisecond,
		"the small answer to initialize fits the socket's buffers")

	held, release := sb.HoldAPI()
	defer release()
	call := func(id int) string {
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"list_all_zohobigin_users","arguments":{"limit":200}}}`, id)
	}
	for i := range inFlight {
		resp, body := postTo(t, c.post, call(i+1))
		require.Equal(t, http.StatusAccepted, resp.StatusCode, body)
		select {
		case <-held:
		case <-time.After(generous):
			t.Fatalf("call %d did not reach Zoho", i+1)
		}
	}
	zoho := sb.RequestCount()
	for _, refused := range []string{call(inFlight + 1), `{"jsonrpc":"2.0","id":"p","method":"ping"}`} {
		resp, body := postTo(t, c.post, refused)
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, body)
		assert.NotEmpty(t, resp.Header.Get("Retry-After"))
		a := decodeAnswer(t, body)
		require.NotNil(t, a.Error, body)
		assert.Equal(t, "rate_limited", a.Error.Data.Code)
		assert.Contains(t, a.Error.Message, "answers")
	}
	resp, _ = postTo(t, c.post, `{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}`)
	assert.Equal(t, http.StatusAccepted, resp.StatusCode, "a notification has no answer to hold")
	assert.Equal(t, zoho, sb.RequestCount(), "a refused call never reaches Zoho")
	assert.Equal(t, inFlight, e.App.MCP.SSEStreams().AnswersInFlight)

	// Zoho answers; the answers (hundreds of KB each) fill the socket,
	// and the stream stalls on them.
	release()
	require.Eventually(t, func() bool {
		e.Clock.Advance(writeTimeout)
		return e.App.MCP.SSEStreams().Open == 0
	}, generous, 10*time.Millisecond, "the stalled stream ends at its write deadline")
	assert.Equal(t, 0, e.App.MCP.SSEStreams().AnswersInFlight, "what the session held is released")
	assert.True(t, c.closedByServer(generous), "the server closed the stream's connection")
	resp, body = postTo(t, c.post, call(9))
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "the session is gone: %s", body)
}
