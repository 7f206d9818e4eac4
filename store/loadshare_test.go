package store

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/threatlockdown/threatlockdown/engine"
)

// An active entry's offence count is kept under the entry's own key string,
// not a copy of it: at 100,000 active blocks a copy costs megabytes.
func TestLoad_OffencesShareEntryKeys(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	c := engine.Change{Offences: map[string]int{"firewall-drop-198.51.100.200": 4}} // no longer active
	for i := range 50 {
		key := fmt.Sprintf("firewall-drop-203.0.113.%d", i)
		c.Put = append(c.Put, engine.Entry{Key: key, Seq: uint64(i + 1), Lane: key, Expires: now.Add(time.Duration(50-i) * time.Minute)})
		c.Offences[key] = i + 1
	}
	if err := db.Apply(c); err != nil {
		t.Fatal(err)
	}
	st, err := db.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Offences) != 51 || st.Offences["firewall-drop-198.51.100.200"] != 4 {
		t.Fatalf("offences = %v", st.Offences)
	}
	data := make(map[string]*byte, len(st.Offences))
	for k := range st.Offences {
		data[k] = unsafe.StringData(k)
	}
	for _, e := range st.Entries {
		if st.Offences[e.Key] != int(e.Seq) {
			t.Errorf("%s: offences %d, want %d", e.Key, st.Offences[e.Key], e.Seq)
		}
		if data[e.Key] != unsafe.StringData(e.Key) {
			t.Errorf("%s: the offence count holds a copy of the entry's key", e.Key)
		}
	}
}

// Entries of one command loaded together share one Command; entries whose
// commands differ in anything (extra args, line, protocol, expect) do not,
// and what Load returns does not alias the reader's scratch space.
func TestLoad_EntriesShareTheirCommand(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	drop := engine.Command{Name: "firewall-drop", Executable: "firewall-drop", TimeoutAllowed: true, Line: 3}
	variants := map[string]engine.Command{"drop": drop}
	for name, change := range map[string]func(*engine.Command){
		"extra":   func(c *engine.Command) { c.ExtraArgs = []string{"-x"} },
		"line":    func(c *engine.Command) { c.Line = 4 },
		"legacy":  func(c *engine.Command) { c.Protocol = engine.ProtocolLegacy },
		"expect":  func(c *engine.Command) { c.Expect = []string{"srcip"} },
		"nolimit": func(c *engine.Command) { c.TimeoutAllowed = false },
	} {
		c := drop
		change(&c)
		variants[name] = c
	}
	now := time.Now()
	var c engine.Change
	for name, cmd := range variants {
		for i := range 20 { // more than the cache holds, in key order
			key := fmt.Sprintf("firewall-drop-%s-203.0.113.%d", name, i)
			c.Put = append(c.Put, engine.Entry{Key: key, Seq: 1, Lane: key, Command: &cmd, Expires: now.Add(time.Hour)})
		}
	}
	if err := db.Apply(c); err != nil {
		t.Fatal(err)
	}
	st, err := db.Load()
	if err != nil {
		t.Fatal(err)
	}
	shared := map[string]*engine.Command{}
	for _, e := range st.Entries {
		name := strings.Split(e.Key, "-")[2]
		if want := variants[name]; !reflect.DeepEqual(*e.Command, want) {
			t.Fatalf("%s: command %+v, want %+v", e.Key, *e.Command, want)
		}
		if p, ok := shared[name]; ok && p != e.Command {
			t.Errorf("%s: a command of its own, not the one its neighbours share", e.Key)
		}
		shared[name] = e.Command
	}
	seen := map[*engine.Command]string{}
	for name, p := range shared {
		if other, ok := seen[p]; ok {
			t.Errorf("commands %s and %s share one Command", name, other)
		}
		seen[p] = name
	}
	if got := shared["extra"].ExtraArgs; len(got) != 1 || got[0] != "-x" {
		t.Errorf("extra args %q after the reads that followed, want [-x]", got)
	}
}
