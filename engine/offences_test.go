package engine

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// An attacker back within a week is a repeat offender; one back after a
// quiet week starts again at the base timeout, and its count has left the
// store too. A key still active is never forgotten, however old.
func TestEngine_OffencesForgottenAfterAQuietWeek(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		// 10 s first, an hour for a repeat; the long-lived key escalates to 30 days.
		h := startEngine(t, st, &fakeRunner{}, testConfig(10*time.Second, time.Hour, 30*24*time.Hour), "b")
		defer h.stop()
		const quiet, busy, long = "203.0.113.8", "203.0.113.9", "198.51.100.4"
		h.alert(quiet, "1")
		h.alert(busy, "2")
		h.alert(long, "3")
		h.alert(long, "4") // offence 2: an hour
		time.Sleep(time.Hour + time.Minute)
		h.alert(long, "5") // offence 3: 30 days, active through the week

		time.Sleep(6 * 24 * time.Hour)
		h.alert(busy, "6") // back within the week: offence 2
		if n := st.offences("firewall-drop-" + busy); n != 2 {
			t.Fatalf("busy: %d offences, want 2", n)
		}
		time.Sleep(2 * 24 * time.Hour) // quiet's last offence is over a week old, swept
		synctest.Wait()
		if n := st.offences("firewall-drop-" + quiet); n != 0 {
			t.Errorf("quiet: %d offences stored after a quiet week, want none", n)
		}
		if n := st.offences("firewall-drop-" + long); n != 3 {
			t.Errorf("long: %d offences, want 3 (active: never forgotten)", n)
		}
		if n := st.offences("firewall-drop-" + busy); n != 2 {
			t.Errorf("busy: %d offences, want 2 (within the week)", n)
		}
		h.alert(quiet, "7")
		if n := st.offences("firewall-drop-" + quiet); n != 1 {
			t.Errorf("quiet back after a week: offence %d, want 1 (base timeout)", n)
		}
		e := h.e
		e.mu.Lock()
		defer e.mu.Unlock()
		if o := e.offences["firewall-drop-"+quiet]; o.n != 1 {
			t.Errorf("in memory: %+v", o)
		}
	})
}

// A block longer than the week keeps its count for a week after it ends:
// the attacker back the day after a 30-day block is still a repeat
// offender.
func TestEngine_OffencesKeptAWeekAfterALongBlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		h := startEngine(t, st, &fakeRunner{}, testConfig(10*time.Second, 30*24*time.Hour), "b")
		defer h.stop()
		const ip = "198.51.100.4"
		key := "firewall-drop-" + ip
		h.alert(ip, "1")
		time.Sleep(time.Minute)
		h.alert(ip, "2") // offence 2: 30 days
		time.Sleep(31 * 24 * time.Hour)
		synctest.Wait()
		if n := st.offences(key); n != 2 {
			t.Fatalf("a day after the 30-day block ended: %d offences stored, want 2", n)
		}
		h.alert(ip, "3")
		if n := st.offences(key); n != 3 {
			t.Errorf("back a day after: offence %d, want 3", n)
		}
	})
}

// Once fewer than a quarter of the entries loaded at start are left, the
// hourly pass moves them out of the loaded array (so that it can be freed),
// unchanged; before that it leaves them where they are.
func TestEngine_TableLeavesTheLoadedEntries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := newMemStore()
		h := startEngine(t, st, &fakeRunner{}, testConfig(time.Hour), "boot1")
		for i := range 8 {
			h.alert(fmt.Sprintf("203.0.113.%d", i+1), fmt.Sprint(i))
		}
		h.stop()
		// Two of the eight outlive the others by a day.
		st.mu.Lock()
		for i := range st.st.Entries {
			if i < 2 {
				st.st.Entries[i].Expires = st.st.Entries[i].Expires.Add(24 * time.Hour)
			}
		}
		st.mu.Unlock()
		h = startEngine(t, st, &fakeRunner{}, testConfig(time.Hour), "boot1")
		defer h.stop()
		loaded := map[*Entry]Entry{}
		h.e.mu.Lock()
		for _, te := range h.e.table {
			loaded[te.Entry] = *te.Entry
		}
		h.e.mu.Unlock()
		if len(loaded) != 8 {
			t.Fatalf("%d entries loaded, want 8", len(loaded))
		}
		time.Sleep(30 * time.Minute) // an hourly pass with all eight left: nothing moves
		h.e.compactLoaded()
		if n := h.countLoaded(loaded); n != 8 {
			t.Fatalf("%d of 8 still in the loaded array, want all (more than a quarter left)", n)
		}
		time.Sleep(2 * time.Hour) // six expired and deleted; the pass moves the two left
		synctest.Wait()
		if n := h.countLoaded(loaded); n != 0 {
			t.Errorf("%d entries still point into the loaded array", n)
		}
		h.e.mu.Lock()
		defer h.e.mu.Unlock()
		if len(h.e.table) != 2 {
			t.Fatalf("table holds %d, want 2", len(h.e.table))
		}
		for key, te := range h.e.table {
			if te.loaded || te.Key != key {
				t.Errorf("%s: %+v", key, te)
			}
			found := false
			for _, was := range loaded {
				if was.Key == key && was.Seq == te.Seq && was.Expires.Equal(te.Expires) && was.Fields == te.Fields {
					found = true
				}
			}
			if !found {
				t.Errorf("%s changed when moved: %+v", key, *te.Entry)
			}
		}
	})
}

// countLoaded is how many table entries still point to an entry of loaded.
func (h *harness) countLoaded(loaded map[*Entry]Entry) int {
	h.e.mu.Lock()
	defer h.e.mu.Unlock()
	n := 0
	for _, te := range h.e.table {
		if _, ok := loaded[te.Entry]; ok {
			n++
		}
	}
	return n
}
