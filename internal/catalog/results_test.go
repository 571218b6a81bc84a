package catalog

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPageFillsToTheBudgetInCharacters: a page takes records while the
// result text, with the longest cursor, stays within the budget counted in
// characters (not bytes), and never more than limit records; a record
// larger than the budget is taken alone.
func TestPageFillsToTheBudgetInCharacters(t *testing.T) {
	recs := []json.RawMessage{
		json.RawMessage(`{"id":"1","full_name":"Jürgen Müller"}`),
		json.RawMessage(`{"id":"2","full_name":"東京 太郎"}`),
		json.RawMessage(`{"id":"3","full_name":"Ada"}`),
	}
	codec := &cursorCodec{key: bytes.Repeat([]byte{1}, 32)}
	cursor := codec.encode("t", "a", "k", 1<<30)
	require.Len(t, cursor, maxCursorLen, "every cursor has the same length")
	textOf := func(n int) int { return utf8.RuneCount(listResult(recs[:n], cursor)) }
	require.Less(t, textOf(2), len(listResult(recs[:2], cursor)), "the records are not ASCII: characters are fewer than bytes")

	tests := []struct {
		name          string
		limit, budget int
		want          int
	}{
		{"everything fits exactly", 10, textOf(3), 3},
		{"one character short", 10, textOf(3) - 1, 2},
		{"two fit", 10, textOf(2), 2},
		{"limit first", 2, 1 << 20, 2},
		{"one record over budget comes alone", 10, 10, 1},
		{"limit one", 1, 1 << 20, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPage(tt.limit, tt.budget)
			n := 0
			for _, r := range recs {
				if !p.add(r) {
					break
				}
				n++
			}
			assert.Equal(t, tt.want, n)
			assert.Len(t, p.records, n)
			assert.Equal(t, n == tt.limit, p.full())
			if n > 1 {
				assert.LessOrEqual(t, utf8.RuneCount(listResult(p.records, cursor)), tt.budget)
			}
			assert.False(t, p.add(recs[0]), "a closed page stays closed")
		})
	}
}
