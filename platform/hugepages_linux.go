package platform

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Huge pages for storms.
//
// A storm grows a fresh daemon's heap by tens of MB, and on a virtual
// machine the first touch of each 4 KB page is a costly page fault (24 µs a
// page on this project's VMs): a third of a 10,000-attacker storm's CPU.
// Backed by 2 MB transparent huge pages, that memory costs one fault per
// 2 MB (README, Speed: BenchmarkStorm10k).
//
// Go's runtime does not ask for huge pages for its heap (it stopped in Go
// 1.21.1): the kernel's khugepaged turns any 2 MB range of an advised
// mapping that still holds one page back into a whole huge page, filling
// again the memory the runtime returned to the OS. So the daemon advises
// only room it makes once start-up is done (memlimit.go), a block of heap
// that nothing has touched, and only while it needs the speed: it drops the
// advice when it returns memory to the OS after storms and gives it again
// at a storm's first big commit. khugepaged, which wakes every 10 s, has
// little time to fill anything; what a storm faults in afresh comes in
// 2 MB. Between start-up and the first storm the advice stays: heap that
// grows into the room meanwhile is held in 2 MB pages, at most the room.
//
// The room is made once: a block taken from memory the heap already used
// would be cleared by the runtime, which touches every page of it.

var huge struct {
	sync.Mutex
	advised [][2]uintptr // ranges advised, [lo, hi)
}

// HugeRoom makes n bytes of the Go heap, untouched, eligible for huge pages,
// and reports how many it advised. It does something only where the
// system's THP mode is "madvise" ("always" backs the heap already, "never"
// forbids it), and not when GODEBUG has disablethp=1, Go's own switch
// against huge pages for its heap. Call it once, when the heap holds little
// free memory: a block taken from memory the heap used before would be
// cleared by the runtime, every page touched.
func HugeRoom(n int) (int, error) {
	if !hugeWanted(os.Getenv("GODEBUG"), thpMode()) {
		return 0, nil
	}
	return hugeRoom(n, hugePageSize())
}

// hugeRoom allocates n bytes, advises the whole huge pages of size page
// within, and lets the block go: once a collection has freed it, the next
// allocations fill it.
func hugeRoom(n int, page uintptr) (int, error) {
	if uintptr(n) < page {
		return 0, nil
	}
	huge.Lock()
	defer huge.Unlock()
	block := make([]byte, n)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(block)))
	lo := (start + page - 1) &^ (page - 1)
	hi := (start + uintptr(n)) &^ (page - 1)
	if lo >= hi {
		return 0, nil
	}
	err := madvise(lo, hi, unix.MADV_HUGEPAGE)
	runtime.KeepAlive(block) // mapped until here at least; the runtime never unmaps its heap
	if err != nil {
		return 0, err
	}
	huge.advised = append(huge.advised, [2]uintptr{lo, hi})
	return int(hi - lo), nil
}

// HugeAdvise gives (on) or drops the advice for the room HugeRoom made.
func HugeAdvise(on bool) error {
	advice := unix.MADV_NOHUGEPAGE
	if on {
		advice = unix.MADV_HUGEPAGE
	}
	huge.Lock()
	defer huge.Unlock()
	var first error
	for _, r := range huge.advised {
		if err := madvise(r[0], r[1], advice); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// madvise advises [lo, hi), which must be mapped: a range of the Go heap,
// which the runtime never unmaps.
func madvise(lo, hi uintptr, advice int) error {
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, lo, hi-lo, uintptr(advice)); errno != 0 {
		return fmt.Errorf("huge pages: madvise %#x-%#x: %w", lo, hi, errno)
	}
	return nil
}

// thpMode reads the system's transparent huge page mode: "always",
// "madvise", "never", or "" where the kernel has none.
func thpMode() string {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil {
		return ""
	}
	s := string(b)
	i, j := strings.IndexByte(s, '['), strings.IndexByte(s, ']')
	if i < 0 || j < i {
		return ""
	}
	return s[i+1 : j]
}

// hugePageSize is the size of a transparent huge page: 2 MB with 4 KB base
// pages (amd64, most arm64), 512 MB with 64 KB ones.
func hugePageSize() uintptr {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size")
	if err != nil {
		return 2 << 20
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n == 0 || n&(n-1) != 0 {
		return 2 << 20
	}
	return uintptr(n)
}

// hugeWanted reports whether HugeRoom should advise, given GODEBUG and the
// THP mode. As in the runtime, the last disablethp setting counts.
func hugeWanted(godebug, mode string) bool {
	if mode != "madvise" {
		return false
	}
	disabled := false
	for kv := range strings.SplitSeq(godebug, ",") {
		if k, v, _ := strings.Cut(strings.TrimSpace(kv), "="); k == "disablethp" {
			disabled = v != "0"
		}
	}
	return !disabled
}
