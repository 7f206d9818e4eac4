//go:build linux

package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// detection runs both detectors over the same N attacks: fail2ban-regex with
// fail2ban's sshd filter over the sshd lines, and tlddetect (the engine's
// decode and match, nothing dispatched) over the alerts analysisd would
// write for the same lines. Each runs detectRuns times, interleaved, and
// the run of median speed is reported (all runs are in results.json): the
// machines are shared and one run of a fraction of a second is noisy.
func (b *bench) detection() error {
	n := b.sz.DetectN
	addrs := make([]netip.Addr, n)
	for i := range addrs {
		addrs[i] = stormAddr(i % maxStormN)
	}
	now := time.Now()
	sshd, alerts := filepath.Join(b.work, "detect-auth.log"), filepath.Join(b.work, "detect-alerts.json")
	if err := os.WriteFile(sshd, batch(sshdLine, addrs, now), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(alerts, batch(alertLine, addrs, now), 0o644); err != nil {
		return err
	}
	var tlds, f2bs []*detectResult
	for i := range detectRuns {
		t, err := b.runTLDDetect(alerts, i)
		if err != nil {
			return err
		}
		f, err := b.runF2BRegex(sshd, i)
		if err != nil {
			return err
		}
		for name, d := range map[string]*detectResult{"tlddetect": t, "fail2ban-regex": f} {
			if d.Lines != n || d.Matched != n {
				return fmt.Errorf("%s read %d lines and matched %d, want %d and %d; see logs/%s-%d.log", name, d.Lines, d.Matched, n, n, name, i)
			}
			logf("   %s: %d lines in %.3f s, %.0f lines/s", name, d.Lines, d.Seconds, d.rate())
		}
		tlds, f2bs = append(tlds, t), append(f2bs, f)
	}
	b.res.TLD.Detect, b.res.F2B.Detect = median(tlds), median(f2bs)
	return nil
}

// detectRuns is how many times each detector runs.
const detectRuns = 3

// median is the run of median rate, with the rates of all runs.
func median(runs []*detectResult) *detectResult {
	s := slices.SortedFunc(slices.Values(runs), func(a, b *detectResult) int { return cmp.Compare(a.rate(), b.rate()) })
	m := *s[len(s)/2]
	for _, r := range runs {
		m.Rates = append(m.Rates, r.rate())
	}
	return &m
}

func (b *bench) runTLDDetect(alerts string, run int) (*detectResult, error) {
	out, wall, u, err := b.measure(fmt.Sprintf("tlddetect-%d", run), b.detectBin, alerts)
	if err != nil {
		return nil, err
	}
	var r struct {
		Lines     int     `json:"lines"`
		Matched   int     `json:"matched"`
		Skipped   int     `json:"skipped"`
		Jobs      int     `json:"jobs"`
		Malformed int     `json:"malformed"`
		Seconds   float64 `json:"seconds"`
		PeakRSS   int64   `json:"peak_rss_kib"`
	}
	if err := json.NewDecoder(bytes.NewReader(out)).Decode(&r); err != nil {
		return nil, fmt.Errorf("tlddetect output %q: %w", out, err)
	}
	if r.Jobs != 0 || r.Malformed != 0 || r.Skipped != r.Matched {
		return nil, fmt.Errorf("tlddetect: %d jobs, %d malformed, %d skipped of %d matched; want 0, 0 and all", r.Jobs, r.Malformed, r.Skipped, r.Matched)
	}
	u.PeakRSSKiB = r.PeakRSS
	return &detectResult{Lines: r.Lines, Matched: r.Matched, Seconds: r.Seconds, WallSeconds: wall, Usage: u}, nil
}

var (
	f2bLinesRE = regexp.MustCompile(`Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed`)
	f2bTimeRE  = regexp.MustCompile(`\[processed in ([0-9.]+) sec\]`)
	peakRE     = regexp.MustCompile(`(?m)^bench-peak: .*peak_rss_kib": (\d+)`)
)

func (b *bench) runF2BRegex(sshd string, run int) (*detectResult, error) {
	// Run inside peak.py, which reports the peak RSS of the process itself.
	out, wall, u, err := b.measure(fmt.Sprintf("fail2ban-regex-%d", run), "/usr/bin/python3", filepath.Join(b.libDir, "peak.py"),
		"/usr/bin/fail2ban-regex", sshd, "/etc/fail2ban/filter.d/sshd.conf")
	if err != nil {
		return nil, err
	}
	return parseF2BRegex(out, wall, u)
}

func parseF2BRegex(out []byte, wall float64, u usage) (*detectResult, error) {
	l, t := f2bLinesRE.FindSubmatch(out), f2bTimeRE.FindSubmatch(out)
	if l == nil || t == nil {
		return nil, fmt.Errorf("fail2ban-regex output has no Lines: or [processed in] line")
	}
	d := &detectResult{WallSeconds: wall, Usage: u}
	if m := peakRE.FindSubmatch(out); m != nil {
		d.Usage.PeakRSSKiB, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	d.Lines, _ = strconv.Atoi(string(l[1]))
	d.Matched, _ = strconv.Atoi(string(l[3]))
	d.Seconds, _ = strconv.ParseFloat(string(t[1]), 64)
	if d.Seconds <= 0 {
		return nil, fmt.Errorf("fail2ban-regex reported %s s", t[1])
	}
	return d, nil
}

// measure runs a short-lived program to its end and returns its output
// (stdout, then stderr), its wall time and its CPU time (wait4's rusage).
// The peak RSS in that rusage is not the child's own (it includes the
// driver's), so it is left out: each program reports its own.
func (b *bench) measure(name string, argv ...string) ([]byte, float64, usage, error) {
	cmd := exec.CommandContext(b.ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0).Seconds()
	os.WriteFile(filepath.Join(b.out, "logs", name+".log"), append(stdout.Bytes(), stderr.Bytes()...), 0o644)
	if err != nil {
		return nil, 0, usage{}, fmt.Errorf("%s: %w; see logs/%s.log", name, err, name)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	u := usage{CPU: tv(ru.Utime) + tv(ru.Stime)}
	return append(stdout.Bytes(), stderr.Bytes()...), wall, u, nil
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
