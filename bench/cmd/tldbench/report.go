//go:build linux

package main

import (
	"fmt"
	"strings"
)

// row is one line of the table; factor is how many times better
// ThreatLockDown did (fail2ban's time or cost over ThreatLockDown's, or
// ThreatLockDown's throughput over fail2ban's); empty when not comparable.
type row struct{ scenario, tld, f2b, factor string }

// renderTable is the Markdown table of r; rows whose measurements are
// missing (a failed or skipped step) are left out.
func renderTable(r *results) string {
	var rows []row
	rows = append(rows, detectRows(r)...)
	rows = append(rows, latencyRows(r)...)
	rows = append(rows, stormRows(r)...)
	rows = append(rows, bigRows(r)...)
	rows = append(rows, usageRows(r)...)
	var s strings.Builder
	s.WriteString("| scenario | ThreatLockDown | fail2ban | factor |\n|---|---|---|---|\n")
	for _, x := range rows {
		fmt.Fprintf(&s, "| %s | %s | %s | %s |\n", x.scenario, x.tld, x.f2b, x.factor)
	}
	fmt.Fprintf(&s, "\nfactor: fail2ban's time or cost ÷ ThreatLockDown's (for throughput, ThreatLockDown's ÷ fail2ban's); above 1, ThreatLockDown did better. "+
		"fail2ban %s, backend %s, action nftables-multiport; ThreatLockDown %s, built-in firewall-drop (nftables). "+
		"Suite took %.0f s.\n", r.Versions["fail2ban"], r.Sizes.Backend, r.Versions["threatlockdown"], r.Seconds)
	return s.String()
}

func detectRows(r *results) []row {
	t, f := r.TLD.Detect, r.F2B.Detect
	if t == nil || f == nil {
		return nil
	}
	return []row{{
		fmt.Sprintf("detection: %s sshd attacks (ThreatLockDown: engine decode + match of the alerts.json lines; fail2ban: fail2ban-regex, sshd filter, on the sshd lines)", num(t.Lines)),
		fmt.Sprintf("%s lines/s", num(int(t.rate()))), fmt.Sprintf("%s lines/s", num(int(f.rate()))), times(t.rate() / f.rate()),
	}}
}

func latencyRows(r *results) []row {
	t, f := r.TLD.Latency, r.F2B.Latency
	if t == nil || f == nil {
		return nil
	}
	what := fmt.Sprintf("alert to block (line appended → address in the kernel set), %d single attacks one at a time", t.N)
	return []row{
		{what + ", p50", ms(t.P50), ms(f.P50), times(f.P50 / t.P50)},
		{what + ", p99", ms(t.P99), ms(f.P99), times(f.P99 / t.P99)},
	}
}

func stormRows(r *results) []row {
	t, f := r.TLD.Storm, r.F2B.Storm
	if t == nil || f == nil {
		return nil
	}
	rows := []row{{
		fmt.Sprintf("storm: %s attackers appended at once → all in the kernel set", num(t.N)),
		secs(t.Seconds), stormCell(f), approx(f.Capped) + times(f.estimate()/t.Seconds),
	}}
	tr, tb, fr := r.TLD.Restart, r.TLD.Reboot, r.F2B.Restart
	if tr == nil || tb == nil || fr == nil {
		return rows
	}
	return append(rows,
		row{fmt.Sprintf("restart with %s active blocks: blocks in the kernel while stopped", num(tr.N)),
			fmt.Sprintf("%s of %s (kept)", num(tr.KernelAfterStop), num(tr.N)), fmt.Sprintf("%s of %s (its action deletes the set at stop)", num(fr.KernelAfterStop), num(fr.N)), ""},
		row{fmt.Sprintf("restart with %s active blocks: start → ready (fail2ban: jail started)", num(tr.N)),
			readyCell(tr), secs(fr.ReadySeconds), times(fr.ReadySeconds / tr.ReadySeconds)},
		row{fmt.Sprintf("restart with %s active blocks: start → all back in the kernel (ThreatLockDown: into an empty kernel with a new boot id, as after a reboot; fail2ban: restore from its database, every restart)", num(tr.N)),
			secs(tb.AllInSeconds), restoreCell(fr), approx(fr.Capped) + times(fr.estimate()/tb.AllInSeconds)},
	)
}

func bigRows(r *results) []row {
	if r.Big == nil || r.Big.Storm == nil || r.Big.Restart == nil || r.Big.Reboot == nil {
		return nil
	}
	b, n := r.Big, num(r.Big.Storm.N)
	notRun := "not run"
	return []row{
		{"storm: " + n + " attackers (ThreatLockDown only)", secs(b.Storm.Seconds), notRun + f2bStormAt(r, b.Storm.N), ""},
		{"restart with " + n + " active blocks: start → ready, blocks kept", fmt.Sprintf("%s; %s of %s kept", readyCell(b.Restart), num(b.Restart.KernelAfter), n), notRun, ""},
		{"restart with " + n + " active blocks into an empty kernel (new boot id): start → all back", secs(b.Reboot.AllInSeconds), notRun + f2bRestoreAt(r, b.Storm.N), ""},
	}
}

func f2bStormAt(r *results, n int) string {
	if f := r.F2B.Storm; f != nil {
		return atRate(f.FirstSeconds, f.rate(), n, "storm")
	}
	return ""
}

func f2bRestoreAt(r *results, n int) string {
	if f := r.F2B.Restart; f != nil {
		return atRate(f.FirstSeconds, f.rate(), n, "restore")
	}
	return ""
}

// approx marks a factor computed from an extrapolation.
func approx(extrapolated bool) string {
	if extrapolated {
		return "≈ "
	}
	return ""
}

// readyCell is the daemon's time to msg=ready and to "state loaded", which
// the engine logs once it has gone through its stored blocks (concurrently
// with the tailer's start: before or after ready).
func readyCell(r *restartResult) string {
	return fmt.Sprintf("%s (state loaded at %s)", secs(r.ReadySeconds), secs(r.LoadedSeconds))
}

func stormCell(f *stormResult) string {
	if !f.Capped {
		return secs(f.Seconds)
	}
	return fmt.Sprintf("%s of %s within the %s cap (%.1f/s) → ≈ %s for all", num(f.Blocked), num(f.N), secs(f.CapSeconds), f.rate(), secs(f.estimate()))
}

func restoreCell(f *restartResult) string {
	if !f.Capped {
		return secs(f.AllInSeconds)
	}
	return fmt.Sprintf("%s of %s within %s (jail started + %s cap; %.1f/s) → ≈ %s for all",
		num(f.Blocked), num(f.N), secs(f.ReadySeconds+f.CapSeconds), secs(f.CapSeconds), f.rate(), secs(f.estimate()))
}

// atRate is fail2ban's time for n blocks at the rate it showed for fewer.
func atRate(first, r float64, n int, what string) string {
	if r == 0 {
		return ""
	}
	return fmt.Sprintf(" (≈ %s at its %s rate above)", secs(first+float64(n-1)/r), what)
}
