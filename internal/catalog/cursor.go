package catalog

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
)

// cursorCodec makes next_cursor values opaque and bound to one tool, one
// account and one set of arguments: the position is signed with an
// HMAC over all of them, so a tampered or foreign cursor is refused.
type cursorCodec struct{ key []byte }

// cursorError is a next_cursor the server did not issue for this call.
type cursorError struct{ reason string }

func (e *cursorError) Error() string { return "next_cursor is not valid for this call: " + e.reason }

const cursorMacLen = 16

// cursorPrefix marks the cursors of this encoding; maxCursorLen is the
// length of every cursor it makes.
const cursorPrefix = "c1."

var maxCursorLen = len(cursorPrefix) + base64.RawURLEncoding.EncodedLen(8+cursorMacLen)

func (c *cursorCodec) mac(pos uint64, tool, account, args string) []byte {
	m := hmac.New(sha256.New, c.key)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], pos)
	m.Write(b[:])
	for _, s := range []string{tool, account, args} {
		m.Write([]byte{0})
		m.Write([]byte(s))
	}
	return m.Sum(nil)[:cursorMacLen]
}

func (c *cursorCodec) encode(tool, account, args string, pos int) string {
	buf := make([]byte, 8, 8+cursorMacLen)
	binary.BigEndian.PutUint64(buf, uint64(pos))
	buf = append(buf, c.mac(uint64(pos), tool, account, args)...)
	return cursorPrefix + base64.RawURLEncoding.EncodeToString(buf)
}

func (c *cursorCodec) decode(cursor, tool, account, args string) (int, error) {
	raw, ok := strings.CutPrefix(cursor, cursorPrefix)
	if !ok {
		return 0, &cursorError{"it was not issued by this server"}
	}
	buf, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(buf) != 8+cursorMacLen {
		return 0, &cursorError{"it is malformed"}
	}
	pos := binary.BigEndian.Uint64(buf[:8])
	if !hmac.Equal(buf[8:], c.mac(pos, tool, account, args)) {
		return 0, &cursorError{"it was altered, or it belongs to another tool, account or set of arguments"}
	}
	if pos > 1<<31 {
		return 0, &cursorError{"it is out of range"}
	}
	return int(pos), nil
}

var _ error = (*cursorError)(nil)
