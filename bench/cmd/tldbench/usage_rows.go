//go:build linux

package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// usageRows are peak RSS and CPU of each tool's process in each scenario.
// CPU includes the children a process waited for (fail2ban's shells and
// nft processes); where the tools did different amounts of work (a capped
// fail2ban), the factor compares CPU per block.
func usageRows(r *results) []row {
	type pair struct {
		what   string
		t, f   *usage
		tn, fn int // blocks made, for CPU per block; 0: compare totals
	}
	var ps []pair
	if r.TLD.Detect != nil && r.F2B.Detect != nil {
		ps = append(ps, pair{"detection (one process each)", &r.TLD.Detect.Usage, &r.F2B.Detect.Usage, 0, 0})
	}
	if r.TLD.Latency != nil && r.F2B.Latency != nil {
		ps = append(ps, pair{"latency run (daemon)", &r.TLD.Latency.Usage, &r.F2B.Latency.Usage, 0, 0})
	}
	if t, f := r.TLD.Storm, r.F2B.Storm; t != nil && f != nil {
		ps = append(ps, pair{"storm (daemon, from its start)", &t.Usage, &f.Usage, t.Blocked, f.Blocked})
	}
	if t, f := r.TLD.Reboot, r.F2B.Restart; t != nil && f != nil {
		ps = append(ps, pair{"restart, all blocks back (daemon, from its start)", &t.Usage, &f.Usage, t.Blocked, f.Blocked})
	}
	if r.TLD.Restart != nil {
		ps = append(ps, pair{"restart, blocks kept, at ready (daemon)", &r.TLD.Restart.Usage, nil, 0, 0})
	}
	var rows []row
	for _, p := range ps {
		rows = append(rows, usageRow(p.what, p.t, p.f, p.tn, p.fn))
	}
	if b := r.Big; b != nil && b.Storm != nil && b.Reboot != nil {
		rows = append(rows, usageRow("storm of "+num(b.Storm.N)+" (daemon)", &b.Storm.Usage, nil, 0, 0),
			usageRow("restart of "+num(b.Storm.N)+" into an empty kernel (daemon)", &b.Reboot.Usage, nil, 0, 0))
	}
	return rows
}

func usageRow(what string, t, f *usage, tn, fn int) row {
	x := row{scenario: "peak RSS · CPU: " + what, tld: usageCell(t, tn), f2b: "not run"}
	if f == nil {
		return x
	}
	x.f2b = usageCell(f, fn)
	cpu := f.totalCPU() / t.totalCPU()
	if tn > 0 && fn > 0 {
		cpu = (f.totalCPU() / float64(fn)) / (t.totalCPU() / float64(tn))
	}
	x.factor = fmt.Sprintf("RSS %s, CPU %s", times(float64(f.PeakRSSKiB)/float64(t.PeakRSSKiB)), times(cpu))
	if tn > 0 && fn > 0 {
		x.factor += " per block"
	}
	return x
}

func usageCell(u *usage, blocks int) string {
	s := fmt.Sprintf("%.1f MiB · %.2f s", float64(u.PeakRSSKiB)/1024, u.totalCPU())
	if u.ChildrenCPU >= 0.005 {
		s += fmt.Sprintf(" (%.2f s in child processes)", u.ChildrenCPU)
	}
	if blocks > 0 {
		s += fmt.Sprintf(" for %s blocks", num(blocks))
	}
	return s
}

func secs(s float64) string {
	switch {
	case s < 1:
		return fmt.Sprintf("%.0f ms", s*1000)
	case s < 100:
		return fmt.Sprintf("%.2f s", s)
	case s < 600:
		return fmt.Sprintf("%.0f s", s)
	}
	return fmt.Sprintf("%s s (%.0f min)", num(int(math.Round(s))), s/60)
}

func ms(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.2f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}

func times(f float64) string {
	switch {
	case math.IsInf(f, 0) || math.IsNaN(f) || f <= 0:
		return ""
	case f < 10:
		return fmt.Sprintf("%.1f×", f)
	}
	return num(int(math.Round(f))) + "×"
}

// num writes n with thousands separators.
func num(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
