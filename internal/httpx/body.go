package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

func invalidf(format string, args ...any) *tokens.Error {
	return &tokens.Error{Code: tokens.CodeInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

// DecodeBody decodes a JSON request body of at most MaxBodyBytes into dst,
// refusing unknown fields and trailing data; a body that ran past its
// deadline (BodyDeadline) is a request_timeout error. Its errors are *tokens.Error
// values whose messages say what to fix.
func DecodeBody(w http.ResponseWriter, r *http.Request, dst any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &tokens.Error{Code: tokens.CodeUnsupportedMediaType, Message: "Content-Type must be application/json"}
	}
	if r.ContentLength > MaxBodyBytes {
		return &tokens.Error{Code: tokens.CodeTooLarge, Message: "request body is over 1 MiB"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if errors.Is(err, io.EOF) {
			err = errEmptyBody
		}
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) || errors.Is(err, ErrBodyTimeout) {
			return decodeError(err)
		}
		return invalidf("the request body must hold exactly one JSON object")
	}
	return nil
}

var errEmptyBody = errors.New("empty body")

// decodeError explains why a request body could not be decoded.
func decodeError(err error) error {
	var mbe *http.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return &tokens.Error{Code: tokens.CodeTooLarge, Message: "request body is over 1 MiB", Err: err}
	case errors.Is(err, ErrBodyTimeout):
		return &tokens.Error{Code: tokens.CodeRequestTimeout, Message: bodyTimeoutMessage, Err: err}
	case errors.As(err, &se):
		return invalidf("malformed JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return invalidf("the request body must be a JSON object, not %s", article(te.Value))
		}
		return invalidf("field %q must be %s, not %s", field, kindOf(te.Type), article(te.Value))
	case errors.Is(err, errEmptyBody):
		return invalidf("the request body is empty; send a JSON object")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return invalidf("unknown field %s in the request body", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	var e *tokens.Error
	if errors.As(err, &e) { // from a field's own UnmarshalJSON
		return e
	}
	return invalidf("malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func article(jsonKind string) string {
	switch jsonKind {
	case "array", "object":
		return "an " + jsonKind
	case "":
		return "that"
	}
	return "a " + jsonKind
}

func kindOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(kindOf(t.Elem()), "a "), "an ") + "s"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	}
	return "of another type"
}
