package actions

import "testing"

// TestBuiltin_Windows checks the Windows names, with or without ".exe" and
// in any case, and that the default Execer becomes WinExec.
func TestBuiltin_Windows(t *testing.T) {
	for _, name := range []string{"netsh.exe", "NETSH.EXE", "netsh"} {
		a, ok := New(name, Config{})
		n, isNetsh := a.(*Netsh)
		if !ok || !isNetsh {
			t.Fatalf("New(%q) = %T, %v", name, a, ok)
		}
		if _, ok := n.exec.(WinExec); !ok {
			t.Errorf("New(%q) runs with %T, want WinExec", name, n.exec)
		}
	}
	if a, ok := New("route-null.exe", Config{}); !ok || a.Name() != "route-null.exe" {
		t.Errorf("New(route-null.exe) = %v, %v", a, ok)
	}
	f := newXOSFake()
	if a, _ := New("netsh", Config{Exec: f}); a.(*Netsh).exec != Execer(f) {
		t.Error("a given Execer was replaced")
	}
	if _, ok := New("firewall-drop", Config{}); ok {
		t.Error("firewall-drop exists on Windows")
	}
}
