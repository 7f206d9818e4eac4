package actions

import (
	"encoding/binary"
	"os"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// nftNotification is one netlink message of the nftables subsystem, as the
// kernel multicasts it: header, nfgenmsg, attributes.
func nftNotification(op uint16, attrs ...[]byte) []byte {
	body := []byte{unix.NFPROTO_INET, 0, 0, 0}
	for _, a := range attrs {
		body = append(body, a...)
	}
	m := make([]byte, unix.SizeofNlMsghdr, unix.SizeofNlMsghdr+len(body)+3)
	binary.NativeEndian.PutUint32(m[0:4], uint32(unix.SizeofNlMsghdr+len(body)))
	binary.NativeEndian.PutUint16(m[4:6], unix.NFNL_SUBSYS_NFTABLES<<8|op)
	m = append(m, body...)
	for len(m)%4 != 0 {
		m = append(m, 0)
	}
	return m
}

func nla(typ uint16, v []byte) []byte {
	a := make([]byte, 4, 4+len(v)+3)
	binary.NativeEndian.PutUint16(a[0:2], uint16(4+len(v)))
	binary.NativeEndian.PutUint16(a[2:4], typ)
	a = append(a, v...)
	for len(a)%4 != 0 {
		a = append(a, 0)
	}
	return a
}

func newGen(pid uint32, name string) []byte {
	p := binary.BigEndian.AppendUint32(nil, pid)
	return nftNotification(unix.NFT_MSG_NEWGEN, nla(unix.NFTA_GEN_ID, []byte{0, 0, 0, 7}),
		nla(unix.NFTA_GEN_PROC_PID, p), nla(unix.NFTA_GEN_PROC_NAME, append([]byte(name), 0)))
}

// TestNFTTransactions_Read: a transaction that only adds is not reported,
// one that deletes is, with its maker, unless the maker is this process;
// a transaction may span datagrams; a malformed length ends the datagram.
func TestNFTTransactions_Read(t *testing.T) {
	const other = 4_194_305 // above PID_MAX_LIMIT: never one of our threads
	adds := slices.Concat(nftNotification(unix.NFT_MSG_NEWSETELEM), nftNotification(unix.NFT_MSG_NEWSETELEM), newGen(other, "storm"))
	dels := slices.Concat(nftNotification(unix.NFT_MSG_NEWSETELEM), nftNotification(unix.NFT_MSG_DELSETELEM), newGen(other, "nft"))
	flush := slices.Concat(nftNotification(unix.NFT_MSG_DELRULE), newGen(other, "iptables-nft"))
	own := slices.Concat(nftNotification(unix.NFT_MSG_DELSETELEM), newGen(uint32(os.Getpid()), "threatlockdown"))
	var tr nftTransactions
	for _, tc := range []struct {
		name string
		data []byte
		want []string
	}{
		{"adds only", adds, nil},
		{"a delete", dels, []string{"nft[4194305]"}},
		{"two transactions", slices.Concat(adds, flush), []string{"iptables-nft[4194305]"}},
		{"our own delete", own, nil},
		{"a delete, its end in the next datagram", nftNotification(unix.NFT_MSG_DELTABLE), nil},
		{"the end", newGen(other, "nft"), []string{"nft[4194305]"}},
		{"malformed length", append([]byte{255, 255, 0, 0}, make([]byte, 12)...), nil},
	} {
		if got := tr.read(tc.data); !slices.Equal(got, tc.want) {
			t.Errorf("%s: reported %q, want %q", tc.name, got, tc.want)
		}
	}
}

// putHeader writes a netlink header for a body of n bytes into m[:16].
func putHeader(m []byte, n int, typ uint16, seq uint32) {
	binary.NativeEndian.PutUint32(m[0:4], uint32(unix.SizeofNlMsghdr+n))
	binary.NativeEndian.PutUint16(m[4:6], typ)
	binary.NativeEndian.PutUint32(m[8:12], seq)
}
