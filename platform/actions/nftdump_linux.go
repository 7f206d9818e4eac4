package actions

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// present returns the addresses in both sets. It reads the kernel's dump
// of each set itself, into one buffer, and keeps only each element's key:
// the nftables package decodes every element whole, which for a listing of
// 100,000 blocks allocated about 150 MB, and the drift check lists them at
// every start and every half minute.
func (b *nftBackend) present() (map[netip.Addr]bool, error) {
	var sock *netlink.Conn
	c, err := nftables.New(append(b.opts, nftables.AsLasting(),
		nftables.WithSockOptions(func(nc *netlink.Conn) error { sock = nc; return nil }))...)
	if err != nil {
		return nil, err
	}
	defer c.CloseLasting()
	if sock == nil {
		return nil, errors.New("no netlink socket")
	}
	present := make(map[netip.Addr]bool)
	m := make(map[netip.Addr]bool)
	buf := make([]byte, 1<<16)
	for _, set := range []string{nftSet4Name, nftSet6Name} {
		// A dump that overlaps the kernel resizing the set's hash table (as
		// it does in the background after a storm) may repeat some elements
		// and miss others; a repeat shows it, and the set is read again.
		for try := 1; ; try++ {
			clear(m)
			records := 0
			if err := dumpSet(sock, buf, nftTableName, set, func(a netip.Addr) { m[a] = true; records++ }); err != nil {
				return nil, fmt.Errorf("list set %s: %w", set, err)
			}
			if records == len(m) {
				break
			}
			if try == maxDumpTries {
				return nil, fmt.Errorf("list set %s: elements repeated in %d listings in a row (the set kept changing)", set, try)
			}
		}
		for a := range m {
			present[a] = true
		}
	}
	return present, nil
}

// maxDumpTries bounds the listings of one set that repeat elements.
const maxDumpTries = 5

// dumpSet asks for the elements of set in table (family inet) and calls
// add with the key of each, reading the answer into buf.
func dumpSet(sock *netlink.Conn, buf []byte, table, set string, add func(netip.Addr)) error {
	attrs, err := netlink.MarshalAttributes([]netlink.Attribute{
		{Type: unix.NFTA_SET_ELEM_LIST_TABLE, Data: append([]byte(table), 0)},
		{Type: unix.NFTA_SET_ELEM_LIST_SET, Data: append([]byte(set), 0)},
	})
	if err != nil {
		return err
	}
	req, err := sock.Send(netlink.Message{
		Header: netlink.Header{
			Type:  netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETSETELEM),
			Flags: netlink.Request | netlink.Dump,
		},
		Data: append([]byte{unix.NFPROTO_INET, unix.NFNETLINK_V0, 0, 0}, attrs...),
	})
	if err != nil {
		return err
	}
	raw, err := sock.SyscallConn()
	if err != nil {
		return err
	}
	for {
		var n int
		var rerr error
		if err := raw.Read(func(fd uintptr) bool {
			n, _, rerr = unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
			return rerr != unix.EAGAIN
		}); err != nil {
			return err
		}
		if rerr != nil {
			return rerr
		}
		if n > len(buf) {
			return fmt.Errorf("a dump message of %d bytes is larger than the %d read", n, len(buf))
		}
		done, err := dumpKeys(buf[:n], req.Header.Sequence, add)
		if done || err != nil {
			return err
		}
	}
}

// dumpKeys reads one datagram of a set element dump with sequence number
// seq, calling add with each element's key. It reports whether the dump
// ended, and the error the kernel answered, if any.
func dumpKeys(b []byte, seq uint32, add func(netip.Addr)) (done bool, err error) {
	for len(b) >= unix.SizeofNlMsghdr {
		size := int(binary.NativeEndian.Uint32(b[0:4]))
		if size < unix.SizeofNlMsghdr || size > len(b) {
			return true, errors.New("malformed netlink message")
		}
		typ := binary.NativeEndian.Uint16(b[4:6])
		msg := b[unix.SizeofNlMsghdr:size]
		mseq := binary.NativeEndian.Uint32(b[8:12])
		b = b[min(nlmAlign(size), len(b)):]
		if mseq != seq {
			continue // not an answer to this request
		}
		switch {
		case typ == unix.NLMSG_DONE:
			// A dump cut short (the set deleted meanwhile) ends with the
			// error in place of the element count.
			if len(msg) >= 4 {
				if code := int32(binary.NativeEndian.Uint32(msg[0:4])); code < 0 {
					return true, unix.Errno(-code)
				}
			}
			return true, nil
		case typ == unix.NLMSG_ERROR:
			if len(msg) < 4 {
				return true, errors.New("malformed netlink error")
			}
			if code := int32(binary.NativeEndian.Uint32(msg[0:4])); code != 0 {
				return true, unix.Errno(-code)
			}
			return true, nil
		case typ == unix.NFNL_SUBSYS_NFTABLES<<8|unix.NFT_MSG_NEWSETELEM && len(msg) >= 4:
			elems, _ := nlAttr(msg[4:], unix.NFTA_SET_ELEM_LIST_ELEMENTS)
			forEachAttr(elems, func(typ uint16, elem []byte) {
				if typ != unix.NFTA_LIST_ELEM {
					return
				}
				key, _ := nlAttr(elem, unix.NFTA_SET_ELEM_KEY)
				if v, ok := nlAttr(key, unix.NFTA_DATA_VALUE); ok {
					if a, ok := netip.AddrFromSlice(v); ok {
						add(a)
					}
				}
			})
		}
	}
	return false, nil
}

// forEachAttr calls f with the type (flags cleared) and value of each
// netlink attribute in b, stopping at a malformed one.
func forEachAttr(b []byte, f func(typ uint16, v []byte)) {
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b[0:2]))
		if l < 4 || l > len(b) {
			return
		}
		f(binary.NativeEndian.Uint16(b[2:4])&^(unix.NLA_F_NESTED|unix.NLA_F_NET_BYTEORDER), b[4:l])
		b = b[min(nlaAlign(l), len(b)):]
	}
}

// nlAttr returns the value of the first attribute of type typ in b.
func nlAttr(b []byte, typ uint16) (v []byte, ok bool) {
	forEachAttr(b, func(t uint16, val []byte) {
		if t == typ && !ok {
			v, ok = val, true
		}
	})
	return v, ok
}
