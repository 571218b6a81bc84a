package bigin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name   string
		status int
		body   string
		code   string // "" means success
		msg    string
	}{
		{"list", 200, `{"users":[{"id":"1","status":"active"}],"info":{"page":1}}`, "", ""},
		{"record with a status is not an error", 200, `{"users":[{"id":"1","status":"error"}]}`, "", ""},
		{"204 is never decoded", 204, `not json`, "", ""},
		{"top-level error in 200", 200, `{"code":"INVALID_DATA","details":{"resource_path_index":1},"message":"the id given seems to be invalid","status":"error"}`, "INVALID_DATA", "the id given seems to be invalid"},
		{"error without status", 401, `{"code":"INVALID_TOKEN","message":"invalid oauth token"}`, "INVALID_TOKEN", "invalid oauth token"},
		{"wrapped error", 400, `{"users":[{"code":"ID_ALREADY_DELETED","details":{"id":"1","json_path":"$.users[0].id"},"message":"User is already deleted","status":"error"}]}`, "ID_ALREADY_DELETED", "User is already deleted"},
		{"wrapped error in 200", 200, `{"users":[{"code":"INVALID_REQUEST","details":{},"message":"Primary contact cannot be deleted","status":"error"}]}`, "INVALID_REQUEST", "Primary contact cannot be deleted"},
		{"wrapped success", 200, `{"users":[{"code":"SUCCESS","details":{"id":"1"},"message":"User deleted","status":"success"}]}`, "", ""},
		{"non-2xx without code", 404, `{"foo":1}`, CodeInvalidResponse, "Zoho answered HTTP 404 without an error code"},
		{"HTML", 502, `<html>bad gateway</html>`, CodeInvalidResponse, "Zoho answered HTTP 502 with a body that is not a JSON object"},
		{"empty 200", 200, ``, CodeInvalidResponse, "Zoho answered HTTP 200 with a body that is not a JSON object"},
		{"array", 200, `[1,2]`, CodeInvalidResponse, "Zoho answered HTTP 200 with a body that is not a JSON object"},
		{"null", 200, `null`, CodeInvalidResponse, "Zoho answered HTTP 200 with a body that is not a JSON object"},
		{"huge", 200, `{"users":[` + string(bytes.Repeat([]byte(" "), maxBody)) + `]}`, CodeInvalidResponse, "the answer is larger than 16 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a *answer
			var err error
			require.NotPanics(t, func() { a, err = decode(tt.status, http.Header{}, []byte(tt.body), now) })
			if tt.code == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.status, a.status)
				return
			}
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.status, ae.Status)
			assert.Equal(t, tt.code, ae.Code)
			assert.Equal(t, tt.msg, ae.Message)
			assert.Less(t, len(err.Error()), 400)
		})
	}
}

func TestDecodeKeepsDetailsAndHeaders(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	h := http.Header{}
	h.Set("X-Rate-Limit-Limit", "50")
	h.Set("X-Rate-Limit-Remaining", "0")
	h.Set("X-Rate-Limit-Reset", "120")
	_, err := decode(429, h, []byte(`{"code":"TOO_MANY_REQUESTS","details":{"x":1},"message":"slow down","status":"error"}`), now)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.JSONEq(t, `{"x":1}`, string(ae.Details))
	assert.Equal(t, &RateLimit{Limit: 50, Remaining: 0, Reset: now.Add(2 * time.Minute)}, ae.RateLimit)
	assert.Equal(t, 2*time.Minute, ae.RetryAfter)
	assert.Equal(t, "bigin: HTTP 429 TOO_MANY_REQUESTS: slow down (retry after 2m0s)", ae.Error())
	assert.True(t, ae.RateLimited())
}

func TestRateLimitOf(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name    string
		headers map[string]string
		want    *RateLimit
		wait    time.Duration
	}{
		{"none", nil, nil, 0},
		{"X-RateLimit with epoch reset", map[string]string{"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "7", "X-RateLimit-Reset": "1700000030"},
			&RateLimit{Limit: 100, Remaining: 7, Reset: now.Add(30 * time.Second)}, 30 * time.Second},
		{"Books spelling, reset in seconds", map[string]string{"X-Rate-Limit-Limit": "2000", "X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": "90"},
			&RateLimit{Limit: 2000, Remaining: 0, Reset: now.Add(90 * time.Second)}, 90 * time.Second},
		{"epoch milliseconds", map[string]string{"X-RateLimit-Reset": "1700000010000"}, &RateLimit{Reset: now.Add(10 * time.Second)}, 10 * time.Second},
		{"Retry-After wins", map[string]string{"X-RateLimit-Limit": "5", "X-RateLimit-Reset": "1700000090", "Retry-After": "12"},
			&RateLimit{Limit: 5, Reset: now.Add(90 * time.Second)}, 12 * time.Second},
		{"Retry-After date only", map[string]string{"Retry-After": now.Add(time.Minute).UTC().Format(http.TimeFormat)}, nil, time.Minute},
		{"garbage", map[string]string{"X-RateLimit-Limit": "lots", "Retry-After": "soon"}, nil, 0},
		{"reset in the past", map[string]string{"X-RateLimit-Reset": "1600000000"}, &RateLimit{Reset: time.Unix(1_600_000_000, 0)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			rl, wait := rateLimitOf(h, now)
			if tt.want == nil {
				assert.Nil(t, rl)
			} else {
				require.NotNil(t, rl)
				assert.Equal(t, tt.want.Limit, rl.Limit)
				assert.Equal(t, tt.want.Remaining, rl.Remaining)
				assert.True(t, tt.want.Reset.Equal(rl.Reset), "%v != %v", tt.want.Reset, rl.Reset)
			}
			assert.Equal(t, tt.wait, wait)
		})
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	for range 100 {
		d := backoff(1)
		assert.GreaterOrEqual(t, d, backoffBase/2)
		assert.LessOrEqual(t, d, backoffBase)
		d = backoff(2)
		assert.GreaterOrEqual(t, d, backoffBase)
		assert.LessOrEqual(t, d, 2*backoffBase)
		assert.LessOrEqual(t, backoff(40), backoffMax)
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	long := string(bytes.Repeat([]byte("é"), 400))
	c := clip(long + "\n")
	assert.LessOrEqual(t, len(c), maxMessage+len("…"))
	assert.True(t, json.Valid([]byte(`"`+c+`"`)), "still valid UTF-8")
	assert.Equal(t, "a b", clip(" a \n b "))
}

// decode reads a directory answer, as the directory calls do.
func decode(status int, h http.Header, body []byte, now time.Time) (*answer, error) {
	return decodeAs(wrappedErrors, status, h, body, now)
}
