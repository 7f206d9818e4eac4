//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/engine/ossecconf"
	"github.com/threatlockdown/threatlockdown/store"
)

func rebootDBPath(root string) string { return filepath.Join(root, "var", "db", "threatlockdown.db") }

// newRebootRoot lays out an install root with no firewall-drop file in
// active-response/bin (so the built-in runs) and a store of rebootEntries
// firewall-drop entries recorded before the "reboot".
func newRebootRoot(b *testing.B) string {
	root := b.TempDir()
	for _, d := range []string{"etc", "logs/alerts", "active-response/bin", "var/db"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o750); err != nil {
			b.Fatal(err)
		}
	}
	// The daemon's files, so that its start lays out nothing (and warns of nothing).
	if err := os.WriteFile(filepath.Join(root, "etc/ossec.conf"), ossecconf.Default, 0o640); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "logs/alerts/alerts.json"), nil, 0o640); err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(rebootDBPath(root))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	const chunk = 5_000
	for i := 0; i < rebootEntries; i += chunk {
		c := engine.Change{Put: make([]engine.Entry, 0, chunk), Offences: map[string]int{}}
		for j := i; j < i+chunk; j++ {
			e := rebootEntry(b, j, now)
			c.Put = append(c.Put, e)
			c.Offences[e.Key] = e.Offences
		}
		if err := db.Apply(c); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Apply(engine.Change{BootID: "boot-before"}); err != nil {
		b.Fatal(err)
	}
	return root
}

// rebootEntry is the i-th entry, as the engine records a firewall-drop
// add: address i of 198.18.0.0/15, Params as engine's buildParams lays
// them out around an sshd alert of about 1.6 KB, expiring within the hour.
func rebootEntry(b *testing.B, i int, now time.Time) engine.Entry {
	addr := netip.AddrFrom4([4]byte{198, 18 + byte(i>>16&1), byte(i >> 8), byte(i)}).String()
	id := fmt.Sprintf("1763892000.%d", i)
	params := []byte(`{"extra_args":[],"alert":` + sshdAlert(addr, id, i) +
		`,"program":"active-response/bin/firewall-drop"}`)
	if i == 0 && !json.Valid(engine.BuildMessage("node01", engine.OpAdd, params)) {
		b.Fatalf("invalid message: %s", engine.BuildMessage("node01", engine.OpAdd, params))
	}
	return engine.Entry{
		Key: engine.TableKey("firewall-drop", []string{addr}), Seq: uint64(i + 1),
		Lane:    "firewall-drop|" + addr + "|",
		Command: &engine.Command{Name: "firewall-drop", Executable: "firewall-drop", TimeoutAllowed: true, Line: 3},
		Params:  params,
		Fields: engine.Fields{User: "-", SrcIP: addr, AlertID: id, RuleID: "5712",
			Location: "journald", Filename: "-"},
		Created:  now.Add(-time.Duration(i%600) * time.Second),
		Expires:  now.Add(time.Hour - time.Duration(i%600)*time.Second),
		Offences: 1,
	}
}

// sshdAlert is an alerts.json line for rule 5712 (sshd brute force) as
// Wazuh 4.x writes it.
func sshdAlert(addr, id string, i int) string {
	line := fmt.Sprintf("Nov 23 10:00:%02d node01 sshd[%d]: Failed password for invalid user admin from %s port %d ssh2",
		i%60, 1000+i%30000, addr, 40000+i%20000)
	return `{"timestamp":"2026-11-23T10:00:00.123+0000","rule":{"level":10,` +
		`"description":"sshd: brute force trying to get access to the system. Authentication failed.",` +
		`"id":"5712","mitre":{"id":["T1110"],"tactic":["Credential Access"],"technique":["Brute Force"]},` +
		`"frequency":8,"firedtimes":1,"mail":false,"groups":["syslog","sshd","authentication_failures"],` +
		`"gdpr":["IV_35.7.d","IV_32.2"],"gpg13":["7.1"],"hipaa":["164.312.b"],"nist_800_53":["SI.4","AU.14","AC.7"],` +
		`"pci_dss":["11.4","10.2.4","10.2.5"],"tsc":["CC6.1","CC6.8","CC7.2","CC7.3"]},` +
		`"agent":{"id":"000","name":"node01"},"manager":{"name":"node01"},"id":"` + id + `",` +
		`"previous_output":"` + strings.Repeat(line+`\n`, 6) + `",` +
		`"full_log":"` + line + `",` +
		`"predecoder":{"program_name":"sshd","timestamp":"Nov 23 10:00:00","hostname":"node01"},` +
		`"decoder":{"parent":"sshd","name":"sshd"},` +
		`"data":{"srcip":"` + addr + `","srcport":"51234","srcuser":"admin"},"location":"journald"}`
}
