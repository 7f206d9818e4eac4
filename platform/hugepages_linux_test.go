package platform

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestHugeWanted(t *testing.T) {
	for _, c := range []struct {
		godebug, mode string
		want          bool
	}{
		{"", "madvise", true},
		{"", "always", false}, // the kernel does it already
		{"", "never", false},
		{"", "", false}, // no THP in this kernel
		{"disablethp=1", "madvise", false},
		{"gctrace=1, disablethp=1", "madvise", false},
		{"disablethp=0", "madvise", true},
		{"disablethp=1,disablethp=0", "madvise", true}, // the last counts
		{"disablethp=0,disablethp=1", "madvise", false},
		{"madvdontneed=1", "madvise", true},
	} {
		if got := hugeWanted(c.godebug, c.mode); got != c.want {
			t.Errorf("hugeWanted(%q, %q) = %v, want %v", c.godebug, c.mode, got, c.want)
		}
	}
}

// TestHugeRoom_AdvisesThenDrops: the room is advised in the kernel (the
// mapping's VmFlags say hg), whole huge pages of it, and HugeAdvise drops
// the advice (nh) and gives it again.
func TestHugeRoom_AdvisesThenDrops(t *testing.T) {
	page := hugePageSize()
	if page > 2<<20 {
		t.Skipf("huge pages of %d MiB", page>>20)
	}
	n, err := hugeRoom(16<<20, page)
	if errors.Is(err, unix.EINVAL) {
		t.Skip("this kernel has no transparent huge pages")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { HugeAdvise(false) })
	if n < 14<<20 || uintptr(n)%page != 0 {
		t.Fatalf("advised %d bytes of a 16 MiB room, want whole huge pages, at least 14 MiB", n)
	}
	huge.Lock()
	r := huge.advised[len(huge.advised)-1]
	huge.Unlock()
	if r[0]%page != 0 || r[1]-r[0] != uintptr(n) {
		t.Fatalf("advised %#x-%#x for %d bytes", r[0], r[1], n)
	}
	for i, c := range []struct {
		on   bool
		flag string
	}{{true, "hg"}, {false, "nh"}, {true, "hg"}} {
		if i > 0 { // hugeRoom advised already
			if err := HugeAdvise(c.on); err != nil {
				t.Fatal(err)
			}
		}
		flags := vmFlags(t, r[0], r[1])
		if len(flags) == 0 {
			t.Fatalf("no mapping covers %#x-%#x", r[0], r[1])
		}
		for _, f := range flags {
			if !strings.Contains(" "+f+" ", " "+c.flag+" ") {
				t.Errorf("advice on=%v: a mapping of the room has VmFlags %q, want %s", c.on, f, c.flag)
			}
		}
	}
}

// TestHugeRoom_CostsNoMemory: in a fresh process, as the daemon makes it
// once start-up is done, the room is never touched (its pages are not
// resident), and once a collection freed its block the runtime holds none
// of it: the memory governor measures what the runtime holds right after.
// (In this test process, heap that earlier tests used could give the block,
// which the runtime would clear.)
func TestHugeRoom_CostsNoMemory(t *testing.T) {
	const child = "TLD_HUGE_ROOM_CHILD"
	if os.Getenv(child) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHugeRoom_CostsNoMemory$", "-test.v")
		cmd.Env = append(os.Environ(), child+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("in a fresh process: %v\n%s", err, out)
		}
		if !bytes.Contains(out, []byte("--- PASS: TestHugeRoom_CostsNoMemory")) {
			t.Skipf("in a fresh process:\n%s", out)
		}
		return
	}
	debug.FreeOSMemory()
	rss0, held0 := residentKB(t), heldBytes()
	n, err := hugeRoom(48<<20, 2<<20)
	if errors.Is(err, unix.EINVAL) {
		t.Skip("this kernel has no transparent huge pages")
	}
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no room advised")
	}
	if rss := residentKB(t); rss-rss0 > 8<<10 {
		t.Errorf("resident memory grew by %d KiB with a room of %d MiB: its pages were touched", rss-rss0, n>>20)
	}
	debug.FreeOSMemory()
	if held := heldBytes(); held > held0+8<<20 {
		t.Errorf("the runtime holds %d MiB more after the room was freed", (held-held0)>>20)
	}
}

// residentKB is the process's resident memory.
func residentKB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skip(err)
	}
	f := strings.Fields(string(b))
	pages, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatal(err)
	}
	return pages * os.Getpagesize() >> 10
}

// heldBytes is what the runtime holds from the OS and has not released.
func heldBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}

// vmFlags returns the VmFlags of the process's mappings that overlap
// [lo, hi), and fails unless they cover it.
func vmFlags(t *testing.T, lo, hi uintptr) []string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	var flags []string
	covered := lo
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		// A mapping's line starts "lo-hi perms ..."; its fields' lines
		// "Name: value".
		if first := strings.Fields(line + " x")[0]; !strings.HasSuffix(first, ":") {
			a, b, _ := strings.Cut(first, "-")
			start, err1 := strconv.ParseUint(a, 16, 64)
			end, err2 := strconv.ParseUint(b, 16, 64)
			if err1 == nil && err2 == nil {
				in = uintptr(start) < hi && uintptr(end) > lo
				if in && uintptr(start) <= covered && uintptr(end) > covered {
					covered = uintptr(end)
				}
				continue
			}
		}
		if v, ok := strings.CutPrefix(line, "VmFlags:"); ok && in {
			flags = append(flags, strings.TrimSpace(v))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if covered < hi {
		t.Fatalf("the mappings cover %#x-%#x only up to %#x", lo, hi, covered)
	}
	return flags
}
