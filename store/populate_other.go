//go:build !linux

package store

// mmapFlags is Linux only (see populate_linux.go); elsewhere pages fault in
// as they are first used.
const mmapFlags = 0

// unmapPages is Linux only (see populate_linux.go).
func (db *DB) unmapPages() {}
