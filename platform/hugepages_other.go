//go:build !linux

package platform

// HugeRoom does nothing outside Linux: see hugepages_linux.go.
func HugeRoom(n int) (int, error) { return 0, nil }

// HugeAdvise does nothing outside Linux.
func HugeAdvise(on bool) error { return nil }
