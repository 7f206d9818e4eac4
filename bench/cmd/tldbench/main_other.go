//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "tldbench: Linux only (network namespaces, nftables)")
	os.Exit(1)
}
