package platform

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/platform/actions"
)

// split hands the built-ins their entries and returns the scripts'; a
// table of built-ins only is passed on as it is, not copied.
func TestSplit(t *testing.T) {
	root := t.TempDir()
	bin := filepath.Join(root, "active-response", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "my-script"), []byte("#!/bin/sh\n"), 0o750); err != nil {
		t.Fatal(err)
	}
	r := &Runner{Root: root, Builtins: actions.NewRunner(actions.Config{}, nil)}
	defer r.Close()
	entry := func(exe string) engine.Entry {
		return engine.Entry{Key: exe, Command: &engine.Command{Executable: exe}}
	}

	all := []engine.Entry{entry("firewall-drop"), entry("route-null"), entry("firewall-drop")}
	mine, rest := split(r, all)
	if len(rest) != 0 || len(mine) != len(all) || &mine[0] != &all[0] {
		t.Errorf("all built-ins: mine %d (shared %v), rest %d; want the same slice back", len(mine), &mine[0] == &all[0], len(rest))
	}

	mixed := []*engine.Entry{ptr(entry("firewall-drop")), ptr(entry("my-script")), ptr(entry("route-null")), ptr(entry("my-script"))}
	pm, pr := split(r, mixed)
	if !slices.Equal(pm, []*engine.Entry{mixed[0], mixed[2]}) || !slices.Equal(pr, []*engine.Entry{mixed[1], mixed[3]}) {
		t.Errorf("mixed: mine %v, rest %v", keysOf(pm), keysOf(pr))
	}
}

func ptr[T any](v T) *T { return &v }

func keysOf(es []*engine.Entry) []string {
	var ks []string
	for _, e := range es {
		ks = append(ks, e.Key)
	}
	return ks
}
