//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// f2bStormRestore is fail2ban's storm with its nftables action (one nft
// process per ban), capped at F2B_CAP, then its restart: stopped with
// SIGTERM (its action removes the set), its database completed to hold
// all StormN bans, and started again to restore them, capped too.
func (b *bench) f2bStormRestore(addrs []netip.Addr) error {
	ns, err := b.newNS("f2b-storm")
	if err != nil {
		return err
	}
	f, err := b.newF2B("storm")
	if err != nil {
		return err
	}
	p, _, err := b.startF2B("f2b-storm", ns, f)
	if err != nil {
		return err
	}
	if err := b.warmUp(p, ns, f.logpath(), sshdLine); err != nil {
		return err
	}
	if b.res.F2B.Storm, err = b.storm(p, ns, f.logpath(), sshdLine, addrs, f2bSet, b.sz.f2bCap()); err != nil {
		return err
	}
	b.res.F2B.Restart, err = b.f2bRestore(p, ns, f, addrs)
	return err
}

func (b *bench) f2bRestore(p *proc, ns string, f f2b, addrs []netip.Addr) (*restartResult, error) {
	r := &restartResult{N: len(addrs), CapSeconds: float64(b.sz.F2BCapS)}
	want := setOf(addrs)
	stopped, err := p.stop(2 * time.Minute)
	if err != nil {
		return nil, err
	}
	r.StopSeconds = stopped.Seconds()
	if r.KernelAfterStop, err = f2bSet.count(ns, want); err != nil {
		return nil, err
	}
	// Only the database should bring the bans back, not lines of the storm
	// the filter had not read yet.
	if err := os.Truncate(f.logpath(), 0); err != nil {
		return nil, err
	}
	if err := b.fillF2BDB(f, addrs); err != nil {
		return nil, err
	}
	w, err := b.watch(ns, addrs)
	if err != nil {
		return nil, err
	}
	defer w.close()
	p2, ready, err := b.startF2B("f2b-restart", ns, f)
	if err != nil {
		return nil, err
	}
	r.ReadySeconds = ready.Seconds()
	n, last, lost, all := b.waitAll(w, ns, f2bSet, len(addrs), p2.started.Add(ready+b.sz.f2bCap()))
	if err := b.ctx.Err(); err != nil {
		return nil, err
	}
	r.Blocked, r.AllInSeconds, r.MonitorLost, r.Capped = n, last.Sub(p2.started).Seconds(), lost, !all
	if n == 0 {
		r.AllInSeconds = time.Since(p2.started).Seconds()
	}
	if first, ok := w.first(); ok {
		r.FirstSeconds = first.Sub(p2.started).Seconds()
	}
	if r.Usage, err = p2.usage(); err != nil {
		return nil, err
	}
	if r.KernelAfter, err = f2bSet.count(ns, w.want); err != nil {
		return nil, err
	}
	logf("   f2b-restart: stop %.3f s, %d bans in the kernel while stopped, jail started %.3f s after start, %d of %d restored %.3f s after start%s",
		r.StopSeconds, r.KernelAfterStop, r.ReadySeconds, n, len(addrs), r.AllInSeconds, capNote(r.Capped))
	_, err = p2.stop(2 * time.Minute)
	return r, err
}

// fillF2BDB makes fail2ban's database hold a current ban of every address
// (bench/lib/f2bdb.py), as it would after banning them all.
func (b *bench) fillF2BDB(f f2b, addrs []netip.Addr) error {
	var list strings.Builder
	for _, a := range addrs {
		list.WriteString(a.String() + "\n")
	}
	file := filepath.Join(f.dir, "addresses")
	if err := os.WriteFile(file, []byte(list.String()), 0o644); err != nil {
		return err
	}
	out, err := exec.Command("/usr/bin/python3", filepath.Join(b.libDir, "f2bdb.py"), f.db(), "sshd", "3600", file).CombinedOutput()
	if err != nil {
		return fmt.Errorf("f2bdb.py: %v: %s", err, out)
	}
	var got struct{ Already, Inserted int }
	if err := json.Unmarshal(out, &got); err != nil || got.Already+got.Inserted != len(addrs) {
		return fmt.Errorf("f2bdb.py: %s", out)
	}
	logf("   fail2ban database: %d bans made by fail2ban, %d added", got.Already, got.Inserted)
	return nil
}
