//go:build linux

package main

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"
)

// latency appends one attack at a time and times it until its address is in
// the kernel's set, for each tool in a namespace of its own.
func (b *bench) latency() error {
	addrs := make([]netip.Addr, b.sz.LatencyN)
	for i := range addrs {
		addrs[i] = singleAddr(i)
	}
	ns, err := b.newNS("tld-lat")
	if err != nil {
		return err
	}
	t, err := b.newTLD("lat")
	if err != nil {
		return err
	}
	p, _, err := b.startTLD("tld-latency", ns, t, "")
	if err != nil {
		return err
	}
	if b.res.TLD.Latency, err = b.timeEach(p, ns, t.alerts(), alertLine, addrs); err != nil {
		return err
	}
	if ns, err = b.newNS("f2b-lat"); err != nil {
		return err
	}
	f, err := b.newF2B("lat")
	if err != nil {
		return err
	}
	if p, _, err = b.startF2B("f2b-latency", ns, f); err != nil {
		return err
	}
	b.res.F2B.Latency, err = b.timeEach(p, ns, f.logpath(), sshdLine, addrs)
	return err
}

// perAlert bounds the wait for one block.
const perAlert = 30 * time.Second

// timeEach runs the latency measurement against the running tool p, then
// stops it. A first attack from a warm-up address sets the tool's table up
// and is not timed.
func (b *bench) timeEach(p *proc, ns, path string, line lineFunc, addrs []netip.Addr) (*latencyResult, error) {
	warm := warmAddrs[0]
	w, err := b.watch(ns, append([]netip.Addr{warm}, addrs...))
	if err != nil {
		return nil, err
	}
	defer w.close()
	res := &latencyResult{N: len(addrs)}
	for i, a := range append([]netip.Addr{warm}, addrs...) {
		if err := b.ctx.Err(); err != nil {
			return nil, err
		}
		t0 := time.Now()
		if err := appendFile(path, line(nil, a, i, t0)); err != nil {
			return nil, err
		}
		if !w.wait(t0.Add(perAlert), func(w *setWatch) bool { _, ok := w.added[a]; return ok }) {
			if err := b.ctx.Err(); err != nil {
				return nil, err
			}
			_, _, _, lost := w.snapshot()
			return nil, fmt.Errorf("%s: %s not in the kernel set %v after it was appended (netlink: %v)", p.name, a, perAlert, lost)
		}
		if a != warm {
			at, _ := w.addedAt(a)
			res.MS = append(res.MS, float64(at.Sub(t0).Microseconds())/1000)
		}
	}
	res.P50, res.P99, res.Max = percentile(res.MS, 50), percentile(res.MS, 99), slices.Max(res.MS)
	if res.Usage, err = p.usage(); err != nil {
		return nil, err
	}
	logf("   %s: p50 %.2f ms, p99 %.2f ms, max %.2f ms over %d", p.name, res.P50, res.P99, res.Max, res.N)
	_, err = p.stop(30 * time.Second)
	return res, err
}

// percentile is the nearest-rank percentile q of xs.
func percentile(xs []float64, q float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	i := int(math.Ceil(q/100*float64(len(s)))) - 1
	return s[max(i, 0)]
}
