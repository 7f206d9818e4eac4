//go:build !windows

package actions

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestHostDeny_ExactLine(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hosts.deny")
	neighbours := "# ALL:1.2.3.4 was here\nALL:1.2.3.45\nsshd: 1.2.3.4 EXCEPT 1.2.3.4/32\n"
	if err := os.WriteFile(path, []byte(neighbours), 0o640); err != nil {
		t.Fatal(err)
	}
	h := &HostDeny{Path: path}
	tgt := Target{Addr: netip.MustParseAddr("1.2.3.4")}
	for range 2 {
		if err := h.Add(ctx, tgt, noExpiry); err != nil {
			t.Fatal(err)
		}
	}
	assertFile(t, path, neighbours+"ALL:1.2.3.4\n")
	for range 2 {
		if err := h.Delete(ctx, tgt); err != nil {
			t.Fatal(err)
		}
	}
	assertFile(t, path, neighbours)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode not kept: %v %v", fi.Mode(), err)
	}
}

func TestHostDeny_Files(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h := &HostDeny{Path: filepath.Join(dir, "hosts.deny")}
	v6 := Target{Addr: netip.MustParseAddr("2001:db8::7")}
	if err := h.Delete(ctx, v6); err != nil {
		t.Errorf("delete without file: %v", err)
	}
	if _, err := os.Stat(h.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("delete created the file: %v", err)
	}
	if err := h.Add(ctx, v6, noExpiry); err != nil {
		t.Fatal(err)
	}
	assertFile(t, h.Path, "ALL:[2001:db8::7]\n")

	os.WriteFile(h.Path, []byte("ALL:10.0.0.1"), 0o644) // no final newline
	if err := h.Add(ctx, v6, noExpiry); err != nil {
		t.Fatal(err)
	}
	assertFile(t, h.Path, "ALL:10.0.0.1\nALL:[2001:db8::7]\n")
	if err := h.Add(ctx, Target{}, noExpiry); !errors.Is(err, ErrInvalidTarget) {
		t.Errorf("no address: %v", err)
	}
}

func TestHostDeny_Concurrent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hosts.deny")
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			// separate values, as separate processes would have
			h := &HostDeny{Path: path}
			a := netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})
			if err := h.Add(ctx, Target{Addr: a}, noExpiry); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	b, _ := os.ReadFile(path)
	if n := len(splitLines(string(b))); n != 50 {
		t.Errorf("%d lines after 50 concurrent adds", n)
	}
}

func assertFile(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("%s:\n got %q\nwant %q", path, b, want)
	}
}

func splitLines(s string) []string {
	var out []string
	for l := range strings.Lines(s) {
		out = append(out, l)
	}
	return out
}

// TestHostDeny_Present lists the deny lines of blocked addresses, IPv4 and
// IPv6, and not a line someone else wrote for another address or service.
func TestHostDeny_Present(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hosts.deny")
	h := &HostDeny{Path: path}
	ctx := context.Background()
	if has, err := h.present(ctx); err != nil || has(Target{Addr: netip.MustParseAddr("203.0.113.1")}) {
		t.Fatalf("missing file: %v", err)
	}
	a4, a6 := netip.MustParseAddr("203.0.113.1"), netip.MustParseAddr("2001:db8::1")
	for _, a := range []netip.Addr{a4, a6} {
		if err := h.Add(ctx, Target{Addr: a}, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("sshd: 198.51.100.9\n")
	f.Close()
	has, err := h.present(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !has(Target{Addr: a4}) || !has(Target{Addr: a6}) || has(Target{Addr: netip.MustParseAddr("198.51.100.9")}) {
		t.Errorf("present: %v %v; want both ours and not the admin's line", has(Target{Addr: a4}), has(Target{Addr: a6}))
	}
	if err := h.Delete(ctx, Target{Addr: a4}); err != nil {
		t.Fatal(err)
	}
	if has, _ = h.present(ctx); has(Target{Addr: a4}) {
		t.Error("a removed line still present")
	}
}
