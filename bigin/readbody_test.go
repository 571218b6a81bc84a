package bigin

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadGrowingReadsEverything(t *testing.T) {
	t.Parallel()
	for _, size := range []int{0, 1, firstRead - 1, firstRead, firstRead + 1, 100_000, 3*firstRead + 7} {
		data := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		for name, r := range map[string]func() io.Reader{
			"whole":    func() io.Reader { return bytes.NewReader(data) },
			"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
			"halves":   func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
			"data+EOF": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(data)) },
		} {
			got, err := readGrowing(r())
			require.NoError(t, err, "%d bytes, %s", size, name)
			assert.Equal(t, data, got, "%d bytes, %s", size, name)
		}
	}
}

func TestReadGrowingPassesErrorsOn(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	_, err := readGrowing(io.MultiReader(bytes.NewReader(make([]byte, 40_000)), iotest.ErrReader(boom)))
	assert.ErrorIs(t, err, boom)
}

// A page of 100 users without a Content-Length is read in a handful of
// allocations, fewer than half of io.ReadAll's.
func TestReadGrowingAllocations(t *testing.T) { // not parallel: AllocsPerRun counts the whole process's allocations
	data := make([]byte, 100_000)
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := readGrowing(bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	})
	all := testing.AllocsPerRun(20, func() { io.ReadAll(bytes.NewReader(data)) })
	t.Logf("readGrowing: %.0f allocations, io.ReadAll: %.0f", allocs, all)
	// Relative, since the race detector adds allocations of its own
	// (4 against 18 without it, 6 against 32 with it).
	assert.Less(t, allocs, all/2)
}
