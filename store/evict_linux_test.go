package store

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// mapPopulate is the flag that maps a whole file at once, for benchmarks
// that compare it with mapping as Open does.
const mapPopulate = unix.MAP_POPULATE

// evictFile drops path's pages from the page cache, as a reboot does. The
// file must be closed (mapped pages stay) and its pages clean (bbolt
// fsyncs every commit). Only this file is affected.
func evictFile(tb testing.TB, path string) {
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		tb.Fatal(err)
	}
}
