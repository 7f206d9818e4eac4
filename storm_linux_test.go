//go:build linux

package main

// The storm benchmarks are issue 6's figures, end to end: the real binary,
// inside a network namespace of its own, the built-in firewall-drop on
// nftables. As root, with ip and nft:
//
//	go test -run '^$' -bench 'Storm|AlertToBlock' -benchtime 3x .
//
// BenchmarkStorm10k appends 10,000 alerts of distinct attackers in one
// write and reports s/storm, the time until all 10,000 are in the kernel's
// set, and nft-ratio: the same 10,000 blocks made with one `nft` process per
// address (timed on 200 in the same run and scaled) over s/storm, and
// cpu-s/storm, the daemon's CPU time until then.
// BenchmarkAlertToBlock appends one alert at a time and reports the p50 and
// p99 of the time until its address is in the set.

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

const stormAttackers = 10_000

func stormConf(timeout int) string { return confFor("firewall-drop", timeout) }

// stormAddr is the i-th attacker, in 198.18.0.0/15.
func stormAddr(i int) string {
	return netip.AddrFrom4([4]byte{198, 18 + byte(i>>16), byte(i >> 8), byte(i)}).String()
}

func BenchmarkStorm10k(b *testing.B) {
	ns, fd := stormNetns(b)
	var lines strings.Builder
	for i := range stormAttackers {
		lines.WriteString(sshdAlert(stormAddr(i), fmt.Sprintf("1700000000.%d", i), i))
		lines.WriteByte('\n')
	}
	var total time.Duration
	var cpu float64
	for b.Loop() {
		flushRuleset(b, fd)
		root := newRoot(b, stormConf(600))
		os.Remove(filepath.Join(root, "active-response/bin/test-drop"))
		d := launch(b, root, exec.Command("ip", "netns", "exec", ns, binary, "run", "--root", root))
		added := watchAdds(b, fd)
		used := cpuSeconds(b, d.cmd.Process.Pid)
		start := time.Now()
		appendAlerts(b, root, lines.String())
		total += added(stormAttackers, 60*time.Second).Sub(start)
		cpu += cpuSeconds(b, d.cmd.Process.Pid) - used
		stopDaemon(b, d)
	}
	perStorm := total.Seconds() / float64(b.N)
	b.ReportMetric(perStorm, "s/storm")
	// The daemon's CPU until the last block (user and system, all threads):
	// steadier than s/storm on a shared machine.
	b.ReportMetric(cpu/float64(b.N), "cpu-s/storm")
	nft := nftProcessCost(b, ns, 200) * stormAttackers
	b.ReportMetric(nft.Seconds(), "s/nft-processes")
	b.ReportMetric(nft.Seconds()/perStorm, "nft-ratio")
}

func BenchmarkAlertToBlock(b *testing.B) {
	ns, fd := stormNetns(b)
	flushRuleset(b, fd)
	root := newRoot(b, stormConf(600))
	os.Remove(filepath.Join(root, "active-response/bin/test-drop"))
	d := launch(b, root, exec.Command("ip", "netns", "exec", ns, binary, "run", "--root", root))
	defer stopDaemon(b, d)
	// The daemon sets its table up just after it is ready, before any alert
	// (see engine.Preparer): what is timed is a block, not the set-up.
	waitTable(b, fd)
	// The kernel tells of each element added: nothing polls, so the
	// measurement takes no CPU from the daemon's two cores.
	added, stop := watchEach(b, fd)
	defer stop()
	// The alerts file stays open, as analysisd keeps it: each alert is one
	// write(2), timed from just before it.
	alerts, err := os.OpenFile(filepath.Join(root, "logs/alerts/alerts.json"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer alerts.Close()
	var lat []time.Duration
	i := 0
	for b.Loop() {
		addr := stormAddr(i)
		line := sshdAlert(addr, fmt.Sprintf("1700000000.%d", i), i) + "\n"
		start := time.Now()
		if _, err := alerts.WriteString(line); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, added(netip.MustParseAddr(addr), 10*time.Second).Sub(start))
		i++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-p50")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "ms-p99")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "ms-max")
}

// waitTable waits for the daemon's nftables table to be set up in the
// namespace of fd.
func waitTable(b *testing.B, fd int) {
	c, err := nftables.New(nftables.WithNetNSFd(fd))
	if err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet)
		ours := 0
		for _, ch := range chains {
			if ch.Table.Name == "threatlockdown" {
				ours++
			}
		}
		if err == nil && ours == 2 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("the daemon did not set its table up within 10 s (chains %d, %v)", ours, err)
		}
	}
}

func stormNetns(b *testing.B) (string, int) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: creates a network namespace and nftables sets in it")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skipf("needs %s (apt-get install iproute2 nftables)", tool)
		}
	}
	return newRebootNetns(b)
}

