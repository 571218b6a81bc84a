package mcp

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Default caps on open legacy SSE streams. Each open stream holds a
// goroutine, a file descriptor and about 30 KB; without a cap, one leaked
// URL could open streams until the process runs out of descriptors.
const (
	DefaultMaxSSEStreams       = 1000
	DefaultMaxSSEStreamsPerURL = 32
)

// sseRetryAfter is the Retry-After (seconds) of a stream refused at a
// cap: streams free up only as clients close them, so there is no exact
// time to promise.
const sseRetryAfter = 30

// SSEStreamCounts is a snapshot of the open legacy SSE streams, for logs
// and metrics.
type SSEStreamCounts struct {
	Open    int    // streams open now
	URLs    int    // URLs with at least one open stream
	Refused uint64 // streams refused at a cap since the handler started
	// AnswersInFlight is how many requests the open sessions accepted
	// whose answers their streams have not taken yet.
	AnswersInFlight int

	MaxTotal  int // the cap on Open
	MaxPerURL int // the cap on one URL's open streams
}

// sseStreams counts open SSE streams per MCP server id and in total.
type sseStreams struct {
	maxTotal, maxPerURL int

	mu      sync.Mutex
	perURL  map[string]int
	total   int
	refused uint64
}

func newSSEStreams(maxTotal, maxPerURL int) *sseStreams {
	if maxTotal <= 0 {
		maxTotal = DefaultMaxSSEStreams
	}
	if maxPerURL <= 0 {
		maxPerURL = DefaultMaxSSEStreamsPerURL
	}
	return &sseStreams{maxTotal: maxTotal, maxPerURL: maxPerURL, perURL: map[string]int{}}
}

// acquire takes a place for one more stream of URL id. It returns the
// counts after taking it, or, when a cap is reached, the counts as they
// are and which cap ("per_url" or "total").
func (s *sseStreams) acquire(id string) (onURL, total int, full string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	onURL = s.perURL[id]
	switch {
	case onURL >= s.maxPerURL:
		full = "per_url"
	case s.total >= s.maxTotal:
		full = "total"
	}
	if full != "" {
		s.refused++
		return onURL, s.total, full
	}
	s.perURL[id] = onURL + 1
	s.total++
	return onURL + 1, s.total, ""
}

// release gives back a place taken by acquire.
func (s *sseStreams) release(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.perURL[id] - 1; n > 0 {
		s.perURL[id] = n
	} else {
		delete(s.perURL, id)
	}
	s.total--
}

func (s *sseStreams) counts() SSEStreamCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return SSEStreamCounts{Open: s.total, URLs: len(s.perURL), Refused: s.refused, MaxTotal: s.maxTotal, MaxPerURL: s.maxPerURL}
}

// SSEStreams returns the counts of open legacy SSE streams.
func (h *Handler) SSEStreams() SSEStreamCounts {
	c := h.streams.counts()
	c.AnswersInFlight = h.sessions.total()
	return c
}

// openStream takes a place for a new SSE stream on res's URL, adding the
// counts to the request's log line. Past a cap it answers 429 with
// Retry-After itself and reports false; otherwise the caller must call
// release when the stream ends.
func (h *Handler) openStream(w http.ResponseWriter, r *http.Request, res *tokens.Resolved) (release func(), ok bool) {
	id := res.Server.ID
	onURL, total, full := h.streams.acquire(id)
	httpx.Annotate(r.Context(), "sse_streams_url", strconv.Itoa(onURL))
	httpx.Annotate(r.Context(), "sse_streams_total", strconv.Itoa(total))
	if full == "" {
		return func() { h.streams.release(id) }, true
	}
	httpx.Annotate(r.Context(), "sse_refused", full)
	var msg string
	if full == "per_url" {
		msg = fmt.Sprintf("this MCP URL already has %d open event streams, the most allowed; close one, or use streamable HTTP (POST to the URL itself), which holds no stream open", h.streams.maxPerURL)
	} else {
		msg = fmt.Sprintf("the server already has %d open event streams, the most allowed; retry later, or use streamable HTTP (POST to the URL itself), which holds no stream open", h.streams.maxTotal)
	}
	w.Header().Set("Retry-After", strconv.Itoa(sseRetryAfter))
	writeRPCError(w, nil, tokens.CodeRateLimited, msg)
	return nil, false
}
