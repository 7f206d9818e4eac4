package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// mmapFlags makes bbolt map the file with MAP_POPULATE: the kernel reads it
// in sequentially, with readahead, when it is mapped (at Open and when a
// growing file is mapped again), instead of on the faults of Load's walk.
//
// Since schema 3 Load reads only the entries and their index, about a
// third of the file, and the file populated costs its size in RSS (file
// pages, which the kernel may reclaim). It is still worth it, measured on
// 100,000 realistic entries (84 MB of file; BenchmarkLoad_100k "reboot"
// and BenchmarkLoadProcess_100k):
//
//   - after a reboot, when the file is not in the page cache, each fault on
//     a plain map is a small random read, for pages of the entries that lie
//     scattered among those of the Params: a fresh process opens and loads
//     the store in 0.9-1.0 s, against 0.23-0.25 s populated (Open, Load
//     and Close in the benchmark's process: 1.2-1.7 s against 0.4 s);
//   - with the file in the page cache the kernel maps the cached pages
//     around each fault anyway (fault-around), so a plain map ends with
//     70-73 of the 84 MB mapped, against 80 populated, in about the same
//     time (0.23-0.28 s against 0.23-0.25 s);
//   - pages that Apply and Params touch later are mapped as they are used,
//     so a busy store ends up mapped whole either way.
//
// A plain map saves RSS only after a reboot: 34 MB of file mapped instead
// of 80, for a start four times slower.
const mmapFlags = unix.MAP_POPULATE

// unmapPages drops the file's pages from the process's mapping once Load
// has read what it needs (MADV_DONTNEED on a read-only shared mapping):
// they stay in the page cache, but no longer count in the daemon's RSS,
// which would otherwise carry the whole file (issue 6: under 1 KB of
// resident memory per active entry). Apply and Params map again only the
// pages they touch. A failure costs memory only, so it is ignored.
func (db *DB) unmapPages() {
	fi, err := os.Stat(db.path)
	if err != nil || fi.Size() == 0 {
		return
	}
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, db.bolt.Info().Data, uintptr(fi.Size()), unix.MADV_DONTNEED)
}
