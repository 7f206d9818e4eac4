package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// mmapFlags are bbolt's defaults: the file is mapped plainly, and pages are
// mapped as they are read. It was mapped with MAP_POPULATE, which read it
// in sequentially at Open but also mapped all of it into the daemon's
// resident memory, Params and history included, at Open and again each
// time a growing file was mapped anew; with the heap Load builds on top,
// that set the peak of a reboot with 100,000 entries at 2.0 KB per entry
// (issue 6). Load maps only the pages it reads and those around them
// (fault-around, 16 pages a fault): 1.4 KB per entry at its peak, in about
// the same time. readahead keeps the start quick when the file is not
// cached.
//
// Dropping the pages every few thousand entries during Load would bound
// the mapped part further (0.7-0.95 KB per entry at Load's peak), but each
// page is then faulted in again, and a fault costs 30-75 µs on the test
// machine's VM against 0.2 µs a page populated in bulk: +150-200 ms of
// CPU per Load of 100,000, which the 0.5 s restart cannot spare.
const mmapFlags = 0

// readaheadChunk is how much one POSIX_FADV_WILLNEED asks for: the kernel
// reads at most the device's readahead window per call (8 MB here), so a
// whole file is asked for in pieces of that size.
const readaheadChunk = 8 << 20

// readahead asks the kernel to read the whole file into the page cache,
// in order, without waiting for it. bbolt maps the file with MADV_RANDOM,
// so after a reboot, when the file is not cached, each page Load faults
// would be one small read at random: a fresh process opened and loaded
// 100,000 entries in 0.9-1.0 s so, against 0.23-0.25 s with the file read
// in first. The reads fill the page cache, not the process: Load's faults
// map only the pages it reads and those around them, and Load drops them
// when it is done. For a file already cached this costs a lookup per
// page. A failure only costs time, so it is ignored.
func (db *DB) readahead() {
	f, err := os.Open(db.path)
	if err != nil {
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return
	}
	for off := int64(0); off < fi.Size(); off += readaheadChunk {
		if unix.Fadvise(int(f.Fd()), off, readaheadChunk, unix.FADV_WILLNEED) != nil {
			return
		}
	}
}

// unmapPages drops the file's pages in [addr, addr+size) from the
// process's mapping (MADV_DONTNEED on bbolt's read-only shared mapping):
// they stay in the page cache, but no longer count in the daemon's RSS.
// A later read maps them again from the cache, so values read before stay
// valid. The caller holds a read transaction, so that bbolt does not map
// the file anew meanwhile. A failure costs memory only, so it is ignored.
func unmapPages(addr, size uintptr) {
	if size == 0 {
		return
	}
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, addr, size, unix.MADV_DONTNEED)
}
