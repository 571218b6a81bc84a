// Package procstat reads a process's memory figures from Linux's
// /proc/<pid>/status. The load tool reports them, and the tests that check
// memory is given back to the OS assert on them; both need the same
// parsing, and neither belongs in the server's packages.
package procstat

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Self is the pid that names the calling process.
const Self = 0

// StatusKB reads one kB field of /proc/<pid>/status, such as "VmRSS"
// (all resident memory), "RssAnon" (the process's own) or "RssFile"
// (pages of mapped files: the binary, a memory-mapped database). It fails
// where there is no /proc (any system but Linux).
func StatusKB(pid int, field string) (int, error) {
	path := "/proc/self/status"
	if pid != Self {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
	return 0, errors.New("procstat: no " + field + " in " + path)
}
