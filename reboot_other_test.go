//go:build !linux

package main

import "testing"

// BenchmarkReboot100k is Linux only (see reboot_linux_test.go).
func BenchmarkReboot100k(b *testing.B) {
	b.Skip("Linux only: re-asserts into nftables inside a network namespace")
}
