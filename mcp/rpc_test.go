package mcp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// JSON-RPC error codes the tests expect.
const (
	rpcParseError     = -32700
	rpcInvalidRequest = -32600
	rpcMethodNotFound = -32601
	rpcInvalidParams  = -32602
)

// initBody is an initialize request with id.
func initBody(id string) string {
	return `{"jsonrpc":"2.0","id":` + id + `,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
}

// toolCalls is a batch of n calls of a tool that calls Zoho.
func toolCalls(n int) string {
	calls := make([]string, n)
	for i := range calls {
		calls[i] = fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"list_all_zohobigin_users","arguments":{"limit":100}}}`, i+1)
	}
	return "[" + strings.Join(calls, ",") + "]"
}

// A batch fans one request out into as many Zoho calls as it holds
// elements (1,500 of them made 1,500 calls and a 127 MB answer): every
// batch is refused whole, on both transports and every protocol version,
// before anything in it runs.
func TestBatchesAreRefusedWhole(t *testing.T) {
	e := newEnv(t)
	_, url := e.MintURL(e.ConnectAccount("us"), map[string]any{})
	sb := e.Sandboxes["us"]
	batches := map[string]string{
		"tool calls":        toolCalls(20),
		"one element":       toolCalls(1),
		"initialize first":  "[" + initBody("1") + "]",
		"with notification": `[{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":2,"method":"ping"}]`,
		"empty":             "[]",
		"padded":            " \n\t" + toolCalls(2),
	}
	for name, batch := range batches {
		for _, version := range []string{"", "2025-03-26", "2025-06-18", "2025-11-25"} {
			t.Run(fmt.Sprintf("streamable %s %q", name, version), func(t *testing.T) {
				before := sb.RequestCount()
				hdr := map[string]*string{}
				if version != "" {
					hdr["Mcp-Protocol-Version"] = str(version)
				}
				resp, body := send(t, "POST", url, batch, hdr)
				require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
				a := decodeAnswer(t, body)
				require.NotNil(t, a.Error, body)
				assert.Equal(t, rpcInvalidRequest, a.Error.Code)
				assert.JSONEq(t, "null", string(a.ID))
				assert.Contains(t, a.Error.Message, "batches are not accepted")
				assert.Equal(t, before, sb.RequestCount(), "nothing in the batch reached Zoho")
			})
		}
		t.Run("legacy SSE "+name, func(t *testing.T) {
			s := openSSESession(t, url)
			before := sb.RequestCount()
			status, body := s.send(batch)
			require.Equal(t, http.StatusBadRequest, status, body)
			a := decodeAnswer(t, body)
			require.NotNil(t, a.Error, body)
			assert.Equal(t, rpcInvalidRequest, a.Error.Code)
			assert.Contains(t, a.Error.Message, "batches are not accepted")
			// The session is still usable, and the next event on it is the
			// answer to the next message: nothing of the batch ran.
			status, _ = s.send(initBody(`"after"`))
			require.Equal(t, http.StatusAccepted, status)
			ev := s.next()
			assert.Equal(t, "after", decodeAnswer(t, ev.data).idString(t))
			assert.Equal(t, before, sb.RequestCount(), "nothing in the batch reached Zoho")
		})
	}
}

// idString returns the answer's id as the JSON text it was sent as, a
// string's value without its quotes.
func (a rpcAnswer) idString(t *testing.T) string {
	t.Helper()
	var s string
	if json.Unmarshal(a.ID, &s) == nil {
		return s
	}
	return string(a.ID)
}

