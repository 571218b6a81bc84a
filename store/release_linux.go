//go:build linux

package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// ReleaseMemory drops the database pages this process has read from its
// resident memory. bbolt reads through a shared, read-only memory map of
// the file, so a full walk (loading the token index at start-up) leaves
// every page it touched counted in the process's RSS. madvise(DONTNEED)
// unmaps them from this process only: the kernel keeps them in its page
// cache, and a later read faults the page back in without a disk read in
// the common case. Nothing read is lost and no write is affected (bbolt
// writes with pwrite, never through the map).
//
// It runs inside a read transaction, which holds bbolt's map lock, so the
// file cannot be remapped while the advice is given.
func (db *DB) ReleaseMemory() error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		info := db.bolt.Info()
		// Through Syscall rather than unix.Madvise: the map's address comes
		// from bbolt as a uintptr and is never turned into a Go pointer.
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, info.Data, uintptr(tx.Size()), unix.MADV_DONTNEED)
		if errno != 0 {
			return fmt.Errorf("store: release mapped pages: %w", errno)
		}
		return nil
	})
}
