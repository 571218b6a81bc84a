//go:build !linux

package store

// ReleaseMemory drops the database pages this process has read from its
// resident memory. It is implemented on Linux only; elsewhere it does
// nothing and the kernel reclaims the mapped pages under memory pressure.
func (db *DB) ReleaseMemory() error { return nil }
