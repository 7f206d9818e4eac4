//go:build linux

package main

// BenchmarkDaemonNonMatching is issue 6's last figure: a million alerts
// that match nothing, through the running daemon (tailer, decode, match,
// positions), against the engine's decode + match alone. As root or not:
//
//	go test -run '^$' -bench DaemonNonMatching -benchtime 1x .
//
// It reports the daemon's alerts per CPU-second (user + system time of the
// process, from /proc) and, measured in the same run, the engine's
// BenchmarkDecodeMatch alerts/s on one CPU, the higher of a run before and
// one after the daemon's; ratio is the first over the second (issue 6 asks
// for at least 0.9). user-s/Malerts and sys-s/Malerts
// are the daemon's user and system CPU seconds per million alerts: system
// time is mostly read(2) copying the file out of the page cache, which no
// change of the reader avoids short of mapping the file, 3.6-5.9 times
// slower here on a file appended line by line (watch's
// BenchmarkRead_VsMmap). On a shared machine both rates move
// by 20-40 % from run to run with the neighbours' load: compare runs made
// back to back.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

const loadAlerts = 1_000_000

func BenchmarkDaemonNonMatching(b *testing.B) {
	samples, err := os.ReadFile("engine/testdata/alerts.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(samples), []byte("\n"))
	var buf bytes.Buffer
	for i := range loadAlerts {
		buf.Write(lines[i%len(lines)])
		buf.WriteByte('\n')
	}
	// The last alert triggers a script that leaves a file: once it is there,
	// everything before it was read, decoded and matched.
	const marker = `{"rule":{"level":3,"id":"100999"},"id":"1.1","data":{"srcip":"203.0.113.99"}}`
	conf := strings.Replace(confWith(0), "<rules_id>5712</rules_id>", "<rules_id>100999</rules_id>", 1)
	var perCPU, user, sys float64
	before := decodeMatchRate(b)
	for b.Loop() {
		root := newRoot(b, conf)
		write(b, filepath.Join(root, "active-response/bin/test-drop"), "#!/bin/sh\ntouch done\n", 0o755)
		d := launch(b, root, exec.Command(binary, "run", "--root", root))
		u0, s0 := cpuTimes(b, d.cmd.Process.Pid)
		appendAlerts(b, root, buf.String()+marker+"\n")
		waitPath(b, filepath.Join(root, "done"), 5*time.Minute)
		u1, s1 := cpuTimes(b, d.cmd.Process.Pid)
		perCPU += loadAlerts / (u1 - u0 + s1 - s0)
		user += (u1 - u0) * 1e6 / loadAlerts
		sys += (s1 - s0) * 1e6 / loadAlerts
		stopDaemon(b, d)
	}
	perCPU /= float64(b.N)
	b.ReportMetric(user/float64(b.N), "user-s/Malerts")
	b.ReportMetric(sys/float64(b.N), "sys-s/Malerts")
	// The engine's rate, measured before and after the daemon: the higher
	// of the two, so that a neighbour's load in one of them cannot flatter
	// the ratio.
	engine := max(before, decodeMatchRate(b))
	b.ReportMetric(perCPU, "alerts/cpu-s")
	b.ReportMetric(engine, "engine-alerts/s")
	b.ReportMetric(perCPU/engine, "ratio")
}

// cpuSeconds is the user and system time pid has used, in seconds.
func cpuSeconds(b *testing.B, pid int) float64 {
	u, s := cpuTimes(b, pid)
	return u + s
}

// cpuTimes is the user and the system time pid has used, in seconds.
func cpuTimes(b *testing.B, pid int) (user, sys float64) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name in parentheses: state is the 3rd
	// field of the whole line, utime the 14th and stime the 15th.
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return ut / 100, st / 100 // USER_HZ is 100 on Linux
}

// decodeMatchRate runs the engine's BenchmarkDecodeMatch on one CPU and
// returns its alerts/s.
func decodeMatchRate(b *testing.B) float64 {
	out, err := exec.Command("go", "test", "-run", "^$", "-bench", "^BenchmarkDecodeMatch$", "-cpu", "1",
		"-benchtime", "1000000x", "./engine/").CombinedOutput()
	if err != nil {
		b.Fatalf("engine benchmark: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`([0-9.]+) alerts/s`).FindSubmatch(out)
	if m == nil {
		b.Fatalf("no alerts/s in:\n%s", out)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// waitPath waits until path exists.
func waitPath(b *testing.B, path string, within time.Duration) {
	deadline := time.Now().Add(within)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("no %s after %v", path, within)
		}
		time.Sleep(10 * time.Millisecond) // a poll of the file system, not a synchronisation
	}
}
