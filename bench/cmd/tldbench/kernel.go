//go:build linux

package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// setWatch follows the kernel's nf_tables notifications in one network
// namespace and records when each address of interest first entered a set
// and whether one left. It is a witness independent of both tools: neither
// tool's own reports are trusted for when a block took effect.
type setWatch struct {
	conn *netlink.Conn
	want map[netip.Addr]bool
	done <-chan struct{} // the run was interrupted: waits end

	mu      sync.Mutex
	added   map[netip.Addr]time.Time
	last    time.Time // when the latest wanted address was first added
	deleted int       // wanted addresses deleted from a set
	lost    error     // a receive error: events may be missing (ENOBUFS)
	closed  bool
	changed chan struct{} // closed and replaced on every batch of events
}

// watch starts watching namespace ns for the wanted addresses; its waits
// end early when the run is interrupted.
func (b *bench) watch(ns string, want []netip.Addr) (*setWatch, error) {
	w, err := watchSets(ns, want)
	if err == nil {
		w.done = b.ctx.Done()
	}
	return w, err
}

// watchSets starts watching namespace ns for the wanted addresses.
func watchSets(ns string, want []netip.Addr) (*setWatch, error) {
	f, err := os.Open("/run/netns/" + ns)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: int(f.Fd())})
	if err != nil {
		return nil, fmt.Errorf("netlink in %s: %w", ns, err)
	}
	if err := c.JoinGroup(unix.NFNLGRP_NFTABLES); err != nil {
		c.Close()
		return nil, fmt.Errorf("join NFNLGRP_NFTABLES: %w", err)
	}
	// A storm of 100,000 elements is 100,000 notifications: room for them
	// all, so that none is dropped while the reader catches up.
	if err := forceRcvBuf(c, 512<<20); err != nil {
		c.Close()
		return nil, err
	}
	w := &setWatch{conn: c, want: make(map[netip.Addr]bool, len(want)), added: map[netip.Addr]time.Time{}, changed: make(chan struct{})}
	for _, a := range want {
		w.want[a] = true
	}
	go w.read()
	return w, nil
}

func forceRcvBuf(c *netlink.Conn, n int) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n)
	}); err != nil {
		return err
	}
	return serr
}

var (
	newElem = netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_NEWSETELEM)
	delElem = netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_DELSETELEM)
)

func (w *setWatch) read() {
	for {
		msgs, err := w.conn.Receive()
		now := time.Now()
		w.mu.Lock()
		if w.closed {
			w.mu.Unlock()
			return
		}
		if err != nil && w.lost == nil {
			w.lost = err
		}
		for _, m := range msgs {
			w.record(m, now)
		}
		close(w.changed)
		w.changed = make(chan struct{})
		w.mu.Unlock()
		if err != nil && !errors.Is(err, unix.ENOBUFS) {
			return
		}
	}
}

func (w *setWatch) record(m netlink.Message, now time.Time) {
	if m.Header.Type != newElem && m.Header.Type != delElem {
		return
	}
	_, addrs, err := parseElems(m.Data)
	if err != nil && w.lost == nil {
		w.lost = err
	}
	for _, a := range addrs {
		if !w.want[a] {
			continue
		}
		if m.Header.Type == delElem {
			w.deleted++
		} else if _, ok := w.added[a]; !ok {
			w.added[a] = now
			w.last = now
		}
	}
}

// wait waits until cond holds or the deadline passes; cond runs under the
// lock with the watch's state. It reports whether cond held.
func (w *setWatch) wait(deadline time.Time, cond func(w *setWatch) bool) bool {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		w.mu.Lock()
		ok, ch := cond(w), w.changed
		w.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-w.done:
			return false
		case <-timer.C:
			w.mu.Lock()
			defer w.mu.Unlock()
			return cond(w)
		}
	}
}

// snapshot returns how many wanted addresses were added, when the latest
// was, how many were deleted, and the receive error if any.
func (w *setWatch) snapshot() (added int, last time.Time, deleted int, lost error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.added), w.last, w.deleted, w.lost
}

func (w *setWatch) addedAt(a netip.Addr) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.added[a]
	return t, ok
}

func (w *setWatch) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.conn.Close()
}

// parseElems reads a NEWSETELEM or DELSETELEM notification: the set's name
// and the IPv4 and IPv6 keys of its elements.
func parseElems(data []byte) (set string, addrs []netip.Addr, err error) {
	if len(data) < 4 {
		return "", nil, errors.New("short nf_tables message")
	}
	ad, err := netlink.NewAttributeDecoder(data[4:]) // after struct nfgenmsg
	if err != nil {
		return "", nil, err
	}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_SET_ELEM_LIST_SET:
			set = ad.String()
		case unix.NFTA_SET_ELEM_LIST_ELEMENTS:
			ad.Nested(func(l *netlink.AttributeDecoder) error {
				for l.Next() {
					if l.Type() == unix.NFTA_LIST_ELEM {
						l.Nested(func(e *netlink.AttributeDecoder) error { addrs = appendKey(e, addrs); return nil })
					}
				}
				return nil
			})
		}
	}
	return set, addrs, ad.Err()
}

// appendKey appends the key of one element (NFTA_SET_ELEM_KEY, a nested
// NFTA_DATA_VALUE) when it is an address.
func appendKey(e *netlink.AttributeDecoder, addrs []netip.Addr) []netip.Addr {
	for e.Next() {
		if e.Type() != unix.NFTA_SET_ELEM_KEY {
			continue
		}
		e.Nested(func(k *netlink.AttributeDecoder) error {
			for k.Next() {
				if a, ok := netip.AddrFromSlice(k.Bytes()); ok && k.Type() == unix.NFTA_DATA_VALUE {
					addrs = append(addrs, a)
				}
			}
			return nil
		})
	}
	return addrs
}

// first returns when the earliest wanted address was added.
func (w *setWatch) first() (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var t time.Time
	for _, at := range w.added {
		if t.IsZero() || at.Before(t) {
			t = at
		}
	}
	return t, !t.IsZero()
}
