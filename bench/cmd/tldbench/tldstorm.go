//go:build linux

package main

import (
	"crypto/rand"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// tldWait bounds ThreatLockDown's storm and re-apply waits; they take
// seconds.
const tldWait = 5 * time.Minute

// tldStormRestart measures the storm on a fresh daemon, then stops it and
// starts it again twice: in the same namespace (its blocks are still in the
// kernel) and in a new, empty one with a new boot id (a reboot: it must
// apply them all again).
func (b *bench) tldStormRestart(tag string, addrs []netip.Addr, res *toolResults) error {
	ns, err := b.newNS("tld-storm" + tag)
	if err != nil {
		return err
	}
	t, err := b.newTLD("storm" + tag)
	if err != nil {
		return err
	}
	p, _, err := b.startTLD("tld-storm"+tag, ns, t, "")
	if err != nil {
		return err
	}
	if err := b.warmUp(p, ns, t.alerts(), alertLine); err != nil {
		return err
	}
	if res.Storm, err = b.storm(p, ns, t.alerts(), alertLine, addrs, tldSet, tldWait); err != nil {
		return err
	}
	if fi, err := os.Stat(filepath.Join(t.root, "var/db/threatlockdown.db")); err == nil {
		res.Storm.StoreBytes = fi.Size()
	}
	if res.Storm.Capped {
		return fmt.Errorf("ThreatLockDown blocked %d of %d within %v", res.Storm.Blocked, len(addrs), tldWait)
	}
	if res.Restart, err = b.tldRestart(p, "tld-restart"+tag, ns, t, addrs); err != nil {
		return err
	}
	res.Reboot, err = b.tldReboot("tld-reboot"+tag, t, addrs)
	return err
}

// tldRestart stops p and starts the daemon again on the same root and
// namespace: time to ready, and whether any block left the kernel.
func (b *bench) tldRestart(p *proc, name, ns string, t tld, addrs []netip.Addr) (*restartResult, error) {
	w, err := b.watch(ns, addrs)
	if err != nil {
		return nil, err
	}
	defer w.close()
	r := &restartResult{N: len(addrs)}
	stopped, err := p.stop(time.Minute)
	if err != nil {
		return nil, err
	}
	r.StopSeconds = stopped.Seconds()
	if r.KernelAfterStop, err = tldSet.count(ns, w.want); err != nil {
		return nil, err
	}
	p2, ready, err := b.startTLD(name, ns, t, "")
	if err != nil {
		return nil, err
	}
	r.ReadySeconds = ready.Seconds()
	if r.LoadedSeconds, err = loaded(p2); err != nil {
		return nil, err
	}
	if r.Usage, err = p2.usage(); err != nil {
		return nil, err
	}
	if r.KernelAfter, err = tldSet.count(ns, w.want); err != nil {
		return nil, err
	}
	_, _, r.Deleted, _ = w.snapshot()
	r.Blocked = r.KernelAfter
	logf("   %s: stop %.3f s, %d blocks in the kernel while stopped, ready %.3f s after start, %d after, %d deleted",
		name, r.StopSeconds, r.KernelAfterStop, r.ReadySeconds, r.KernelAfter, r.Deleted)
	_, err = p2.stop(time.Minute)
	return r, err
}

// tldReboot starts the daemon on root t in a new namespace whose kernel has
// none of its blocks, with a new boot id, and times it until all are back.
func (b *bench) tldReboot(name string, t tld, addrs []netip.Addr) (*restartResult, error) {
	ns, err := b.newNS(name)
	if err != nil {
		return nil, err
	}
	w, err := b.watch(ns, addrs)
	if err != nil {
		return nil, err
	}
	defer w.close()
	p, ready, err := b.startTLD(name, ns, t, newBootID())
	if err != nil {
		return nil, err
	}
	r := &restartResult{N: len(addrs), ReadySeconds: ready.Seconds()}
	if r.LoadedSeconds, err = loaded(p); err != nil {
		return nil, err
	}
	n, last, lost, all := b.waitAll(w, ns, tldSet, len(addrs), p.started.Add(tldWait))
	if err := b.ctx.Err(); err != nil {
		return nil, err
	}
	r.Blocked, r.AllInSeconds, r.MonitorLost, r.Capped = n, last.Sub(p.started).Seconds(), lost, !all
	if r.Usage, err = p.usage(); err != nil {
		return nil, err
	}
	if r.KernelAfter, err = tldSet.count(ns, w.want); err != nil {
		return nil, err
	}
	logf("   %s: ready %.3f s after start, all %d of %d back in the kernel %.3f s after start; nft lists %d",
		name, r.ReadySeconds, n, len(addrs), r.AllInSeconds, r.KernelAfter)
	if r.Capped {
		return r, fmt.Errorf("%s: %d of %d blocks re-applied within %v", name, n, len(addrs), tldWait)
	}
	_, err = p.stop(time.Minute)
	return r, err
}

// loaded waits for the engine's "state loaded", which it logs once it has
// gone through its stored blocks (before or after msg=ready), and returns
// its time since the start.
func loaded(p *proc) (float64, error) {
	at, _, err := p.waitLine(`msg="state loaded"`, 0, tldWait)
	return at.Sub(p.started).Seconds(), err
}

// newBootID is a random UUID in the kernel's boot_id format.
func newBootID() string {
	var u [16]byte
	rand.Read(u[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
