package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/bigin-mcp/bigin-mcp/internal/httpx"
	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// maxExactID is the largest integer id the go-sdk answers as sent: it
// reads a number as a float64, whose integers are exact up to 2^53 (the
// safe integers of JavaScript, which most clients are written in).
const maxExactID = 1<<53 - 1

// message is what checkMessage read of a POST's JSON-RPC message.
type message struct {
	// call is a request that the server answers: it has a method and an
	// id (a notification or a client's response has no answer).
	call bool
}

type messageKey struct{}

// messageFrom returns what checkMessage read of the request's message
// (nil for a request without a body).
func messageFrom(ctx context.Context) *message {
	m, _ := ctx.Value(messageKey{}).(*message)
	return m
}

// fault is a message refused before the go-sdk reads it, with its
// JSON-RPC error code.
type fault struct {
	rpc     int
	message string
}

// checkMessage admits a POST whose body is one JSON-RPC message that the
// go-sdk reads as it was sent, and refuses any other with JSON-RPC's code
// for its fault and the id null, before anything of it runs:
//   - a batch (a JSON array), on every protocol version and both
//     transports: the go-sdk runs a batch's elements at once and builds
//     the answer in memory, so one request could fan out into thousands
//     of Zoho calls; no client this server supports sends one;
//   - an id that is neither a string nor an integer of at most 53 bits
//     (the go-sdk would answer 1.5 as 1, 1e300 as -9223372036854775808);
//   - a "jsonrpc" other than "2.0", a method that is not a string, a
//     body that is not a JSON object.
func checkMessage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		m, f := readMessage(bodyFrom(r.Context()))
		if f != nil {
			writeRPCErrorCode(w, nil, f.rpc, http.StatusBadRequest, tokens.CodeInvalidArgument, f.message)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), messageKey{}, m)))
	})
}

// readMessage checks the envelope of one JSON-RPC message: what a
// message's params mean is the go-sdk's to check.
func readMessage(body []byte) (*message, *fault) {
	b := bytes.Trim(body, " \t\r\n")
	switch {
	case len(b) == 0:
		return nil, &fault{httpx.RPCInvalidRequest, "the body must hold one JSON-RPC message"}
	case !json.Valid(b):
		return nil, &fault{httpx.RPCParseError, "malformed payload: the body is not valid JSON"}
	case b[0] == '[':
		return nil, &fault{httpx.RPCInvalidRequest, "JSON-RPC batches are not accepted: send each message in a request of its own"}
	case b[0] != '{':
		return nil, &fault{httpx.RPCInvalidRequest, "the body must be one JSON-RPC message, a JSON object"}
	}
	// Members by their exact name, the last of duplicates winning, as the
	// go-sdk reads them.
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		return nil, &fault{httpx.RPCParseError, "malformed payload: the body is not valid JSON"}
	}
	var version string
	if json.Unmarshal(members["jsonrpc"], &version) != nil || version != "2.0" {
		return nil, &fault{httpx.RPCInvalidRequest, `the message must have "jsonrpc": "2.0"`}
	}
	id, hasID := members["id"]
	if hasID && !exactID(id) {
		return nil, &fault{httpx.RPCInvalidRequest, "the id must be a string or an integer of at most 53 bits (-9007199254740991 to 9007199254740991)"}
	}
	method, hasMethod := members["method"]
	if hasMethod && method[0] != '"' {
		return nil, &fault{httpx.RPCInvalidRequest, "the method must be a string"}
	}
	return &message{call: hasMethod && hasID && string(id) != "null"}, nil
}

// exactID reports whether the go-sdk answers a message with this id (a
// valid JSON value) with the same id, byte for byte: a string, an
// integer without fraction or exponent within ±2^53-1 (not -0), or null
// (no id, which the go-sdk judges by the method).
func exactID(id json.RawMessage) bool {
	switch c := id[0]; {
	case c == '"':
		return true
	case c == 'n':
		return string(id) == "null"
	case c != '-' && (c < '0' || c > '9'):
		return false
	}
	if bytes.ContainsAny(id, ".eE") || string(id) == "-0" {
		return false
	}
	n, err := strconv.ParseInt(string(id), 10, 64)
	return err == nil && n >= -maxExactID && n <= maxExactID
}
