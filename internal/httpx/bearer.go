package httpx

import (
	"net/http"
	"strings"
)

// BearerToken returns the token of an `Authorization: Bearer <token>`
// header (the scheme is case-insensitive).
func BearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
