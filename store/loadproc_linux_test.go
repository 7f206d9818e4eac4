package store

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// BenchmarkLoadProcess_100k measures what a daemon starting on a store of
// 100,000 realistic entries pays: each iteration starts a fresh process
// (this test binary, running TestLoadProcessHelper) that opens the store
// and loads it, and reports its times and memory (VmRSS and its anonymous
// and file-backed parts, from /proc/self/status, less the process's own
// before Open). It runs with the file in the page cache ("cached") and
// dropped from it ("evicted", as after a reboot), mapped plainly and with
// MAP_POPULATE.
//
//	go test -run '^$' -bench LoadProcess -benchtime 3x ./store/
func BenchmarkLoadProcess_100k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "state.db")
	entries := make([]engine.Entry, 100_000)
	now := time.Now()
	for i := range entries {
		entries[i] = realEntry(i, now)
	}
	writeStorm(b, path, entries)
	entries = nil
	for _, cache := range []string{"cached", "evicted"} {
		for _, m := range []struct {
			name  string
			flags int
		}{{"map", 0}, {"populate", mapPopulate}} {
			b.Run(cache+"/"+m.name, func(b *testing.B) { benchLoadProcess(b, path, m.flags, cache == "evicted") })
		}
	}
}

func benchLoadProcess(b *testing.B, path string, flags int, evict bool) {
	sum := map[string]float64{}
	for b.Loop() {
		b.StopTimer()
		if evict {
			evictFile(b, path)
		}
		b.StartTimer()
		for k, v := range runLoadProcess(b, path, flags) {
			sum[k] += v
		}
	}
	for k, v := range sum {
		b.ReportMetric(v/float64(b.N), k)
	}
	if fi, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(fi.Size())/100_000, "file-B/entry")
	}
}

// runLoadProcess runs TestLoadProcessHelper on path and returns its figures.
func runLoadProcess(b *testing.B, path string, flags int) map[string]float64 {
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadProcessHelper$")
	cmd.Env = append(os.Environ(), "STORE_LOAD_PROCESS="+path, "STORE_LOAD_MMAP_FLAGS="+strconv.Itoa(flags))
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("%v: %s", err, out)
	}
	line, ok := bytes.CutPrefix(out[bytes.Index(out, []byte("LOAD ")):], []byte("LOAD "))
	if !ok {
		b.Fatalf("no figures in %s", out)
	}
	got := map[string]float64{}
	for _, f := range strings.Fields(string(line[:bytes.IndexByte(line, '\n')])) {
		k, v, _ := strings.Cut(f, "=")
		if got[k], err = strconv.ParseFloat(v, 64); err != nil {
			b.Fatalf("bad figure %q: %v", f, err)
		}
	}
	return got
}

// TestLoadProcessHelper is the process BenchmarkLoadProcess_100k starts;
// run directly, it skips.
func TestLoadProcessHelper(t *testing.T) {
	path := os.Getenv("STORE_LOAD_PROCESS")
	if path == "" {
		t.Skip("run by BenchmarkLoadProcess_100k")
	}
	flags, _ := strconv.Atoi(os.Getenv("STORE_LOAD_MMAP_FLAGS"))
	before := procStatus(t)
	start := time.Now()
	db, err := Open(path, withMmapFlags(flags))
	if err != nil {
		t.Fatal(err)
	}
	opened := time.Since(start)
	s, err := db.Load()
	if err != nil {
		t.Fatal(err)
	}
	loaded := time.Since(start)
	runtime.GC()
	after := procStatus(t)
	mb := func(k string) float64 { return float64(after[k]-before[k]) / 1024 }
	fmt.Printf("LOAD open-ms=%.1f open+load-ms=%.1f rss-MB=%.1f anon-MB=%.1f file-MB=%.1f\n",
		ms(opened), ms(loaded), mb("VmRSS"), mb("RssAnon"), mb("RssFile"))
	runtime.KeepAlive(s)
	_ = db.Close()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// procStatus returns the kB figures of /proc/self/status by name.
func procStatus(t *testing.T) map[string]int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64); ok && err == nil {
			out[k] = n
		}
	}
	return out
}
