package mcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/bigin-mcp/bigin-mcp/internal/clock"
	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// Defaults of what a legacy SSE session may hold. A session's answers go
// out on its stream, one at a time; while the client does not read it,
// they wait in memory (about 185 KB each for a page of users).
const (
	// DefaultMaxSSEAnswersInFlight is how many requests a session may
	// have accepted whose answers its stream has not taken: enough for a
	// client's parallel tool calls, few enough that a client that stops
	// reading holds a few MB at most.
	DefaultMaxSSEAnswersInFlight = 16
	// DefaultSSEWriteTimeout is how long one write to a stream may wait
	// for the client to take it: a client that reads takes an event in
	// milliseconds, so one that has not within this has stopped reading.
	DefaultSSEWriteTimeout = 30 * time.Second
)

// sseAnswersRetryAfter is the Retry-After (seconds) of a request refused
// because its session holds too many answers: they free up as soon as
// the client reads its stream.
const sseAnswersRetryAfter = 1

// sseSessions tracks, for each open legacy SSE session, the requests it
// accepted whose answers its stream has not taken yet. The go-sdk names a
// session in the endpoint event it writes first on the stream; the
// stream's writer (sessionWriter) registers it then, and counts each
// answer out as it is written.
type sseSessions struct {
	max int

	mu       sync.Mutex
	byID     map[string]*sseSession // by MCP server id + "/" + session id
	inFlight int                    // over every session
}

// sseSession is one session: who opened its stream, and its count of
// answers in flight.
type sseSession struct {
	owner    string // sessionOwner of the stream's request; never changes
	inFlight int    // guarded by sseSessions.mu
}

func newSSESessions(max int) *sseSessions {
	if max <= 0 {
		max = DefaultMaxSSEAnswersInFlight
	}
	return &sseSessions{max: max, byID: map[string]*sseSession{}}
}

func sessionKey(serverID, sessionID string) string { return serverID + "/" + sessionID }

// open registers a session opened by owner; close forgets it and what
// it held.
func (s *sseSessions) open(key, owner string) *sseSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := &sseSession{owner: owner}
	s.byID[key] = ss
	return ss
}

func (s *sseSessions) close(key string, ss *sseSession) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID[key] == ss {
		delete(s.byID, key)
	}
	s.inFlight -= ss.inFlight
	ss.inFlight = 0
}

// reserve takes a place for one more answer on the session key names. It
// reports false when the session holds its most; a session it does not
// know (unknown, or already ended) gets a nil session and true, and the
// go-sdk answers the request.
func (s *sseSessions) reserve(key string) (*sseSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.byID[key]
	if ss == nil {
		return nil, true
	}
	if ss.inFlight >= s.max {
		return ss, false
	}
	ss.inFlight++
	s.inFlight++
	return ss, true
}

// release gives back a place taken by reserve (an answer written, or a
// request the go-sdk did not accept). A session that has ended has
// nothing left to give back.
func (s *sseSessions) release(ss *sseSession) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss.inFlight > 0 {
		ss.inFlight--
		s.inFlight--
	}
}

// ownerOf returns who opened the session key names, and false for a
// session it does not know (unknown, or already ended).
func (s *sseSessions) ownerOf(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.byID[key]
	if ss == nil {
		return "", false
	}
	return ss.owner, true
}

func (s *sseSessions) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight
}

// sessionOwner names the credential a request was admitted with, which
// a legacy SSE session opened by it belongs to: its OAuth grant, else its
// API token, else the URL itself (an auth url URL is its own
// credential, so every caller of it is the same one). "" for a request
// without one, which no session takes messages from.
func sessionOwner(c *tokens.Caller) string {
	switch {
	case c == nil:
		return ""
	case c.Grant != nil:
		if c.Grant.ID == "" {
			return ""
		}
		return "oauth_grant:" + c.Grant.ID
	case c.APIToken != nil:
		if c.APIToken.ID == "" {
			return ""
		}
		return "api_token:" + c.APIToken.ID
	case c.MCPServerID != "":
		return "mcp:" + c.MCPServerID
	}
	return ""
}

// checkSessionCaller refuses, with 403, a POST to a legacy SSE session
// from another caller than the one whose request opened the session's
// stream: the go-sdk runs a session's messages in its stream's context,
// so they would act (and be audited) as the stream's caller, and a second
// valid credential of the URL that learned the session id would act in
// the first one's name. Nothing of a refused message runs. A session it
// does not know passes: the go-sdk answers 404.
func (h *Handler) checkSessionCaller(w http.ResponseWriter, r *http.Request, res *tokens.Resolved) bool {
	owner, ok := h.sessions.ownerOf(sessionKey(res.Server.ID, r.URL.Query().Get("sessionid")))
	if !ok {
		return true
	}
	if who := sessionOwner(tokens.CallerFrom(r.Context())); who == "" || who != owner {
		httpx.Annotate(r.Context(), "sse_refused", "another_caller")
		writeRPCError(w, requestID(bodyFrom(r.Context())), tokens.CodePermissionDenied,
			"this SSE session belongs to the credential that opened its event stream; open your own stream (GET …/sse) and post to the endpoint it names")
		return false
	}
	return true
}