// appendAlerts writes lines to the root's alerts.json in one write.
func appendAlerts(b *testing.B, root, lines string) {
	f, err := os.OpenFile(filepath.Join(root, "logs/alerts/alerts.json"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(lines); err != nil {
		b.Fatal(err)
	}
}

// watchEach subscribes to the namespace's nftables notifications and
// returns a function that waits for the element addr to be added and
// returns when the notification came; stop ends the subscription.
//
// What it times is the daemon's, as nearly as a process beside it can: one
// OS thread of its own waits in recvfrom(2) on the socket, so the kernel
// wakes it directly, and it takes the time as the call returns, before
// anything else (the nftables package's monitor handed each message
// through two goroutines and decoded it whole first: on two busy cores, a
// wait of its own in each step). The kernel stamps no netlink message.
func watchEach(b *testing.B, fd int) (added func(addr netip.Addr, within time.Duration) time.Time, stop func()) {
	sock := nftNotifications(b, fd)
	type seen struct {
		addr netip.Addr
		at   time.Time
	}
	adds := make(chan seen, 1024)
	var stopping atomic.Bool
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		defer close(adds)
		runtime.LockOSThread() // this thread only waits on the socket
		newElem := uint16(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_NEWSETELEM)
		buf := make([]byte, 1<<16)
		for !stopping.Load() {
			n, _, err := unix.Recvfrom(sock, buf, 0)
			at := time.Now()
			if err == unix.EAGAIN || err == unix.EINTR {
				continue // the receive timeout: look at stopping
			}
			if err != nil {
				return
			}
			msgs, err := syscall.ParseNetlinkMessage(buf[:n])
			if err != nil {
				return
			}
			for _, m := range msgs {
				if m.Header.Type != newElem || len(m.Data) <= 4 {
					continue
				}
				keys := map[netip.Addr]bool{}
				elementKeys(m.Data[4:], keys)
				for a := range keys {
					adds <- seen{a, at}
				}
			}
		}
	}()
	return func(addr netip.Addr, within time.Duration) time.Time {
			timeout := time.After(within)
			for {
				select {
				case s, ok := <-adds:
					if !ok {
						b.Fatalf("nftables notifications ended before %s", addr)
					}
					if s.addr == addr {
						return s.at
					}
				case <-timeout:
					b.Fatalf("%s not in the kernel after %v", addr, within)
				}
			}
		}, func() {
			stopping.Store(true)
			for range adds { // lets the reader end: it may be sending
			}
			<-ended
			unix.Close(sock)
		}
}

// nftNotifications opens a netlink socket in the network namespace fd,
// subscribed to its nftables notifications, that blocks in receives for at
// most a second (then EAGAIN).
func nftNotifications(b *testing.B, fd int) int {
	// A socket belongs to the namespace of the thread that makes it: a
	// thread of its own enters the namespace, and is then thrown away.
	type result struct {
		sock int
		err  error
	}
	res := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			res <- result{-1, err}
			return
		}
		sock, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
		res <- result{sock, err}
	}()
	r := <-res
	if r.err != nil {
		b.Fatal(r.err)
	}
	for _, err := range []error{
		unix.Bind(r.sock, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}),
		unix.SetsockoptInt(r.sock, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, unix.NFNLGRP_NFTABLES),
		unix.SetsockoptInt(r.sock, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20),
		unix.SetsockoptTimeval(r.sock, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 1}),
	} {
		if err != nil {
			unix.Close(r.sock)
			b.Fatal(err)
		}
	}
	return r.sock
}

// watchAdds subscribes to the namespace's nftables notifications and
// returns a function that waits until n distinct addresses were added and
// returns when the notification came. It reads only the element keys from
// the raw messages: the machine has two cores, and decoding 10,000 whole
// elements (as nftables.Monitor does) took CPU from the daemon it times.
func watchAdds(b *testing.B, fd int) func(n int, within time.Duration) time.Time {
	var sock *netlink.Conn
	c, err := nftables.New(nftables.WithNetNSFd(fd), nftables.AsLasting(), nftables.WithSockOptions(func(nc *netlink.Conn) error {
		sock = nc
		return nc.SetReadBuffer(64 << 20) // as root, up to net.core.rmem_max
	}))
	if err != nil {
		b.Fatal(err)
	}
	if err := sock.JoinGroup(unix.NFNLGRP_NFTABLES); err != nil {
		b.Fatal(err)
	}
	newElem := netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_NEWSETELEM)
	return func(n int, within time.Duration) time.Time {
		defer c.CloseLasting()
		sock.SetReadDeadline(time.Now().Add(within))
		seen := map[netip.Addr]bool{}
		for len(seen) < n {
			msgs, err := sock.Receive()
			if err != nil {
				b.Fatalf("%d of %d blocks in the kernel: %v", len(seen), n, err)
			}
			for _, m := range msgs {
				if m.Header.Type == newElem && len(m.Data) > 4 {
					elementKeys(m.Data[4:], seen)
				}
			}
		}
		return time.Now()
	}
}

