package actions

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

// TestFirewallDrop_PresentReadsEveryElement: present's own reading of the
// kernel's dump finds every element of both sets and nothing else, over
// the many datagrams a large set takes, right after the adds (while the
// kernel may still be resizing the set, which makes a dump repeat and
// miss elements: present then reads it again).
func TestFirewallDrop_PresentReadsEveryElement(t *testing.T) {
	t.Parallel()
	n := newTestNetns(t)
	f := nsFirewallDrop(t, n, "backend=nftables")
	var blocks []Block
	until := time.Now().Add(time.Hour)
	for i := range 6000 { // 198.18.0.0-198.18.23.111: a dump of many datagrams
		blocks = append(blocks, Block{Target{Addr: netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})}, until})
	}
	for i := range 300 {
		blocks = append(blocks, Block{Target{Addr: netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)})}, until})
	}
	if err := f.AddMany(context.Background(), blocks); err != nil {
		t.Fatal(err)
	}
	fw, err := f.backend()
	if err != nil {
		t.Fatal(err)
	}
	b := fw.(*nftBackend)
	b.mu.Lock()
	got, err := b.present()
	b.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	var missing []netip.Addr
	for _, bl := range blocks {
		if !got[bl.Target.Addr] {
			missing = append(missing, bl.Target.Addr)
		}
	}
	if len(missing) > 0 || len(got) != len(blocks) {
		t.Errorf("present found %d addresses, want the %d blocked; missing %d, the first %v",
			len(got), len(blocks), len(missing), missing[:min(3, len(missing))])
	}
}

// TestDumpKeys_Errors: an error the kernel answers ends the dump with it;
// a message of another request is skipped; a malformed length ends it.
func TestDumpKeys_Errors(t *testing.T) {
	const seq = 7
	msg := func(typ uint16, s uint32, body []byte) []byte {
		m := make([]byte, 16, 16+len(body)+3)
		putHeader(m, len(body), typ, s)
		m = append(m, body...)
		for len(m)%4 != 0 {
			m = append(m, 0)
		}
		return m
	}
	enoent := msg(2 /* NLMSG_ERROR */, seq, []byte{0xfe, 0xff, 0xff, 0xff}) // -2
	done, err := dumpKeys(enoent, seq, func(netip.Addr) { t.Error("an address from an error") })
	if !done || err == nil || err.Error() != "no such file or directory" {
		t.Errorf("error answer: done %v, err %v; want done and ENOENT", done, err)
	}
	cut := msg(3 /* NLMSG_DONE */, seq, []byte{0xfe, 0xff, 0xff, 0xff}) // a dump cut short: -ENOENT
	if done, err := dumpKeys(cut, seq, nil); !done || err == nil || err.Error() != "no such file or directory" {
		t.Errorf("a dump cut short: done %v, err %v; want done and ENOENT", done, err)
	}
	other := msg(3 /* NLMSG_DONE */, seq+1, []byte{0, 0, 0, 0})
	if done, err := dumpKeys(other, seq, nil); done || err != nil {
		t.Errorf("another request's end: done %v, err %v; want neither", done, err)
	}
	if done, err := dumpKeys([]byte{200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, seq, nil); !done || err == nil {
		t.Errorf("malformed length: done %v, err %v; want done with an error", done, err)
	}
}