// An id comes back exactly as sent, or the request is refused with
// -32600 and the id null: the go-sdk reads a number as a float64 and keeps
// it as a 64-bit integer, so it would answer 1.5 as 1, 1e300 as
// -9223372036854775808 and 9007199254740993 as 9007199254740992, and a
// client would match the answer to another request or to none. Integers
// of at most 53 bits (JavaScript's safe integers) come back as sent.
func TestRequestIDsComeBackAsSentOrAreRefused(t *testing.T) {
	e := newEnv(t)
	_, url := e.MintURL(e.ConnectAccount("us"), map[string]any{})
	kept := []string{`1`, `0`, `-7`, `9007199254740991`, `-9007199254740991`, `"a"`, `""`, `"1.5"`, `"é"`}
	refused := []string{`1.5`, `1e300`, `1e3`, `1.0`, `-0.0`, `9007199254740993`, `9223372036854775807`, `12345678901234567890`, `true`, `{}`, `[]`, `[1]`}
	for _, id := range kept {
		t.Run("kept "+id, func(t *testing.T) {
			resp, body := send(t, "POST", url, `{"jsonrpc":"2.0","id":`+id+`,"method":"ping"}`, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			a := decodeAnswer(t, body)
			assert.Nil(t, a.Error, body)
			assert.Equal(t, id, string(a.ID))

			s := openSSESession(t, url)
			status, body := s.send(initBody(id))
			require.Equal(t, http.StatusAccepted, status, body)
			assert.Equal(t, id, string(decodeAnswer(t, s.next().data).ID))
		})
	}
	for _, id := range refused {
		t.Run("refused "+id, func(t *testing.T) {
			resp, body := send(t, "POST", url, `{"jsonrpc":"2.0","id":`+id+`,"method":"ping"}`, nil)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
			a := decodeAnswer(t, body)
			require.NotNil(t, a.Error, body)
			assert.Equal(t, rpcInvalidRequest, a.Error.Code)
			assert.JSONEq(t, "null", string(a.ID))
			assert.Contains(t, a.Error.Message, "id must be a string or an integer")

			s := openSSESession(t, url)
			status, body := s.send(initBody(id))
			require.Equal(t, http.StatusBadRequest, status, body)
			assert.Equal(t, rpcInvalidRequest, decodeAnswer(t, body).Error.Code)
		})
	}
}

// Every JSON-RPC error carries the code JSON-RPC gives its fault, on both
// transports: -32700 for a body that is not JSON, -32600 for JSON that is
// not a valid request (a request without the params it needs among them,
// as the go-sdk classes it), -32601 for a method the server does not
// have, -32602 for params it cannot read; never 0, and never -32000 for a
// fault of the message itself.
func TestJSONRPCErrorCodes(t *testing.T) {
	e := newEnv(t)
	_, url := e.MintURL(e.ConnectAccount("us"), map[string]any{})
	tests := []struct {
		name string
		body string
		code int
	}{
		{"not JSON", `{"jsonrpc":"2.0",`, rpcParseError},
		{"empty body", ``, rpcInvalidRequest},
		{"a string", `"x"`, rpcInvalidRequest},
		{"a number", `5`, rpcInvalidRequest},
		{"another version", `{"jsonrpc":"1.0","id":1,"method":"ping"}`, rpcInvalidRequest},
		{"no version", `{"id":1,"method":"ping"}`, rpcInvalidRequest},
		{"a method that is not a string", `{"jsonrpc":"2.0","id":1,"method":5}`, rpcInvalidRequest},
		{"a request without an id", `{"jsonrpc":"2.0","id":null,"method":"ping"}`, rpcInvalidRequest},
		{"an unknown method", `{"jsonrpc":"2.0","id":1,"method":"nope"}`, rpcMethodNotFound},
		{"initialize with a number for a string", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":5}}`, rpcInvalidParams},
		{"initialize with params that are not an object", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":"x"}`, rpcInvalidParams},
		{"initialize without params", `{"jsonrpc":"2.0","id":1,"method":"initialize"}`, rpcInvalidRequest},
		{"initialize with params null", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":null}`, rpcInvalidRequest},
		{"tools/call with params that are not an object", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"zz"}`, rpcInvalidParams},
	}
	for _, tt := range tests {
		t.Run("streamable "+tt.name, func(t *testing.T) {
			_, body := send(t, "POST", url, tt.body, nil)
			a := decodeAnswer(t, body)
			require.NotNil(t, a.Error, body)
			assert.Equal(t, tt.code, a.Error.Code, body)
		})
		t.Run("legacy SSE "+tt.name, func(t *testing.T) {
			s := openSSESession(t, url)
			if strings.Contains(tt.body, `"tools/call"`) {
				status, _ := s.send(initBody("0"))
				require.Equal(t, http.StatusAccepted, status)
				s.next()
			}
			status, body := s.send(tt.body)
			if status == http.StatusAccepted {
				body = s.next().data
			}
			a := decodeAnswer(t, body)
			require.NotNil(t, a.Error, body)
			assert.Equal(t, tt.code, a.Error.Code, body)
		})
	}
	t.Run("legacy SSE a request before initialize", func(t *testing.T) {
		s := openSSESession(t, url)
		status, _ := s.send(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
		require.Equal(t, http.StatusAccepted, status)
		a := decodeAnswer(t, s.next().data)
		require.NotNil(t, a.Error)
		assert.Equal(t, rpcInvalidRequest, a.Error.Code, "not 0")
	})
}

// maxMessage bounds what an error message may hold of the request, so
// that a 1 MiB request is not answered with a megabyte of echo.
const maxMessage = 512

// An error never echoes the request whole: a method name, a tool name or
// params of hundreds of kilobytes come back clipped, on both transports.
func TestErrorsDoNotEchoTheRequestWhole(t *testing.T) {
	e := newEnv(t)
	_, url := e.MintURL(e.ConnectAccount("us"), map[string]any{})
	big := strings.Repeat("é", 200_000)
	tests := []struct {
		name string
		body string
	}{
		{"an unknown method", `{"jsonrpc":"2.0","id":1,"method":"` + big + `"}`},
		{"an unknown tool", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + big + `"}}`},
		{"params that do not decode", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"` + big + `"}`},
		{"initialize params that do not decode", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":5,"x":"` + big + `"}}`},
		{"tools/list params that do not decode", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":["` + big + `"]}}`},
	}
	for _, tt := range tests {
		t.Run("streamable "+tt.name, func(t *testing.T) {
			_, body := send(t, "POST", url, tt.body, nil)
			a := decodeAnswer(t, body)
			require.NotNil(t, a.Error, body)
			assert.LessOrEqual(t, len(a.Error.Message), maxMessage)
			assert.Less(t, len(body), 2*maxMessage, "the whole answer is small")
			assert.True(t, json.Valid([]byte(body)))
		})
		t.Run("legacy SSE "+tt.name, func(t *testing.T) {
			s := openSSESession(t, url)
			if !strings.Contains(tt.body, `"initialize"`) {
				status, _ := s.send(initBody("0"))
				require.Equal(t, http.StatusAccepted, status)
				s.next()
			}
			status, body := s.send(tt.body)
			if status == http.StatusAccepted {
				body = s.next().data
			}
			a := decodeAnswer(t, body)
			require.NotNil(t, a.Error, body)
			assert.LessOrEqual(t, len(a.Error.Message), maxMessage)
			assert.Less(t, len(body), 2*maxMessage, "the whole answer is small")
		})
	}
}
