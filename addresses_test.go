package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestAddresses_OutsideTheMachinesSubnet keeps every address in the
// project's tests, fixtures and examples out of 192.0.2/24, the subnet of
// the machines the tests run on, which must never be blocked: attackers are
// 203.0.113.0/24, 198.51.100.0/24, 2001:db8::/32 and, for storms,
// 198.18.0.0/15. The files below use it on purpose, as the host's own
// address that every action must refuse, or say that it is never used.
func TestAddresses_OutsideTheMachinesSubnet(t *testing.T) {
	allowed := []string{
		"bench/README.md",
		"bench/cmd/tldbench/lines.go",
		"engine/match_test.go",
		"engine/target_test.go",
		"platform/actions/fuzz_test.go",
		"platform/actions/keys_test.go",
		"platform/actions/standalone_test.go",
		"platform/actions/testdata/standalone.golden",
		"platform/hostaddrs_test.go",
	}
	var found []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == ".git" || name == "dist" || name == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte("192.0.2"+".")) {
			found = append(found, filepath.ToSlash(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		if !slices.Contains(allowed, f) {
			t.Errorf("%s uses 192.0.2/24, this machine's own subnet: use 203.0.113.0/24 or 198.51.100.0/24", f)
		}
	}
}
