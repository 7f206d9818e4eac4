package store

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

func benchEntry(i int) engine.Entry {
	e := entry(fmt.Sprintf("firewall-drop-198.%d.%d.%d", 18+i/65536, i/256%256, i%256), uint64(i), time.Duration(i*7919%86400)*time.Second)
	e.Command = &engine.Command{Name: "firewall-drop", Executable: "firewall-drop", TimeoutAllowed: true}
	e.Params = []byte(`{"version":1,"origin":{"name":"node01","module":"wazuh-execd"},"command":"add"}`)
	e.Fields = engine.Fields{User: "-", SrcIP: "198.18.0.1", AlertID: "1.2", RuleID: "5712", Location: "sshd", Filename: "-"}
	return e
}

// reportApply reports throughput and how many Apply calls shared a commit.
func reportApply(b *testing.B, db *DB, before int) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	if n := commits(b, db) - before; n > 0 {
		b.ReportMetric(float64(b.N)/float64(n), "applies/commit")
	}
}

// BenchmarkApply_Serial is one caller, one Put per Apply: every Apply pays
// its own commit and fsync.
func BenchmarkApply_Serial(b *testing.B) {
	db := mustOpen(b, filepath.Join(b.TempDir(), "state.db"))
	before := commits(b, db)
	i := 0
	for b.Loop() {
		if err := db.Apply(engine.Change{Put: []engine.Entry{benchEntry(i)}}); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportApply(b, db, before)
}

// BenchmarkApply_Parallel is many callers, one Put per Apply: their calls
// share commits.
func BenchmarkApply_Parallel(b *testing.B) {
	db := mustOpen(b, filepath.Join(b.TempDir(), "state.db"))
	before := commits(b, db)
	var next atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := db.Apply(engine.Change{Put: []engine.Entry{benchEntry(int(next.Add(1)))}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportApply(b, db, before)
}

// benchAddr is the i-th address of 198.18.0.0/15 (benchmark space).
func benchAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{198, 18 + byte(i>>16&1), byte(i >> 8), byte(i)})
}

// benchAlert is an sshd brute-force alert of alerts.json as Wazuh 4.x writes
// it (about 1.7 KB), for addr: the line that fired the rule and the seven
// before it, each a few seconds, two process ids and two ports apart, as in
// Wazuh's own sample of rule 5712.
func benchAlert(addr string, i int) string {
	line := func(k int) string {
		return fmt.Sprintf("Nov 23 10:%02d:%02d node01 sshd[%d]: Failed password for invalid user admin from %s port %d ssh2",
			(i+600-3*k)/60%60, (i+600-3*k)%60, 1000+i%30000-2*k, addr, 40000+i%20000-2*k)
	}
	prev := make([]string, 7)
	for k := range prev {
		prev[k] = line(k + 1)
	}
	return `{"timestamp":"2026-11-23T10:00:00.123+0000","rule":{"level":10,` +
		`"description":"sshd: brute force trying to get access to the system. Authentication failed.",` +
		`"id":"5712","mitre":{"id":["T1110"],"tactic":["Credential Access"],"technique":["Brute Force"]},` +
		`"frequency":8,"firedtimes":1,"mail":false,"groups":["syslog","sshd","authentication_failures"],` +
		`"gdpr":["IV_35.7.d","IV_32.2"],"gpg13":["7.1"],"hipaa":["164.312.b"],"nist_800_53":["SI.4","AU.14","AC.7"],` +
		`"pci_dss":["11.4","10.2.4","10.2.5"],"tsc":["CC6.1","CC6.8","CC7.2","CC7.3"]},` +
		`"agent":{"id":"000","name":"node01"},"manager":{"name":"node01"},` +
		fmt.Sprintf(`"id":"1732356000.%d",`, i) +
		`"previous_output":"` + strings.Join(prev, `\n`) + `",` +
		`"full_log":"` + line(0) + `",` +
		`"predecoder":{"program_name":"sshd","timestamp":"Nov 23 10:00:00","hostname":"node01"},` +
		`"decoder":{"parent":"sshd","name":"sshd"},` +
		fmt.Sprintf(`"data":{"srcip":"%s","srcport":"%d","srcuser":"admin"},"location":"/var/log/auth.log"}`, addr, 40000+i%20000)
}

// realParams are the Params the engine builds for the i-th alert of
// benchAlert: extra_args, the alert, the program.
func realParams(i int) []byte {
	return []byte(`{"extra_args":[],"alert":` + benchAlert(benchAddr(i).String(), i) +
		`,"program":"active-response/bin/firewall-drop"}`)
}

// realEntry is the i-th of a reboot's worth of firewall-drop entries with
// Params as the engine builds them.
func realEntry(i int, now time.Time) engine.Entry {
	addr := benchAddr(i).String()
	key := "firewall-drop-" + addr
	return engine.Entry{
		Key: key, Seq: uint64(i + 1), Lane: "firewall-drop|" + addr + "|",
		Command:  &engine.Command{Name: "firewall-drop", Executable: "firewall-drop", TimeoutAllowed: true, Line: 12},
		Params:   realParams(i),
		Fields:   engine.Fields{User: "-", SrcIP: addr, AlertID: fmt.Sprintf("1732356000.%d", i), RuleID: "5712", Location: "sshd", Filename: "-"},
		Created:  now.Add(-time.Duration(i%3600) * time.Second),
		Expires:  now.Add(time.Hour - time.Duration(i%3600)*time.Second),
		Offences: 1 + i%3,
		Job:      uint64(i),
	}
}
