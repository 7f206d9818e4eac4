package store

import (
	"fmt"
	"path/filepath"
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