// elementKeys adds the keys of the elements of one NFT_MSG_NEWSETELEM
// message (its attributes) to seen.
func elementKeys(attrs []byte, seen map[netip.Addr]bool) {
	// The nesting: the list's elements, each element, its key, the key's value.
	path := []uint16{unix.NFTA_SET_ELEM_LIST_ELEMENTS, unix.NFTA_LIST_ELEM, unix.NFTA_SET_ELEM_KEY, unix.NFTA_DATA_VALUE}
	var walk func(d *netlink.AttributeDecoder, depth int) error
	walk = func(d *netlink.AttributeDecoder, depth int) error {
		for d.Next() {
			switch {
			case d.Type() != path[depth]:
			case depth == len(path)-1:
				if a, ok := netip.AddrFromSlice(d.Bytes()); ok {
					seen[a] = true
				}
			default:
				d.Nested(func(nd *netlink.AttributeDecoder) error { return walk(nd, depth+1) })
			}
		}
		return d.Err()
	}
	if d, err := netlink.NewAttributeDecoder(attrs); err == nil {
		walk(d, 0)
	}
}

// stopDaemon stops d with SIGTERM and waits for it.
func stopDaemon(b testing.TB, d *daemon) {
	d.cmd.Process.Signal(syscall.SIGTERM)
	d.cmd.Wait()
}

// nftProcessCost is the cost of one block made by one nft process, as a
// script per address would: the mean of n, in a set of a table of its own.
func nftProcessCost(b *testing.B, ns string, n int) time.Duration {
	setup := "add table inet nftbase; add set inet nftbase s { type ipv4_addr; flags timeout; }"
	if out, err := exec.Command("ip", "netns", "exec", ns, "nft", setup).CombinedOutput(); err != nil {
		b.Fatalf("nft: %v: %s", err, out)
	}
	script := fmt.Sprintf(`i=0; while [ $i -lt %d ]; do nft add element inet nftbase s "{ 203.0.113.$((i %% 250 + 1)) timeout 600s }"; i=$((i+1)); done`, n)
	start := time.Now()
	if out, err := exec.Command("ip", "netns", "exec", ns, "/bin/sh", "-c", script).CombinedOutput(); err != nil {
		b.Fatalf("nft processes: %v: %s", err, out)
	}
	return time.Since(start) / time.Duration(n)
}

// BenchmarkRepeats200k appends 200,000 alerts over 1,000 attackers already
// blocked (every one a repeat answered abort, its revert timer restarted)
// and reports repeats/s until the daemon has decided them all: a marker
// alert at the end runs a script once everything before it was handled.
func BenchmarkRepeats200k(b *testing.B) {
	ns, _ := stormNetns(b)
	const repeats, attackers = 200_000, 1_000
	var warm, storm strings.Builder
	for i := range attackers {
		warm.WriteString(sshdAlert(stormAddr(i), fmt.Sprintf("1600000000.%d", i), i) + "\n")
	}
	for i := range repeats {
		storm.WriteString(sshdAlert(stormAddr(i%attackers), fmt.Sprintf("1700000000.%d", i), i) + "\n")
	}
	var total time.Duration
	for b.Loop() {
		root := newRoot(b, markerConf(stormConf(3600)))
		write(b, filepath.Join(root, "active-response/bin/test-drop"), markerScript, 0o755)
		d := launch(b, root, exec.Command("ip", "netns", "exec", ns, binary, "run", "--root", root))
		appendAlerts(b, root, warm.String()+markerAlert("999.1"))
		waitPath(b, filepath.Join(root, "999.1"), time.Minute)
		start := time.Now()
		appendAlerts(b, root, storm.String()+markerAlert("999.2"))
		waitPath(b, filepath.Join(root, "999.2"), 5*time.Minute)
		total += time.Since(start)
		stopDaemon(b, d)
	}
	b.ReportMetric(repeats*float64(b.N)/total.Seconds(), "repeats/s")
}

// markerConf adds to conf a response on rule 100999 that runs test-drop
// with no timeout: the marker alert of a load.
func markerConf(conf string) string {
	return strings.Replace(conf, "</ossec_config>", `  <command>
    <name>marker</name>
    <executable>test-drop</executable>
    <timeout_allowed>no</timeout_allowed>
  </command>
  <active-response>
    <command>marker</command>
    <location>local</location>
    <rules_id>100999</rules_id>
  </active-response>
</ossec_config>`, 1)
}

// markerScript touches a file named by the alert id it is given.
const markerScript = "#!/bin/sh\nread -r msg\nid=$(echo \"$msg\" | grep -o '\"id\":\"999[.][0-9]*\"' | cut -d'\"' -f4)\ntouch \"$id\"\n"

// markerAlert is the marker alert line with the given id (999.N).
func markerAlert(id string) string {
	return fmt.Sprintf(`{"rule":{"level":3,"id":"100999"},"id":%q,"data":{"srcip":"203.0.113.99"}}`+"\n", id)
}
