package procstat

import (
	"os"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStatusKB(t *testing.T) {
	if runtime.GOOS != "linux" {
		_, err := StatusKB(Self, "VmRSS")
		assert.Error(t, err, "no /proc here")
		return
	}
	rss, err := StatusKB(Self, "VmRSS")
	require.NoError(t, err)
	anon, err := StatusKB(os.Getpid(), "RssAnon")
	require.NoError(t, err)
	file, err := StatusKB(Self, "RssFile")
	require.NoError(t, err)
	assert.Positive(t, rss)
	assert.Positive(t, anon)
	assert.Positive(t, file, "the test binary itself is mapped")
	assert.LessOrEqual(t, anon, rss)

	_, err = StatusKB(Self, "NoSuchField")
	assert.Error(t, err)
	_, err = StatusKB(-5, "VmRSS")
	assert.Error(t, err)
}
