//go:build !linux

package store

// mmapFlags are bbolt's defaults, as on Linux (see populate_linux.go).
const mmapFlags = 0

// readahead is Linux only (see populate_linux.go); elsewhere pages are
// read as Load faults them.
func (db *DB) readahead() {}

// unmapPages is Linux only (see populate_linux.go).
func unmapPages(addr, size uintptr) {}
