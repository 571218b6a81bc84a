package mcp

import (
	"bytes"
	"net/http"
	"sync"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/clock"
)

// DefaultKeepAlive is how often an open legacy SSE stream gets a comment
// when nothing else is sent, well inside the 60 s idle timeout of common
// reverse proxies (nginx's proxy_read_timeout, load balancers).
const DefaultKeepAlive = 15 * time.Second

// keepAliveComment is an SSE comment: clients ignore it, proxies see
// traffic.
var keepAliveComment = []byte(": keep-alive\n\n")

// keepAliveWriter wraps the response of an SSE stream and writes a comment
// every interval of the clock. Writes of the stream and of the comment are
// serialized, and a comment is only written between two events (the go-sdk
// writes each event whole, ending in a blank line), once the stream has
// started, and never after stop.
type keepAliveWriter struct {
	http.ResponseWriter
	clock clock.Clock
	every time.Duration

	mu       sync.Mutex
	started  bool // the stream has begun (its first event is out)
	boundary bool // the last write ended an event
	stopped  bool
	timer    clock.Timer
}

func newKeepAliveWriter(w http.ResponseWriter, c clock.Clock, every time.Duration) *keepAliveWriter {
	k := &keepAliveWriter{ResponseWriter: w, clock: c, every: every}
	k.timer = c.AfterFunc(every, k.tick)
	return k
}

func (k *keepAliveWriter) tick() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stopped {
		return
	}
	// The next tick is scheduled before this one writes, so whoever reads
	// the comment knows the next one is on its way.
	k.timer = k.clock.AfterFunc(k.every, k.tick)
	if k.started && k.boundary {
		if _, err := k.ResponseWriter.Write(keepAliveComment); err == nil {
			_ = http.NewResponseController(k.ResponseWriter).Flush()
		}
	}
}

// stop ends the comments; call it before the handler returns.
func (k *keepAliveWriter) stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stopped = true
	k.timer.Stop()
}

func (k *keepAliveWriter) WriteHeader(status int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.ResponseWriter.WriteHeader(status)
}

func (k *keepAliveWriter) Write(b []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	n, err := k.ResponseWriter.Write(b)
	if n > 0 {
		k.started = true
		k.boundary = bytes.HasSuffix(b[:n], []byte("\n\n"))
	}
	return n, err
}

// Flush flushes the stream.
func (k *keepAliveWriter) Flush() {
	k.mu.Lock()
	defer k.mu.Unlock()
	_ = http.NewResponseController(k.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (k *keepAliveWriter) Unwrap() http.ResponseWriter { return k.ResponseWriter }
