package httpx

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

// DefaultBodyTimeout is how long a request body may take to arrive in
// full when BodyDeadline is given no other duration.
const DefaultBodyTimeout = 10 * time.Second

// ErrBodyTimeout is returned (wrapped) by a request body read after the
// body's deadline has passed. Answer it with 408 (Classify does).
var ErrBodyTimeout = errors.New("the request body did not arrive in time")

const bodyTimeoutMessage = "the request body did not arrive in time; send the whole body without pausing"

// BodyDeadline wraps h so that no client can hold a request open by
// sending its body slowly:
//
//   - a request with a body must deliver all of it within d (default
//     DefaultBodyTimeout) of the handler starting; a read past that
//     returns an error that Is ErrBodyTimeout. The deadline is the
//     connection's read deadline (http.ResponseController), so it ends a
//     stalled read at once; net/http lifts it when the body has been read
//     to its end (HTTP/1 clears it to watch the idle connection, HTTP/2
//     keeps it on the finished body alone), so a long handler is not cut.
//     Requests without a body, such as the long-lived SSE GET, get no
//     deadline at all.
//   - a request answered before its body was read in full (refused for
//     its token, its path, its size or a timeout) closes its HTTP/1
//     connection after the answer instead of reading the rest of the body,
//     as net/http otherwise does for bodies under 256 KiB (before the
//     answer and again after it). A refused request is thus answered at
//     once, its body is never read, and its goroutine ends.
//
// Deadlines are wall-clock connection deadlines: the injected clock
// cannot drive them, so tests pass a short d instead.
func BodyDeadline(d time.Duration, h http.Handler) http.Handler {
	if d <= 0 {
		d = DefaultBodyTimeout
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		ctl := http.NewResponseController(w)
		body := &deadlineBody{body: r.Body}
		// Without a settable deadline (a writer that cannot reach the
		// connection), the body is still closed over when left unread.
		_ = ctl.SetReadDeadline(time.Now().Add(d))
		// The body is swapped on the request itself, not on a copy: the
		// mux below records the route pattern on the request it is given,
		// and the request log reads it from this same request. net/http
		// keeps its own hold of the original body.
		r.Body = body
		http1 := r.ProtoMajor == 1
		h.ServeHTTP(&closeUnread{ResponseWriter: w, body: body, http1: http1}, r)
		if http1 && !body.ended.Load() {
			// Once the handler returns, net/http reads what is left of
			// the body (up to 256 KiB) before it lets go of the
			// connection, whether or not the connection is to close.
			// End that read now: the connection is not reused.
			_ = ctl.SetReadDeadline(time.Now())
		}
	})
}

// deadlineBody is a request body under a read deadline: it notes when
// the body has been read to its end, and marks a read that ran past the
// deadline.
type deadlineBody struct {
	body  io.ReadCloser
	ended atomic.Bool // read to EOF
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		b.ended.Store(true)
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = fmt.Errorf("%w: %w", ErrBodyTimeout, err)
	}
	return n, err
}

func (b *deadlineBody) Close() error { return b.body.Close() }

// closeUnread asks net/http to close an HTTP/1 connection whose request
// is answered before its body was read to the end. (HTTP/2 resets the
// stream by itself; a Connection header there would end the whole
// connection.)
type closeUnread struct {
	http.ResponseWriter
	body    *deadlineBody
	http1   bool
	written bool
}

func (w *closeUnread) WriteHeader(status int) {
	if !w.written && status >= 200 {
		w.written = true
		if w.http1 && !w.body.ended.Load() {
			w.Header().Set("Connection", "close")
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *closeUnread) Write(p []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

func (w *closeUnread) Flush() {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *closeUnread) Unwrap() http.ResponseWriter { return w.ResponseWriter }
