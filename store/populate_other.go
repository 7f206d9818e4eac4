//go:build !linux

package store

// mmapFlags are bbolt's defaults, as on Linux (see populate_linux.go).
const mmapFlags = 0

// initialMmapSize is bbolt's default: on Windows, bbolt grows the file
// itself to what it maps.
const initialMmapSize = 0

// readahead is Linux only (see populate_linux.go); elsewhere pages are
// read as Load faults them.
func (db *DB) readahead() {}

// unmapPages is Linux only (see populate_linux.go).
func unmapPages(addr, size uintptr) {}
