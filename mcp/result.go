package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"unicode/utf8"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// structuredOnlyVersion is the first protocol version whose clients get a
// successful result's structuredContent without the text block that
// repeats it, when Options.StructuredOnly allows: 2026-07-28 made
// structuredContent any JSON value (SEP-2106), the result itself.
const structuredOnlyVersion = "2026-07-28"

// encoded is a tool result's structured content as the catalog encoded
// it: valid JSON, built from bytes validated when Zoho's answer was read.
// The text block that repeats it is text followed by those bytes.
//
// A tool handler returns it as the StructuredContent of a result with no
// Content; the server's middleware (writeOnce) turns that result into a
// wireResult, which writes both blocks in one pass.
type encoded struct {
	text string // what precedes the JSON in the text block ("" on success)
	body []byte
	// textAlways keeps the text block whatever structuredOnly says: the
	// tool's clients read its result there (ChatGPT's search and fetch).
	textAlways bool
}

// MarshalJSON returns the structured content's bytes as they are.
func (e *encoded) MarshalJSON() ([]byte, error) { return e.body, nil }

// writeOnce is the receiving middleware of every server: it hands the
// go-sdk a tools/call result that encodes itself in one pass (see
// wireResult) and, when structuredOnly is set, leaves the text block out
// of successful results for clients on structuredOnlyVersion or later.
func writeOnce(structuredOnly bool) sdk.Middleware {
	return func(next sdk.MethodHandler) sdk.MethodHandler {
		return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
			res, err := next(ctx, method, req)
			ctr, ok := res.(*sdk.CallToolResult)
			if err != nil || !ok {
				return res, err
			}
			enc, ok := ctr.StructuredContent.(*encoded)
			if !ok {
				return res, err
			}
			text := true
			if structuredOnly && !ctr.IsError && !enc.textAlways {
				if r, ok := req.(*sdk.CallToolRequest); ok && r.ProtocolVersion() >= structuredOnlyVersion {
					text = false
				}
			}
			return &wireResult{CallToolResult: ctr, enc: enc, text: text}, nil
		}
	}
}

// wireResult is a tools/call result whose JSON is written once: the text
// block's escaping and the structured content's raw bytes in one buffer,
// with no reflection over them and no re-validation of bytes already
// known valid. Everything else (_meta, isError, the result type of newer
// protocols) is encoded by the go-sdk itself.
type wireResult struct {
	*sdk.CallToolResult
	enc  *encoded
	text bool // write the text block
}

// contentNull is how the go-sdk writes a result without content.
var contentNull = []byte(`"content":null`)

// MarshalJSON writes {…,"content":[{"type":"text","text":"…"}],
// "structuredContent":…,…}: the go-sdk's encoding of the result's other
// fields with content and structured content spliced in. Should the
// go-sdk ever lay its fields out otherwise, the result is encoded the
// go-sdk's way instead.
func (w *wireResult) MarshalJSON() ([]byte, error) {
	rest := *w.CallToolResult
	rest.Content, rest.StructuredContent = nil, nil
	head, err := rest.MarshalJSON()
	if err != nil {
		return nil, err
	}
	at := contentAt(head, rest.Meta)
	if at < 0 {
		return w.sdkEncoding()
	}
	n := len(head) + len(w.enc.body) + 64
	if w.text {
		n += len(w.enc.text) + len(w.enc.body) + len(w.enc.body)/8
	}
	b := make([]byte, 0, n)
	b = append(b, head[:at]...)
	b = append(b, `"content":[`...)
	if w.text {
		b = append(b, `{"type":"text","text":"`...)
		b = appendEscaped(b, []byte(w.enc.text))
		b = appendEscaped(b, w.enc.body)
		b = append(b, `"}`...)
	}
	b = append(b, `],"structuredContent":`...)
	b = append(b, w.enc.body...)
	return append(b, head[at+len(contentNull):]...), nil
}

// contentAt returns where "content":null is in head, the go-sdk's
// encoding of a result with meta and no content: right after the
// opening brace, or after _meta when there is one; -1 if it is not there.
func contentAt(head []byte, meta sdk.Meta) int {
	prefix := []byte("{")
	if len(meta) > 0 {
		m, err := json.Marshal(map[string]any(meta))
		if err != nil {
			return -1
		}
		prefix = append(append([]byte(`{"_meta":`), m...), ',')
	}
	if !bytes.HasPrefix(head, prefix) || !bytes.HasPrefix(head[len(prefix):], contentNull) {
		return -1
	}
	return len(prefix)
}

// sdkEncoding encodes the result the go-sdk's way.
func (w *wireResult) sdkEncoding() ([]byte, error) {
	r := *w.CallToolResult
	r.StructuredContent = json.RawMessage(w.enc.body)
	r.Content = []sdk.Content{}
	if w.text {
		r.Content = []sdk.Content{&sdk.TextContent{Text: w.enc.text + string(w.enc.body)}}
	}
	return r.MarshalJSON()
}

// safe marks the ASCII bytes a JSON string holds as they are.
var safe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendEscaped appends s as the inside of a JSON string, as
// encoding/json writes it without HTML escaping: quotes, backslashes and
// control characters escaped, invalid UTF-8 as U+FFFD, and U+2028 and
// U+2029 escaped for JavaScript.
func appendEscaped(b, s []byte) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}
