//go:build !linux

package store

import "testing"

// mapPopulate is Linux only (see evict_linux_test.go).
const mapPopulate = 0

// evictFile is Linux only (posix_fadvise); elsewhere the benchmark skips.
func evictFile(tb testing.TB, _ string) {
	tb.Skip("dropping a file from the page cache is Linux only here")
}
