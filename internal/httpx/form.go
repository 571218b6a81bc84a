package httpx

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/bigin-mcp/bigin-mcp/tokens"
)

// ReadBody reads a request body of at most limit bytes. A body announced
// larger (Content-Length) is refused before any of it is read; one that
// turns out larger is refused at limit+1 bytes; one that runs past its
// deadline (BodyDeadline) is refused as slow. Its errors are *tokens.Error
// values: CodeTooLarge, CodeRequestTimeout or CodeInvalidArgument.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit, nil)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return nil, bodyError(limit, err)
	}
	return b, nil
}

// ParseForm parses an application/x-www-form-urlencoded request body of
// at most limit bytes into r.PostForm (and r.Form, with the query), with
// ReadBody's refusals: a body announced or found larger than limit is
// CodeTooLarge, a slow one CodeRequestTimeout, a malformed one
// CodeInvalidArgument. A body of another type is left unread, as
// http.Request.ParseForm leaves it.
func ParseForm(w http.ResponseWriter, r *http.Request, limit int64) error {
	if r.ContentLength > limit {
		return tooLarge(limit, nil)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		return bodyError(limit, err)
	}
	return nil
}

// bodyError classifies an error reading a body bounded by limit.
func bodyError(limit int64, err error) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return tooLarge(limit, err)
	case errors.Is(err, ErrBodyTimeout):
		return &tokens.Error{Code: tokens.CodeRequestTimeout, Message: bodyTimeoutMessage, Err: err}
	}
	return &tokens.Error{Code: tokens.CodeInvalidArgument, Message: "the request body could not be read as a form", Err: err}
}

func tooLarge(limit int64, err error) *tokens.Error {
	return &tokens.Error{Code: tokens.CodeTooLarge, Message: "the request body is over " + sizeText(limit), Err: err}
}

// sizeText writes a byte count as people read it: 64 KiB, 1 MiB.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
