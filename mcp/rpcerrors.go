package mcp

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

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
// refusal the vocabulary has no code of its own for.
func writeRPCErrorStatus(w http.ResponseWriter, id json.RawMessage, status int, code, message string) {
	writeRPCErrorCode(w, id, httpx.RPCCodeOf(code), status, code, message)
}

// writeRPCErrorCode is writeRPCErrorStatus with an explicit JSON-RPC
// code, for a fault of the message itself (httpx.RPCInvalidRequest, …).
// A 401 carries WWW-Authenticate, and an unavailable answer Retry-After,
// unless the caller set one.
func writeRPCErrorCode(w http.ResponseWriter, id json.RawMessage, rpcCode, status int, code, message string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "" {
		h.Set("WWW-Authenticate", `Bearer realm="bigin-mcp"`)
	}
	if ra := httpx.RetryAfterOf(code); ra != "" && h.Get("Retry-After") == "" {
		h.Set("Retry-After", ra)
	}
	w.WriteHeader(status)
	_, _ = w.Write(rpcErrorBody(id, rpcCode, status, code, message))
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
// session) into JSON-RPC errors a client can show, and the JSON-RPC
// errors the go-sdk writes, in a JSON answer or an event stream, into
// ones a client can rely on (tidyMessage). Everything else passes
// through untouched.
type rpcErrorWriter struct {
	http.ResponseWriter
	id        json.RawMessage
	status    int          // captured 4xx status, 0 while passing through
	msg       bytes.Buffer // the captured plain-text message
	wroteHead bool
	sent      int // the status of the answer, once its header is written
}

// statusCode returns the status of the answer (200 for one that wrote
// nothing).
func (w *rpcErrorWriter) statusCode() int {
	if w.sent == 0 {
		return http.StatusOK
	}
	return w.sent
}

func (w *rpcErrorWriter) WriteHeader(status int) {
	if w.wroteHead {
		return
	}
	w.wroteHead = true
	w.sent = status
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
	if tidy := tidyWrite(w.Header().Get("Content-Type"), b); tidy != nil {
		if _, err := w.ResponseWriter.Write(tidy); err != nil {
			return 0, err
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
	switch {
	case strings.HasPrefix(msg, "malformed payload") || msg == "failed to parse body":
		rpc = httpx.RPCParseError
	case strings.HasPrefix(msg, "JSON RPC not handled"): // jsonrpc2.ErrNotHandled: no such method
		rpc = httpx.RPCMethodNotFound
	case strings.HasPrefix(msg, "invalid request"): // jsonrpc2.ErrInvalidRequest: a request without its id, …
		rpc = httpx.RPCInvalidRequest
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.ResponseWriter.WriteHeader(w.status)
	_, _ = w.ResponseWriter.Write(rpcErrorBody(w.id, rpc, w.status, code, clipText(msg, maxErrorMessage)))
}

// Bounds on what a JSON-RPC error the go-sdk writes may hold: its
// messages quote what they could not read (a method or tool name, whole
// params), which may be most of a 1 MiB request.
const (
	maxErrorMessage = 512  // bytes of message, clipped beyond
	maxErrorData    = 1024 // bytes of data, left out beyond
)

// clipText returns s cut to at most max bytes on a character boundary,
// with "…" in place of what was cut.
func clipText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// errorMarker is in every JSON-RPC error message: a write without it
// passes through without being parsed.
var errorMarker = []byte(`"error"`)

// tidyWrite returns what to write instead of b, one write of the go-sdk
// to a response of content type ct, or nil to write b as it is: a JSON
// answer (one message or an array of them) or an event of a stream (the
// go-sdk writes each whole), whose JSON-RPC errors tidyMessage changes.
func tidyWrite(ct string, b []byte) []byte {
	if !bytes.Contains(b, errorMarker) {
		return nil
	}
	switch {
	case strings.HasPrefix(ct, "application/json"):
		return tidyJSON(b)
	case strings.HasPrefix(ct, "text/event-stream"):
		start := 0
		if !bytes.HasPrefix(b, []byte("data: ")) {
			i := bytes.Index(b, []byte("\ndata: "))
			if i < 0 {
				return nil
			}
			start = i + 1
		}
		data := b[start+len("data: "):]
		end := bytes.IndexByte(data, '\n')
		if end < 0 {
			return nil
		}
		tidy := tidyJSON(data[:end])
		if tidy == nil {
			return nil
		}
		out := make([]byte, 0, start+len("data: ")+len(tidy)+len(data)-end)
		out = append(out, b[:start+len("data: ")]...)
		out = append(out, tidy...)
		return append(out, data[end:]...)
	}
	return nil
}

// tidyJSON is tidyMessage for one message or an array of them.
func tidyJSON(b []byte) []byte {
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) == 0 || t[0] != '[' {
		return tidyMessage(b)
	}
	var msgs []json.RawMessage
	if json.Unmarshal(b, &msgs) != nil {
		return nil
	}
	changed := false
	for i, m := range msgs {
		if tidy := tidyMessage(m); tidy != nil {
			msgs[i], changed = tidy, true
		}
	}
	if !changed {
		return nil
	}
	out, err := json.Marshal(msgs)
	if err != nil {
		return nil
	}
	return out
}

// tidyMessage returns msg, a JSON-RPC message the go-sdk wrote, with its
// error fit for a client, or nil when it needs no change (or is no error
// response): the message clipped to maxErrorMessage, data larger than
// maxErrorData left out, and code 0 (a plain Go error the go-sdk put on
// the wire as it was) replaced by the JSON-RPC code of its fault.
func tidyMessage(msg []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(msg))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	isError := false
	for !isError && dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil
		}
		switch key {
		case "result", "method", "params": // not an error; its members are not read
			return nil
		case "error":
			isError = true
		default:
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return nil
			}
		}
	}
	if !isError {
		return nil
	}
	var m struct {
		ID    json.RawMessage `json:"id"`
		Error struct {
			Code    int64           `json:"code"`
			Message string          `json:"message"`
			Data    json.RawMessage `json:"data"`
		} `json:"error"`
	}
	if json.Unmarshal(msg, &m) != nil {
		return nil
	}
	code, text, data := m.Error.Code, clipText(m.Error.Message, maxErrorMessage), m.Error.Data
	if code == 0 {
		code = plainErrorCode(m.Error.Message)
	}
	if len(data) > maxErrorData {
		data = nil
	}
	if code == m.Error.Code && text == m.Error.Message && len(data) == len(m.Error.Data) {
		return nil
	}
	if len(m.ID) == 0 {
		m.ID = json.RawMessage("null")
	}
	out, err := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   any             `json:"error"`
	}{"2.0", m.ID, struct {
		Code    int64           `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data,omitempty"`
	}{code, text, data}})
	if err != nil {
		return nil
	}
	return out
}

// plainErrorCode is the JSON-RPC code of an error the go-sdk sends with
// code 0, by its text: params it could not read (initialize's, whose
// reading the go-sdk does not mark as invalid params); an initialize
// whose params are null or a request before the session is initialized
// (invalid requests, as the go-sdk classes a request without params for
// every other method); a method it does not have; any other is a failure
// of the server's own.
func plainErrorCode(msg string) int64 {
	switch {
	case strings.HasSuffix(msg, `missing required "params"`), strings.Contains(msg, "invalid during session initialization"):
		return httpx.RPCInvalidRequest
	case strings.HasPrefix(msg, "handling '"):
		return httpx.RPCInvalidParams
	case strings.HasPrefix(msg, "JSON RPC not handled"):
		return httpx.RPCMethodNotFound
	}
	return httpx.RPCInternalError
}
