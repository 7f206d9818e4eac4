//go:build linux

package main

// BenchmarkBuildUp100k is the other half of issue 6's memory aim, next to
// BenchmarkReboot100k: the resident memory of a daemon that builds up
// 100,000 active blocks itself, not one that loads them. As root, with ip
// and nft:
//
//	go test -run '^$' -bench BuildUp100k -benchtime 1x .
//
// The real binary runs inside a network namespace of its own with the
// built-in firewall-drop on nftables, started on an empty root; 100,000
// distinct attackers of 198.18.0.0/15 arrive in ten storms of 10,000, each
// appended in one write once the one before is in the kernel. Then one
// block is deleted behind the daemon's back, as an admin's nft command
// would, so that the daemon runs the drift check it runs every 30 s
// (listing every block in the kernel) and puts it back; the benchmark
// waits for that.
//
// From the daemon's /proc/PID/status, per active entry: B-peak-buildup is
// its peak resident memory (VmHWM) once the last storm is in the kernel,
// B-peak the peak with the drift check, B-rss-settled its resident memory
// once it returned what the storms grew, B-rss its resident memory at the
// end, of which B-rss-file are the store's file pages mapped (and the
// binary's). The aim is under 1,500 (150 MB at 100,000). s/storm is the mean
// time of a storm of 10,000 until all are in the kernel, the later ones
// into a table of up to 90,000.

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
)

const buildUpEntries = 100_000

func BenchmarkBuildUp100k(b *testing.B) {
	ns, fd := stormNetns(b)
	storms := make([]string, buildUpEntries/stormAttackers)
	for s := range storms {
		var lines strings.Builder
		for i := s * stormAttackers; i < (s+1)*stormAttackers; i++ {
			lines.WriteString(sshdAlert(stormAddr(i), fmt.Sprintf("1700000000.%d", i), i))
			lines.WriteByte('\n')
		}
		storms[s] = lines.String()
	}
	var stormTime time.Duration
	var buildUp, peak, rss, file, settled float64
	for b.Loop() {
		flushRuleset(b, fd)
		root := newRoot(b, stormConf(3600)) // nothing expires meanwhile
		os.Remove(filepath.Join(root, "active-response/bin/test-drop"))
		d := launch(b, root, exec.Command("ip", "netns", "exec", ns, binary, "run", "--root", root))
		pid := d.cmd.Process.Pid // ip netns exec execs the daemon in its place
		for _, storm := range storms {
			added := watchAdds(b, fd)
			start := time.Now()
			appendAlerts(b, root, storm)
			stormTime += added(stormAttackers, 60*time.Second).Sub(start)
		}
		if n := countBlocked(b, fd); n != buildUpEntries {
			b.Fatalf("the namespace's set holds %d elements, want %d", n, buildUpEntries)
		}
		buildUp += procKB(b, pid, "VmHWM")
		// Drift: one block removed by another process, put back by the
		// daemon once its check has listed them all.
		victim := netip.MustParseAddr(stormAddr(0))
		readded, stop := watchEach(b, fd)
		deleteBlocked(b, fd, victim)
		readded(victim, 60*time.Second)
		stop()
		peak += procKB(b, pid, "VmHWM")
		rss += procKB(b, pid, "VmRSS")
		file += procKB(b, pid, "RssFile")
		// Once storms stop, the daemon returns what they grew.
		for deadline := time.Now().Add(30 * time.Second); !strings.Contains(d.logs(), "storms over: memory returned"); {
			if time.Now().After(deadline) {
				b.Fatalf("no memory returned after the storms:\n%s", d.logs())
			}
			time.Sleep(20 * time.Millisecond) // polls the log, measures nothing
		}
		settled += procKB(b, pid, "VmRSS")
		stopDaemon(b, d)
		if p := os.Getenv("TLD_BUILDUP_LOG"); p != "" { // the daemon's stderr, e.g. with GODEBUG=gctrace=1
			os.WriteFile(p, []byte(d.logs()), 0o600)
		}
	}
	n := float64(b.N)
	perEntry := func(kb float64) float64 { return kb * 1024 / n / buildUpEntries }
	b.ReportMetric(perEntry(buildUp), "B-peak-buildup/entry")
	b.ReportMetric(perEntry(peak), "B-peak/entry")
	b.ReportMetric(perEntry(rss), "B-rss/entry")
	b.ReportMetric(perEntry(file), "B-rss-file/entry")
	b.ReportMetric(perEntry(settled), "B-rss-settled/entry")
	b.ReportMetric(stormTime.Seconds()/n/float64(len(storms)), "s/storm")
}

// procKB reads one "kB" field of /proc/pid/status.
func procKB(b *testing.B, pid int, field string) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	if !strings.Contains(string(raw), "Name:\tthreatlockdown") {
		b.Fatalf("process %d is not the daemon:\n%s", pid, raw)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			var kb float64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%f", &kb); err != nil {
				b.Fatalf("%s: %q: %v", field, v, err)
			}
			return kb
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// deleteBlocked removes addr from our IPv4 set in the namespace, as
// another process would.
func deleteBlocked(b *testing.B, fd int, addr netip.Addr) {
	c, set := ourSet4(b, fd)
	if err := c.SetDeleteElements(set, []nftables.SetElement{{Key: addr.AsSlice()}}); err != nil {
		b.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		b.Fatalf("delete %s: %v", addr, err)
	}
}
