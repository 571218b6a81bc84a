package mcp

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
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

// writeRPCError answers a refused request with a JSON-RPC error whose data
// holds the HTTP status and the error code (not_found, too_large, …); the
// code gives the status and the JSON-RPC code (httpx.StatusOf,
// httpx.RPCCodeOf). The message must never hold a token or secret.
func writeRPCError(w http.ResponseWriter, id json.RawMessage, code, message string) {
	writeRPCErrorStatus(w, id, httpx.StatusOf(code), code, message)
}

// writeRPCErrorStatus is writeRPCError with an explicit status, for a
// refusal the vocabulary has no code of its own for. A 401 carries
// WWW-Authenticate unless the caller set one.
func writeRPCErrorStatus(w http.ResponseWriter, id json.RawMessage, status int, code, message string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		h.Set("WWW-Authenticate", `Bearer realm="bigin-mcp"`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(rpcErrorBody(id, httpx.RPCCodeOf(code), status, code, message))
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
	code := httpx.CodeOf(w.status)
	rpc := httpx.RPCCodeOf(code)
	if strings.HasPrefix(msg, "malformed payload") || msg == "failed to parse body" {
		rpc = httpx.RPCParseError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.ResponseWriter.WriteHeader(w.status)
	_, _ = w.ResponseWriter.Write(rpcErrorBody(w.id, rpc, w.status, code, msg))
}
