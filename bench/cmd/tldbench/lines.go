//go:build linux

package main

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// Attacker addresses: storms come from 198.18.0.0/15, single alerts from
// 203.0.113.0/24 and 198.51.100.0/24 (documentation and benchmarking
// ranges; the machine's own 192.0.2.0/24 is never used).
const (
	maxStormN   = 131000
	maxLatencyN = 500
)

var (
	stormBase  = netip.MustParseAddr("198.18.0.1")
	singleNets = []netip.Addr{netip.MustParseAddr("203.0.113.1"), netip.MustParseAddr("198.51.100.1")}
	// warmAddrs are one address per phase that sets a tool's table up before
	// anything is timed.
	warmAddrs = []netip.Addr{netip.MustParseAddr("203.0.113.254"), netip.MustParseAddr("198.51.100.254")}
)

// stormAddr is the i-th storm attacker, i < maxStormN.
func stormAddr(i int) netip.Addr { return addN(stormBase, i) }

// singleAddr is the i-th single attacker, i < maxLatencyN.
func singleAddr(i int) netip.Addr { return addN(singleNets[i/250], i%250) }

func addN(a netip.Addr, n int) netip.Addr {
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) + uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func stormAddrs(n int) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		out[i] = stormAddr(i)
	}
	return out
}

// sshdLine is the attack as sshd logs it, with the time at, as fail2ban's
// sshd filter reads it.
func sshdLine(dst []byte, a netip.Addr, i int, at time.Time) []byte {
	dst = at.AppendFormat(dst, time.Stamp)
	dst = fmt.Appendf(dst, " bench sshd[%d]: Failed password for root from %s port %d ssh2\n", 1000+i%30000, a, 1024+i%60000)
	return dst
}

// alertLine is the same attack as Wazuh's analysisd writes it to
// alerts.json: rule 5760 (sshd: authentication failed), with the sshd line
// as full_log.
func alertLine(dst []byte, a netip.Addr, i int, at time.Time) []byte {
	full := sshdLine(nil, a, i, at)
	full = full[:len(full)-1]
	dst = append(dst, `{"timestamp":"`...)
	dst = at.AppendFormat(dst, "2006-01-02T15:04:05.000-0700")
	dst = append(dst, `","rule":{"level":5,"description":"sshd: authentication failed.","id":"5760","mitre":{"id":["T1110.001","T1021.004"],"tactic":["Credential Access","Lateral Movement"],"technique":["Password Guessing","SSH"]},"firedtimes":`...)
	dst = strconv.AppendInt(dst, int64(i+1), 10)
	dst = append(dst, `,"mail":false,"groups":["syslog","sshd","authentication_failed"],"gdpr":["IV_35.7.d","IV_32.2"],"gpg13":["7.1"],"hipaa":["164.312.b"],"nist_800_53":["AU.14","AC.7"],"pci_dss":["10.2.4","10.2.5"],"tsc":["CC6.1","CC6.8","CC7.2","CC7.3"]},"agent":{"id":"000","name":"bench"},"manager":{"name":"bench"},"id":"`...)
	dst = strconv.AppendInt(dst, at.Unix(), 10)
	dst = fmt.Appendf(dst, `.%d","full_log":%q,"predecoder":{"program_name":"sshd","timestamp":"%s","hostname":"bench"},"decoder":{"parent":"sshd","name":"sshd"},"data":{"srcip":"%s","srcport":"%d","dstuser":"root"},"location":"/var/log/auth.log"}`,
		1000+i, full, at.Format(time.Stamp), a, 1024+i%60000)
	return append(dst, '\n')
}

// lineFunc writes one attack line in a tool's input format.
type lineFunc func(dst []byte, a netip.Addr, i int, at time.Time) []byte

// batch is the lines for addrs, all stamped at.
func batch(f lineFunc, addrs []netip.Addr, at time.Time) []byte {
	var dst []byte
	for i, a := range addrs {
		dst = f(dst, a, i, at)
	}
	return dst
}
