package actions

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// The nftables backend watches the kernel's nftables notifications while
// its table is in use: a transaction of another process that deletes
// anything (an element, a set, a chain, a rule, a table, or the whole
// ruleset) is reported with the process's name and pid, as the kernel gives
// them. The engine's drift repair then compares and puts back.

// setNotify starts reporting to notify (once the table is in use).
func (b *nftBackend) setNotify(notify func(who string)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.notify = notify
	if b.ready {
		b.startMonitor()
	}
}

// startMonitor subscribes to the notifications, if anyone listens and no
// subscription runs. b.mu is held. A failure is logged: the periodic check
// remains.
func (b *nftBackend) startMonitor() {
	if b.notify == nil || b.mon != nil {
		return
	}
	c, err := nftables.New(append(b.opts, nftables.WithSockOptions(bigReadBuffer(monitorBuffer)))...)
	if err != nil {
		slog.Warn("firewall-drop: no nftables notifications", "err", err)
		return
	}
	m := nftables.NewMonitor(nftables.WithMonitorEventBuffer(64))
	events, err := c.AddGenerationalMonitor(m)
	if err != nil {
		slog.Warn("firewall-drop: no nftables notifications", "err", err)
		return
	}
	b.mon = m
	go b.watchEvents(m, events, b.notify)
}

// monitorBuffer is the receive buffer of the notification socket: our own
// storm of 10,000 adds is about 2 MB of notifications, read while the storm
// goes on. An overrun is not lost: it causes a check (see watchEvents).
const monitorBuffer = 8 << 20

// bigReadBuffer sets a netlink socket's receive buffer to size, beyond
// net.core.rmem_max when the process may (CAP_NET_ADMIN).
func bigReadBuffer(size int) nftables.SockOption {
	return func(c *netlink.Conn) error {
		raw, err := c.SyscallConn()
		if err != nil {
			return err
		}
		var serr error
		if err := raw.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size)
		}); err != nil {
			return err
		}
		if serr != nil {
			return c.SetReadBuffer(size)
		}
		return nil
	}
}

// watchEvents reports the transactions of others that delete something. If
// the subscription breaks (a netlink buffer overrun in a storm), it reports
// once, since changes may have been missed, and lets the next use of the
// table subscribe again.
func (b *nftBackend) watchEvents(m *nftables.Monitor, events chan *nftables.MonitorEvents, notify func(string)) {
	for evs := range events {
		by, ok := evs.GeneratedBy.Data.(*nftables.GenMsg)
		if !ok || evs.GeneratedBy.Error != nil {
			notify("")
			continue
		}
		if deletes(evs.Changes) && !ours(by.ProcPID) {
			notify(fmt.Sprintf("%s[%d]", by.ProcComm, by.ProcPID))
		}
	}
	b.mu.Lock()
	if b.mon == m {
		b.mon, b.ready = nil, false // set up and subscribe again at next use
		notify("")
	}
	b.mu.Unlock()
}

// ours reports whether the kernel task pid (the kernel names a thread, not
// the process) is one of our own threads.
func ours(pid uint32) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", pid))
	return err == nil
}

// deletes reports whether a transaction removed anything.
func deletes(changes []*nftables.MonitorEvent) bool {
	for _, c := range changes {
		switch c.Type {
		case nftables.MonitorEventTypeDelTable, nftables.MonitorEventTypeDelChain, nftables.MonitorEventTypeDelRule,
			nftables.MonitorEventTypeDelSet, nftables.MonitorEventTypeDelSetElem:
			return true
		}
	}
	return false
}

// holding sets the table up again (see FirewallDrop.present) and returns
// the addresses in both sets.
func (b *nftBackend) holding() (map[netip.Addr]bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ready = false
	if err := b.ensure(); err != nil {
		return nil, err
	}
	return b.present()
}
