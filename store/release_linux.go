//go:build linux

package store

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// ReleaseMemory drops the database pages this process has read from its
// resident memory. bbolt reads through a shared, read-only memory map of
// the file, so a full walk (loading the token index at start-up) leaves
// every page it touched counted in the process's RSS, and so does every
// write, since bbolt copies the pages it changes. madvise(DONTNEED) unmaps
// them from this process only: the kernel keeps them in its page cache,
// and a later read faults the page back in without a disk read in the
// common case. Nothing read is lost and no write is affected (bbolt writes
// with pwrite, never through the map).
//
// It runs inside a read transaction, which holds bbolt's map lock, so the
// file cannot be remapped while the advice is given, and it never advises
// past the end of the map as the kernel reports it: a length taken only
// from the database's own header could, were the file damaged, reach into
// the memory next to the map.
func (db *DB) ReleaseMemory() error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		base := db.bolt.Info().Data
		mapped, err := mappingLen(base)
		if err != nil {
			return fmt.Errorf("store: release mapped pages: %w", err)
		}
		n := min(uintptr(tx.Size()), mapped)
		// Through Syscall rather than unix.Madvise: the map's address comes
		// from bbolt as a uintptr and is never turned into a Go pointer.
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, base, n, unix.MADV_DONTNEED); errno != 0 {
			return fmt.Errorf("store: release mapped pages: %w", errno)
		}
		return nil
	})
}

// mappingLen returns the length of this process's memory mapping that
// starts at addr, from /proc/self/maps.
func mappingLen(addr uintptr) (uintptr, error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "start-end perms offset dev inode path", addresses in hex.
		span, _, _ := strings.Cut(sc.Text(), " ")
		lo, hi, ok := strings.Cut(span, "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 == nil && err2 == nil && uintptr(start) == addr && end > start {
			return uintptr(end - start), nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("the database map is not in /proc/self/maps")
}
