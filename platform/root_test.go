package platform

import (
	"errors"
	"runtime"
	"testing"
	"time"
)

func TestDefaultRootFor(t *testing.T) {
	for goos, want := range map[string]string{
		"linux":   "/var/ossec",
		"freebsd": "/var/ossec",
		"darwin":  "/Library/Ossec",
		"windows": `C:\Program Files (x86)\ossec-agent`,
	} {
		if got := defaultRootFor(goos); got != want {
			t.Errorf("defaultRootFor(%s) = %q, want %q", goos, got, want)
		}
	}
	if DefaultRoot() != defaultRootFor(runtime.GOOS) {
		t.Error("DefaultRoot disagrees with defaultRootFor")
	}
}

func TestBootIDFromTime(t *testing.T) {
	boot := time.Unix(1700000003, 0)
	a := bootIDFromTime(boot.Add(-40*time.Millisecond), 10*time.Second)
	b := bootIDFromTime(boot.Add(30*time.Millisecond), 10*time.Second)
	if a != "boot-1700000000" || a != b {
		t.Errorf("ids = %q, %q; want boot-1700000000 twice", a, b)
	}
	if got := bootIDFromTime(time.Unix(1700000000, 123456000), 0); got != "boot-1700000000.123456" {
		t.Errorf("exact id = %q", got)
	}
}

func TestParseBootID(t *testing.T) {
	if id, ok := parseBootID([]byte("0f6a1e3c-1111-2222-3333-444455556666\n")); !ok || id != "0f6a1e3c-1111-2222-3333-444455556666" {
		t.Errorf("parseBootID = %q, %v", id, ok)
	}
	if _, ok := parseBootID([]byte(" \n")); ok {
		t.Error("empty boot id accepted")
	}
}

func TestBootID(t *testing.T) {
	a, err := BootID()
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("no boot id on %s: %v", runtime.GOOS, err)
	}
	if err != nil || a == "" {
		t.Fatalf("BootID = %q, %v", a, err)
	}
	if b, _ := BootID(); b != a {
		t.Errorf("BootID changed: %q then %q", a, b)
	}
}
