package mcp_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sseSession is a legacy SSE session driven by hand: its event stream,
// read one event at a time, and the URL its messages are posted to.
type sseSession struct {
	t      *testing.T
	post   string      // the endpoint the server named, absolute
	hdr    http.Header // sent with the stream's request and every message
	events chan sseEvent
	cancel context.CancelFunc
}

// sseEvent is one event of a stream.
type sseEvent struct{ name, data string }

// openSSESession opens a stream on the MCP URL and waits for its
// endpoint event.
func openSSESession(t *testing.T, mcpURL string) *sseSession {
	t.Helper()
	return openSSESessionAs(t, mcpURL, nil)
}

// openSSESessionAs is openSSESession with the headers hdr (a credential)
// on the stream's request and on every message send posts.
func openSSESessionAs(t *testing.T, mcpURL string, hdr http.Header) *sseSession {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", mcpURL+"/sse", nil)
	require.NoError(t, err)
	req.Header = hdr.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	s := &sseSession{t: t, hdr: hdr, events: make(chan sseEvent, 16), cancel: func() { cancel(); resp.Body.Close() }}
	t.Cleanup(s.cancel)
	go func() {
		defer close(s.events)
		r := bufio.NewReader(resp.Body)
		var ev sseEvent
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case line == "":
				if ev != (sseEvent{}) {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	ev := s.next()
	require.Equal(t, "endpoint", ev.name)
	base, err := url.Parse(mcpURL)
	require.NoError(t, err)
	ep, err := base.Parse(ev.data)
	require.NoError(t, err)
	s.post = ep.String()
	return s
}

// next waits for the stream's next event (failing the test after 10 s).
func (s *sseSession) next() sseEvent {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		require.True(s.t, ok, "the stream ended")
		return ev
	case <-time.After(10 * time.Second):
		s.t.Fatal("no event on the stream within 10 s")
	}
	return sseEvent{}
}

// send posts one body to the session and returns the HTTP answer.
func (s *sseSession) send(body string) (int, string) {
	s.t.Helper()
	return s.sendAs(s.hdr, body)
}

// sendAs posts one body to the session with the headers hdr (another
// caller's credential, or none) and returns the HTTP answer.
func (s *sseSession) sendAs(hdr http.Header, body string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.post, strings.NewReader(body))
	require.NoError(s.t, err)
	req.Header = hdr.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return resp.StatusCode, string(b)
}
