package sandbox

import (
	"net/http"
	"strconv"
	"time"
)

// Fault is a failure the sandbox can answer an API request with instead of
// serving it.
type Fault int

// The faults. Each applies to a request that passed the token and scope
// checks, so an expired token does not use one up.
const (
	// RateLimited answers 429 TOO_MANY_REQUESTS with X-RateLimit-Limit
	// (FaultRateLimit), X-RateLimit-Remaining (0), X-RateLimit-Reset (Unix
	// seconds, now + FaultRetryAfter) and Retry-After (FaultRetryAfter in
	// seconds). Real Zoho's headers are UNVERIFIED.
	RateLimited Fault = iota + 1
	// ErrorIn200 answers HTTP 200 with Zoho's error body
	// {"code":"INVALID_DATA",…,"status":"error"} (CRM sends INVALID_DATA
	// with 200 at times).
	ErrorIn200
	// InternalError answers 500 INTERNAL_ERROR.
	InternalError
	// BadGateway answers 502 with an HTML body, as a proxy in front of Zoho
	// would.
	BadGateway
	// Garbage answers 200 with a body that is not JSON.
	Garbage
	// NoContent answers 204 with an empty body.
	NoContent
	// InvalidToken answers 401 INVALID_TOKEN, as for a revoked token.
	InvalidToken
	// AuthenticationFailure answers 401 AUTHENTICATION_FAILURE.
	AuthenticationFailure
)

// String returns the fault's name.
func (f Fault) String() string {
	switch f {
	case RateLimited:
		return "RateLimited"
	case ErrorIn200:
		return "ErrorIn200"
	case InternalError:
		return "InternalError"
	case BadGateway:
		return "BadGateway"
	case Garbage:
		return "Garbage"
	case NoContent:
		return "NoContent"
	case InvalidToken:
		return "InvalidToken"
	case AuthenticationFailure:
		return "AuthenticationFailure"
	}
	return "Fault(" + strconv.Itoa(int(f)) + ")"
}

// Values of the RateLimited fault's headers.
const (
	FaultRateLimit  = 100
	FaultRetryAfter = 30 * time.Second
)

// FailNext makes the next n API requests (that pass the token and scope
// checks) answer with the fault, after any faults already queued.
func (s *Sandbox) FailNext(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

// ClearFaults drops the queued faults.
func (s *Sandbox) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// PendingFaults returns how many queued faults are still to be served.
func (s *Sandbox) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.faults)
}

// nextFaultLocked pops the next queued fault, or 0.
func (s *Sandbox) nextFaultLocked() Fault {
	if len(s.faults) == 0 {
		return 0
	}
	f := s.faults[0]
	s.faults = s.faults[1:]
	return f
}

// serveFault answers with f.
func serveFault(w http.ResponseWriter, f Fault, now time.Time) {
	switch f {
	case RateLimited:
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(FaultRateLimit))
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(FaultRetryAfter).Unix(), 10))
		h.Set("Retry-After", strconv.Itoa(int(FaultRetryAfter/time.Second)))
		writeError(w, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "The number of requests exceeds the allowed limit. Try again later.", nil)
	case ErrorIn200:
		writeError(w, http.StatusOK, "INVALID_DATA", "the id given seems to be invalid", map[string]any{"resource_path_index": 1})
	case InternalError:
		writeError(w, http.StatusInternalServerError, "INTERNAL_ERROR", "Internal Server Error", nil)
	case BadGateway:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"))
	case Garbage:
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`<html><body>Something went wrong {"users":[{"id":`))
	case NoContent:
		writeNoContent(w)
	case InvalidToken:
		writeError(w, http.StatusUnauthorized, "INVALID_TOKEN", "invalid oauth token", nil)
	case AuthenticationFailure:
		writeError(w, http.StatusUnauthorized, "AUTHENTICATION_FAILURE", "Authentication failed", nil)
	}
}
