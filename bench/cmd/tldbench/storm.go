//go:build linux

package main

import (
	"fmt"
	"net/netip"
	"time"
)

// stormRestart is the storm of StormN attackers for both tools, then the
// restart of each with those blocks active.
func (b *bench) stormRestart() error {
	addrs := stormAddrs(b.sz.StormN)
	if err := b.tldStormRestart("", addrs, &b.res.TLD); err != nil {
		return err
	}
	return b.f2bStormRestore(addrs)
}

// big repeats ThreatLockDown's storm and restarts with BigN attackers; at
// fail2ban's measured rates that size would take far too long for it.
func (b *bench) big() error {
	if b.sz.BigN == 0 {
		logf("   skipped (BIG_N=0)")
		return nil
	}
	b.res.Big = &toolResults{}
	return b.tldStormRestart("-big", stormAddrs(b.sz.BigN), b.res.Big)
}

// warmUp sends one attack from a warm-up address and waits for its block,
// so that the tool's table exists before anything is timed.
func (b *bench) warmUp(p *proc, ns, path string, line lineFunc) error {
	warm := warmAddrs[1]
	w, err := b.watch(ns, []netip.Addr{warm})
	if err != nil {
		return err
	}
	defer w.close()
	t0 := time.Now()
	if err := appendFile(path, line(nil, warm, 0, t0)); err != nil {
		return err
	}
	if !w.wait(t0.Add(perAlert), func(w *setWatch) bool { return len(w.added) == 1 }) {
		if err := b.ctx.Err(); err != nil {
			return err
		}
		return fmt.Errorf("%s: warm-up address %s not blocked within %v", p.name, warm, perAlert)
	}
	return nil
}

// storm appends the lines of all addrs in one write and waits until all are
// in the kernel set k, or for at most within.
func (b *bench) storm(p *proc, ns, path string, line lineFunc, addrs []netip.Addr, k kset, within time.Duration) (*stormResult, error) {
	w, err := b.watch(ns, addrs)
	if err != nil {
		return nil, err
	}
	defer w.close()
	data := batch(line, addrs, time.Now())
	t0 := time.Now()
	if err := appendFile(path, data); err != nil {
		return nil, err
	}
	n, last, lost, all := b.waitAll(w, ns, k, len(addrs), t0.Add(within))
	if err := b.ctx.Err(); err != nil {
		return nil, err
	}
	if n == 0 {
		last = time.Now()
	}
	res := &stormResult{N: len(addrs), Blocked: n, Seconds: last.Sub(t0).Seconds(), Capped: !all, MonitorLost: lost, CapSeconds: within.Seconds()}
	if first, ok := w.first(); ok {
		res.FirstSeconds = first.Sub(t0).Seconds()
	}
	if res.Counted, err = k.count(ns, w.want); err != nil {
		return nil, err
	}
	if res.Usage, err = p.usage(); err != nil {
		return nil, err
	}
	logf("   %s: %d of %d blocked in %.3f s (first after %.3f s)%s; nft lists %d", p.name, n, len(addrs), res.Seconds, res.FirstSeconds, capNote(res.Capped), res.Counted)
	return res, nil
}

func capNote(capped bool) string {
	if capped {
		return ", at the cap"
	}
	return ""
}

// waitAll waits until n wanted addresses are in the kernel or the deadline,
// and returns how many were and when the last arrived. Should the kernel's
// notifications have overflowed, it falls back to listing the set every
// 100 ms, and the time is that coarse (lost says so).
func (b *bench) waitAll(w *setWatch, ns string, k kset, n int, deadline time.Time) (got int, last time.Time, lost string, all bool) {
	all = w.wait(deadline, func(w *setWatch) bool { return len(w.added) >= n || w.lost != nil })
	got, last, _, lerr := w.snapshot()
	if lerr == nil {
		return got, last, "", all
	}
	lost = lerr.Error() + "; times from listing the set every 100 ms"
	for {
		c, err := k.count(ns, w.want)
		if err == nil && c >= n {
			return n, time.Now(), lost, true
		}
		if time.Now().After(deadline) || b.ctx.Err() != nil {
			return max(got, c), time.Now(), lost, false
		}
		time.Sleep(100 * time.Millisecond) // polling the kernel: nothing to wait on once events are lost
	}
}
