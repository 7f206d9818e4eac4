package actions

import (
	"bytes"
	"encoding/binary"
	"errors"
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
	// A lasting nftables connection opens its socket at once, in the
	// namespace b.opts name; its netlink socket is the one read here.
	var sock *netlink.Conn
	c, err := nftables.New(append(b.opts, nftables.AsLasting(),
		nftables.WithSockOptions(bigReadBuffer(monitorBuffer)),
		nftables.WithSockOptions(func(nc *netlink.Conn) error { sock = nc; return nil }))...)
	if err == nil && sock == nil {
		err = errors.New("no netlink socket")
	}
	if err == nil {
		if err = sock.JoinGroup(unix.NFNLGRP_NFTABLES); err != nil {
			c.CloseLasting()
		}
	}
	if err != nil {
		slog.Warn("firewall-drop: no nftables notifications", "err", err)
		return
	}
	m := &nftMonitor{conn: c, sock: sock}
	b.mon = m
	go b.watchEvents(m, b.notify)
}

// nftMonitor is a subscription to the kernel's nftables notifications.
type nftMonitor struct {
	conn *nftables.Conn
	sock *netlink.Conn
}

// Close ends the subscription; watchEvents then returns.
func (m *nftMonitor) Close() error { return m.conn.CloseLasting() }

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

// watchEvents reports the transactions of others that delete something.
// It reads the notifications into one buffer and looks at no more than
// each message's type, and at the attributes of the message that ends a
// transaction (who made it): a storm of our own adds is ten thousand
// notifications, and decoding each would cost the daemon CPU while it
// blocks. An overrun (the kernel dropped notifications) is reported once,
// as changes may have been missed. When the socket breaks, it reports and
// lets the next use of the table subscribe again.
func (b *nftBackend) watchEvents(m *nftMonitor, notify func(string)) {
	raw, err := m.sock.SyscallConn()
	if err == nil {
		var t nftTransactions
		buf := make([]byte, 1<<16)
		for {
			var n int
			var rerr error
			if err = raw.Read(func(fd uintptr) bool {
				n, _, rerr = unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
				return rerr != unix.EAGAIN
			}); err != nil {
				break
			}
			if rerr == unix.ENOBUFS {
				t = nftTransactions{}
				notify("")
				continue
			}
			if err = rerr; err != nil {
				break
			}
			for _, who := range t.read(buf[:n]) {
				notify(who)
			}
		}
	}
	b.mu.Lock()
	if b.mon == m {
		b.mon, b.ready = nil, false // set up and subscribe again at next use
		notify("")
		m.Close()
	}
	b.mu.Unlock()
}

// nftTransactions follows the notifications of transactions as they
// arrive: the messages of one transaction, then NFT_MSG_NEWGEN naming the
// process that made it.
type nftTransactions struct {
	deletes bool // the transaction under way removed something
}

// The nftables messages that remove something; the kernel notifies the
// destroy commands (Linux 6.3) as these too.
var nftDeletes = [...]bool{
	unix.NFT_MSG_DELTABLE: true, unix.NFT_MSG_DELCHAIN: true, unix.NFT_MSG_DELRULE: true,
	unix.NFT_MSG_DELSET: true, unix.NFT_MSG_DELSETELEM: true, unix.NFT_MSG_DELOBJ: true,
	unix.NFT_MSG_DELFLOWTABLE: true,
}

// read takes one datagram of notifications and returns, for each
// transaction it ends that removed something and was not made by this
// process, the process's name and pid as "name[pid]" ("" when the kernel
// did not say).
func (t *nftTransactions) read(b []byte) (by []string) {
	for len(b) >= unix.SizeofNlMsghdr {
		size := int(binary.NativeEndian.Uint32(b[0:4]))
		if size < unix.SizeofNlMsghdr || size > len(b) {
			return by // malformed: the rest of the datagram is not read
		}
		typ := binary.NativeEndian.Uint16(b[4:6])
		msg := b[unix.SizeofNlMsghdr:size]
		b = b[min(nlmAlign(size), len(b)):]
		if typ>>8 != unix.NFNL_SUBSYS_NFTABLES {
			continue
		}
		switch op := int(typ & 0xff); {
		case op == unix.NFT_MSG_NEWGEN:
			if t.deletes {
				if pid, name := genProc(msg); !ours(pid) {
					by = append(by, fmt.Sprintf("%s[%d]", name, pid))
				}
			}
			t.deletes = false
		case op < len(nftDeletes) && nftDeletes[op]:
			t.deletes = true
		}
	}
	return by
}

// genProc reads the process id and name from an NFT_MSG_NEWGEN message
// (after its netlink header): a nfgenmsg, then attributes.
func genProc(msg []byte) (pid uint32, name string) {
	if len(msg) < 4 {
		return 0, ""
	}
	forEachAttr(msg[4:], func(typ uint16, v []byte) {
		switch typ {
		case unix.NFTA_GEN_PROC_PID:
			if len(v) == 4 {
				pid = binary.BigEndian.Uint32(v)
			}
		case unix.NFTA_GEN_PROC_NAME:
			name = string(bytes.TrimRight(v, "\x00"))
		}
	})
	return pid, name
}

func nlmAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }
func nlaAlign(n int) int { return (n + unix.NLA_ALIGNTO - 1) &^ (unix.NLA_ALIGNTO - 1) }

// ours reports whether the kernel task pid (the kernel names a thread, not
// the process) is one of our own threads.
func ours(pid uint32) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", pid))
	return err == nil
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
