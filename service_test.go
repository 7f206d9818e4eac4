package main

import (
	"path/filepath"
	"slices"
	"testing"
)

func TestWithoutFlag(t *testing.T) {
	for _, tt := range []struct{ in, want []string }{
		{[]string{"--root", "/r", "--dry-run"}, []string{"--dry-run"}},
		{[]string{"--root=/r", "--alerts", "/a.json"}, []string{"--alerts", "/a.json"}},
		{[]string{"-root", "/r"}, nil},
		{[]string{"--agent-id", "005"}, []string{"--agent-id", "005"}},
		{[]string{"--alerts", "root"}, []string{"--alerts", "root"}},
	} {
		if got := withoutFlag(tt.in, "root"); !slices.Equal(got, tt.want) {
			t.Errorf("withoutFlag(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestServiceSpec: the service runs this binary with run, an absolute
// --root first, and the other flags as given.
func TestServiceSpec(t *testing.T) {
	s, err := serviceSpec("rel/root", []string{"--root", "rel/root", "--agent-id", "005"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Args[0] != "run" || s.Args[1] != "--root" || s.Args[2] != s.Root || !filepath.IsAbs(s.Root) ||
		!slices.Equal(s.Args[3:], []string{"--agent-id", "005"}) || s.Exec == "" {
		t.Errorf("spec %+v", s)
	}
}