// reserveAnswer takes, for a POST to a legacy SSE session that the
// server will answer, a place among the answers the session holds. Past
// the most it answers 429 with Retry-After itself and reports false;
// otherwise the caller must call done with the status the POST got.
func (h *Handler) reserveAnswer(w http.ResponseWriter, r *http.Request, res *tokens.Resolved) (done func(status int), ok bool) {
	if m := messageFrom(r.Context()); m == nil || !m.call {
		return func(int) {}, true
	}
	ss, ok := h.sessions.reserve(sessionKey(res.Server.ID, r.URL.Query().Get("sessionid")))
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(sseAnswersRetryAfter))
		writeRPCError(w, requestID(bodyFrom(r.Context())), tokens.CodeRateLimited, fmt.Sprintf(
			"this SSE session already holds %d answers its event stream has not taken; read the stream, then send more", h.sessions.max))
		return nil, false
	}
	return func(status int) {
		if ss != nil && status != http.StatusAccepted {
			h.sessions.release(ss)
		}
	}, true
}

// sessionWriter is the writer of a legacy SSE stream under the go-sdk:
// it registers the stream's session from the endpoint event, and counts
// each answer out once it is written (or its write failed).
type sessionWriter struct {
	http.ResponseWriter
	sessions *sseSessions
	serverID string
	owner    string // sessionOwner of the stream's request

	key     string
	session *sseSession // nil until the endpoint event
}

func (s *sessionWriter) Write(b []byte) (int, error) {
	name, data := eventParts(b)
	if s.session == nil && name == "endpoint" {
		if u, err := url.Parse(string(data)); err == nil {
			s.key = sessionKey(s.serverID, u.Query().Get("sessionid"))
			s.session = s.sessions.open(s.key, s.owner)
		}
	}
	n, err := s.ResponseWriter.Write(b)
	if s.session != nil && name == "message" && isAnswer(data) {
		s.sessions.release(s.session)
	}
	return n, err
}

// close forgets the session when its stream ends.
func (s *sessionWriter) close() {
	if s.session != nil {
		s.sessions.close(s.key, s.session)
	}
}

// Flush flushes the stream.
func (s *sessionWriter) Flush() { _ = http.NewResponseController(s.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *sessionWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// eventParts returns the name and data of one event as the go-sdk writes
// it (one write, "event: …\n", maybe "id: …\n", "data: …\n\n").
func eventParts(b []byte) (name string, data []byte) {
	for len(b) > 0 {
		line, rest, _ := bytes.Cut(b, []byte("\n"))
		b = rest
		if v, ok := bytes.CutPrefix(line, []byte("event: ")); ok {
			name = string(v)
		} else if v, ok := bytes.CutPrefix(line, []byte("data: ")); ok {
			data = v
		}
	}
	return name, data
}

// isAnswer reports whether msg is a JSON-RPC response (a result or an
// error), not a request or notification of the server's own.
func isAnswer(msg []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(msg))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return false
		}
		switch key {
		case "result", "error":
			return true
		case "method":
			return false
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return false
		}
	}
	return false
}

// errStalled is the error of a write that the client did not take
// within the stream's write timeout.
var errStalled = errors.New("the client did not read the stream in time")

// deadlineWriter bounds every write and flush of a stream by a timeout
// of the clock: one still blocked when it passes is cut (the
// connection's write deadline is set to now, in real time, which a
// socket needs) and stalled is called to end the stream. Every later
// write fails at once. Writes must be serialized by the caller.
type deadlineWriter struct {
	http.ResponseWriter
	clock   clock.Clock
	timeout time.Duration
	stalled func()

	failed error
}

func (d *deadlineWriter) guard(op func() error) error {
	if d.failed != nil {
		return d.failed
	}
	t := d.clock.AfterFunc(d.timeout, d.stall)
	err := op()
	if !t.Stop() && err == nil {
		err = errStalled // cut while it returned: the stream ends anyway
	}
	if err != nil {
		d.failed = err
	}
	return err
}

func (d *deadlineWriter) stall() {
	_ = http.NewResponseController(d.ResponseWriter).SetWriteDeadline(time.Now())
	d.stalled()
}

func (d *deadlineWriter) Write(b []byte) (n int, err error) {
	err = d.guard(func() error {
		n, err = d.ResponseWriter.Write(b)
		return err
	})
	return n, err
}

// FlushError flushes the stream within the timeout.
func (d *deadlineWriter) FlushError() error {
	return d.guard(http.NewResponseController(d.ResponseWriter).Flush)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }
