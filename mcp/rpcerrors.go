package mcp

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// JSON-RPC error codes of requests refused before they reach a server,
// following the TypeScript SDK's servers: -32700 for a body that is not
// JSON, -32001 for what is not there (an unknown URL or session), -32000
// for every other refusal. The data member carries the HTTP status and
// the error code of the admin API (not_found, too_large, …).
const (
	rpcParseError = -32700
	rpcNotFound   = -32001
	rpcRefused    = -32000
)

// rpcErrorBody is a JSON-RPC error response: id is the request's id (a
// JSON string or number) or null when there is none.
func rpcErrorBody(id json.RawMessage, rpcCode int, status int, code, message string) []byte {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	b, _ := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   any             `json:"error"`
	}{"2.0", id, struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    any    `json:"data"`
	}{rpcCode, message, struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
	}{status, code}}})
	return append(b, '\n')
}

// writeRPCError answers with a JSON-RPC error and the HTTP status. The
// message must never hold a token or secret.
func writeRPCError(w http.ResponseWriter, id json.RawMessage, status int, code, message string) {
	rpc := rpcRefused
	if status == http.StatusNotFound {
		rpc = rpcNotFound
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		h.Set("WWW-Authenticate", `Bearer realm="bigin-mcp"`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(rpcErrorBody(id, rpc, status, code, message))
}

// requestID returns the id of a single JSON-RPC message in body (a string
// or a number), or nil.
func requestID(body []byte) json.RawMessage {
	var msg struct {
		ID json.RawMessage `json:"id"`
	}
	if b := bytes.TrimSpace(body); len(b) == 0 || b[0] != '{' {
		return nil
	}
	if json.Unmarshal(body, &msg) != nil || len(msg.ID) == 0 {
		return nil
	}
	switch c := msg.ID[0]; {
	case c == '"', c == '-', c >= '0' && c <= '9':
		return msg.ID
	}
	return nil
}

// codeOfStatus is the admin API's error code for a status the go-sdk
// answers with.
func codeOfStatus(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return tokens.CodeUnauthenticated
	case http.StatusForbidden:
		return tokens.CodePermissionDenied
	case http.StatusNotFound:
		return tokens.CodeNotFound
	case http.StatusRequestEntityTooLarge:
		return tokens.CodeTooLarge
	case http.StatusUnsupportedMediaType:
		return tokens.CodeUnsupportedMediaType
	case http.StatusTooManyRequests:
		return tokens.CodeRateLimited
	}
	return tokens.CodeInvalidArgument
}

// rpcErrorWriter turns the go-sdk's plain-text 4xx answers (http.Error:
// an unsupported protocol version, a malformed payload, an unknown
// session) into JSON-RPC errors a client can show. Everything else,
// JSON-RPC answers and event streams alike, passes through untouched.
type rpcErrorWriter struct {
	http.ResponseWriter
	id        json.RawMessage
	status    int          // captured 4xx status, 0 while passing through
	msg       bytes.Buffer // the captured plain-text message
	wroteHead bool
}

func (w *rpcErrorWriter) WriteHeader(status int) {
	if w.wroteHead {
		return
	}
	w.wroteHead = true
	ct := w.Header().Get("Content-Type")
	if status >= 400 && status < 500 && strings.HasPrefix(ct, "text/plain") {
		w.status = status
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *rpcErrorWriter) Write(b []byte) (int, error) {
	if !w.wroteHead {
		w.WriteHeader(http.StatusOK)
	}
	if w.status != 0 {
		if w.msg.Len() < 4096 {
			w.msg.Write(b)
		}
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Flush passes a flush on unless an error is being captured.
func (w *rpcErrorWriter) Flush() {
	if w.status != 0 {
		return
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *rpcErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// finish writes the captured error, if any, as a JSON-RPC error.
func (w *rpcErrorWriter) finish() {
	if w.status == 0 {
		return
	}
	msg := strings.TrimSpace(w.msg.String())
	if msg == "" {
		msg = http.StatusText(w.status)
	}
	rpc := rpcRefused
	switch {
	case w.status == http.StatusNotFound:
		rpc = rpcNotFound
	case strings.HasPrefix(msg, "malformed payload"), msg == "failed to parse body":
		rpc = rpcParseError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.ResponseWriter.WriteHeader(w.status)
	_, _ = w.ResponseWriter.Write(rpcErrorBody(w.id, rpc, w.status, codeOfStatus(w.status), msg))
}
