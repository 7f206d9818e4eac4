//go:build !linux

package store

import "testing"

// evictFile is Linux only (posix_fadvise); elsewhere the benchmark skips.
func evictFile(tb testing.TB, _ string) {
	tb.Skip("dropping a file from the page cache is Linux only here")
}
