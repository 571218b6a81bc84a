package ui

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// IdleTimeout is how long a session lasts without a request.
const IdleTimeout = 12 * time.Hour

// session is one signed-in browser. The cookie's value is never kept: the
// table is keyed by its SHA-256.
type session struct {
	apiTokenID   string
	apiTokenName string
	apiTokenHash [32]byte // to end the session when the token is deleted
	csrf         string
	lastSeen     time.Time
}

// sessions is the session table of one process.
type sessions struct {
	now func() time.Time

	mu sync.Mutex
	m  map[[32]byte]*session
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{now: now, m: map[[32]byte]*session{}}
}

// randomString returns 32 random bytes in base64url.
func randomString() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a session for the API token and returns the cookie value.
// Sessions idle too long are dropped on the way, so the table holds only
// live ones and those idle since the last sign-in.
func (s *sessions) create(t *tokens.APIToken) (string, *session) {
	value := randomString()
	sess := &session{apiTokenID: t.ID, apiTokenName: t.Name, apiTokenHash: t.TokenHash, csrf: randomString(), lastSeen: s.now()}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, old := range s.m {
		if now.Sub(old.lastSeen) >= IdleTimeout {
			delete(s.m, k)
		}
	}
	s.m[sha256.Sum256([]byte(value))] = sess
	return value, sess
}

// get returns the live session of a cookie value and marks it used, or nil
// (an idle one is ended here).
func (s *sessions) get(value string) *session {
	if value == "" {
		return nil
	}
	k := sha256.Sum256([]byte(value))
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.m[k]
	if sess == nil {
		return nil
	}
	now := s.now()
	if now.Sub(sess.lastSeen) >= IdleTimeout {
		delete(s.m, k)
		return nil
	}
	sess.lastSeen = now
	return sess
}

// end ends the session of a cookie value.
func (s *sessions) end(value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sha256.Sum256([]byte(value)))
}

// endToken ends every session signed in with the API token.
func (s *sessions) endToken(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, sess := range s.m {
		if sess.apiTokenID == id {
			delete(s.m, k)
		}
	}
}
