//go:build linux

package watch

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// BenchmarkRead_VsMmap is why the tailer reads with read(2) into one
// reused buffer instead of mapping the file (which would spare the copy
// out of the page cache). It scans a cached 256 MiB file of 1 KiB lines
// for its line ends, three ways:
//
//   - read: 1 MiB read(2)s into one buffer, as the tailer does;
//   - mmap-populate: 4 MiB windows mapped with MAP_POPULATE, scanned, unmapped;
//   - mmap-fault: the same windows left to fault in on first touch.
//
// It does so on a file appended a line at a time, as Wazuh writes
// alerts.json, and on one written whole:
//
//	go test -run '^$' -bench Read_VsMmap -benchtime 5x ./watch/
//
// Appended, the page cache holds the file in small folios and mapping
// costs a page-table entry per 4 KiB: on this project's machines (a
// paravirtualised guest, where page-table changes go through the
// hypervisor) mapping was 3.6-5.9 times slower than reading, in two runs.
// Written whole, the file gets large folios and mapping it was 1.3-1.45
// times faster: not the alerts file's case. Mapping would also turn a
// copytruncate under the reader into SIGBUS.
func BenchmarkRead_VsMmap(b *testing.B) {
	line := `{"rule":{"level":3,"id":"5501"},"pad":"` + strings.Repeat("x", 1024-42) + `"}` + "\n"
	content := []byte(strings.Repeat(line, 256<<20/len(line)))
	want := bytes.Count(content, []byte{'\n'})
	for _, how := range []struct {
		name  string
		chunk int
	}{{"appended", len(line)}, {"written-whole", len(content)}} {
		b.Run(how.name, func(b *testing.B) {
			f := writeInChunks(b, filepath.Join(b.TempDir(), "alerts.json"), content, how.chunk)
			benchScans(b, f, int64(len(content)), want)
		})
	}
}

// writeInChunks writes content to a new file at path, chunk bytes per
// write(2), and returns it open for reading.
func writeInChunks(b *testing.B, path string, content []byte, chunk int) *os.File {
	w, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	for p := content; len(p) > 0; {
		k := min(chunk, len(p))
		if _, err := w.Write(p[:k]); err != nil {
			b.Fatal(err)
		}
		p = p[k:]
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}

// benchScans runs the three ways of scanning f (size bytes, want lines).
func benchScans(b *testing.B, f *os.File, size int64, want int) {
	const window = 4 << 20
	mapped := func(b *testing.B, flags int) int {
		n := 0
		for off := int64(0); off < size; off += window {
			m, err := syscall.Mmap(int(f.Fd()), off, int(min(window, size-off)), syscall.PROT_READ, syscall.MAP_SHARED|flags)
			if err != nil {
				b.Fatal(err)
			}
			n += lineEnds(m)
			if err := syscall.Munmap(m); err != nil {
				b.Fatal(err)
			}
		}
		return n
	}
	run := func(name string, scan func(b *testing.B) int) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				if n := scan(b); n != want {
					b.Fatalf("%d line ends, want %d", n, want)
				}
			}
		})
	}
	run("read", func(b *testing.B) int {
		buf := make([]byte, 1<<20)
		n := 0
		for off := int64(0); off < size; {
			k, err := f.ReadAt(buf, off)
			if k == 0 {
				b.Fatal(err)
			}
			n += lineEnds(buf[:k])
			off += int64(k)
		}
		return n
	})
	run("mmap-populate", func(b *testing.B) int { return mapped(b, syscall.MAP_POPULATE) })
	run("mmap-fault", func(b *testing.B) int { return mapped(b, 0) })
}

// lineEnds counts the line ends in p, one IndexByte at a time, as the
// splitter finds them.
func lineEnds(p []byte) int {
	n := 0
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			return n
		}
		n++
		p = p[i+1:]
	}
}
