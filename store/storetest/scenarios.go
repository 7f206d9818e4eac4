package storetest

import (
	"slices"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

type (
	entries = []engine.Entry
	refs    = []engine.EntryRef
	jobs    = []engine.Job
)

// scenarios are the rules of Apply and Load, each run on a fresh store.
func scenarios() []scenario {
	return slices.Concat(entryScenarios(), paramsScenarios(), markScenarios(), otherScenarios())
}

func entryScenarios() []scenario {
	full := entry("firewall-drop-203.0.113.7", 3, 10*time.Minute)
	full.Command = &engine.Command{Name: "firewall-drop", Executable: "firewall-drop",
		ExtraArgs: []string{"-x"}, TimeoutAllowed: true, Protocol: engine.ProtocolLegacy, Line: 42}
	full.Params = []byte(`{"alert":{"rule":{"id":"5712"}}}`)
	full.Fields = engine.Fields{User: "-", SrcIP: "203.0.113.7", AlertID: "1.2", RuleID: "5712",
		Location: "sshd", Filename: "-"}
	full.Offences = 2
	full.Job = 1 << 40
	full.Command.Expect = []string{"srcip", "user"}
	loaded := full
	loaded.Params = nil
	return []scenario{
		{name: "empty"},
		{
			name:   "all fields round trip, params apart",
			steps:  []step{ok(engine.Change{Put: entries{full}})},
			want:   engine.State{Entries: entries{loaded}},
			params: map[string]string{full.Key: string(full.Params)},
		},
		{
			name: "entries sorted by expiry then key",
			steps: []step{ok(engine.Change{Put: entries{
				entry("c", 1, time.Hour), entry("b", 1, time.Minute), entry("a", 1, time.Hour),
				{Key: "zero", Seq: 1}, entry("past", 1, -24*time.Hour*365*60),
			}})},
			want: engine.State{Entries: entries{
				entry("past", 1, -24*time.Hour*365*60), {Key: "zero", Seq: 1}, // both sort as 0
				entry("b", 1, time.Minute), entry("a", 1, time.Hour), entry("c", 1, time.Hour),
			}},
		},
		{
			name: "put replaces entry and its index key",
			steps: []step{
				ok(engine.Change{Put: entries{entry("a", 1, time.Minute), entry("b", 1, time.Hour)}}),
				ok(engine.Change{Put: entries{entry("a", 2, 2*time.Hour)}}),
			},
			want: engine.State{Entries: entries{entry("b", 1, time.Hour), entry("a", 2, 2*time.Hour)}},
		},
		{
			name: "del with matching seq removes",
			steps: []step{
				ok(engine.Change{Put: entries{entry("a", 1, time.Minute), entry("b", 1, time.Hour)}}),
				ok(engine.Change{Del: refs{{Key: "a", Seq: 1}}}),
			},
			want: engine.State{Entries: entries{entry("b", 1, time.Hour)}},
		},
		{
			name: "stale del keeps newer generation",
			steps: []step{
				ok(engine.Change{Put: entries{entry("a", 1, time.Minute)}}),
				ok(engine.Change{Put: entries{entry("a", 2, time.Hour)}}),
				ok(engine.Change{Del: refs{{Key: "a", Seq: 1}}}),
			},
			want: engine.State{Entries: entries{entry("a", 2, time.Hour)}},
		},
		{
			name: "stale and missing refs do not stop later dels",
			steps: []step{
				ok(engine.Change{Put: entries{entry("a", 2, time.Minute), entry("b", 1, time.Hour), entry("c", 1, time.Hour)}}),
				ok(engine.Change{Del: refs{{Key: "a", Seq: 1}, {Key: "gone", Seq: 1}, {Key: "b", Seq: 1}}}),
			},
			want: engine.State{Entries: entries{entry("a", 2, time.Minute), entry("c", 1, time.Hour)}},
		},
		{
			name:  "del of missing key is a no-op",
			steps: []step{ok(engine.Change{Del: refs{{Key: "nothing", Seq: 7}}})},
		},
		{
			name: "put then del of same generation in one change leaves nothing",
			steps: []step{ok(engine.Change{
				Put: entries{entry("a", 1, time.Minute)}, Del: refs{{Key: "a", Seq: 1}},
			})},
		},
		{
			name: "put new generation and del old in one change keeps new",
			steps: []step{
				ok(engine.Change{Put: entries{entry("a", 1, time.Minute)}}),
				ok(engine.Change{Put: entries{entry("a", 2, time.Hour)}, Del: refs{{Key: "a", Seq: 1}}}),
			},
			want: engine.State{Entries: entries{entry("a", 2, time.Hour)}},
		},
		{
			name: "invalid change writes nothing",
			steps: []step{
				{change: engine.Change{Put: entries{withParams(entry("a", 1, time.Minute), "p"), {Seq: 1}},
					Jobs: jobs{{ID: 1}}, BootID: "b"}, invalid: true},
				{change: engine.Change{Put: entries{withParams(entry("a", 1, time.Minute), "p")},
					Mark: refs{{Seq: 1}}}, invalid: true},
				{change: engine.Change{Mark: refs{{Key: "a", Seq: 1}}, Unmark: refs{{Seq: 1}}}, invalid: true},
				{change: engine.Change{Put: entries{{Key: "y", Expires: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}},
					invalid: true},
				{change: engine.Change{Positions: []engine.Position{{Offset: 1}}}, invalid: true},
				{change: engine.Change{Del: refs{{Seq: 1}}}, invalid: true},
				{change: engine.Change{Offences: map[string]int{"a": -1}}, invalid: true},
				{change: engine.Change{Offences: map[string]int{"": 1}}, invalid: true},
			},
		},
	}
}

func otherScenarios() []scenario {
	job := engine.Job{ID: 7, Lane: "l", Command: &engine.Command{Name: "c", Executable: "c"},
		Params: []byte(`{}`), Fields: engine.Fields{SrcIP: "198.51.100.1"},
		Timeout: time.Minute, Repeated: []time.Duration{time.Hour, 2 * time.Hour}}
	return []scenario{
		{
			name: "jobs add and done",
			steps: []step{
				ok(engine.Change{Jobs: jobs{{ID: 256}, job, {ID: 1}, {ID: 2}}}),
				ok(engine.Change{DoneJobs: []uint64{2, 99}}),
				ok(engine.Change{Jobs: jobs{{ID: 3}}, DoneJobs: []uint64{3}}),
			},
			want: engine.State{Jobs: jobs{{ID: 1}, job, {ID: 256}}},
		},
		{
			name: "job with same id is replaced",
			steps: []step{
				ok(engine.Change{Jobs: jobs{{ID: 1, Lane: "old"}}}),
				ok(engine.Change{Jobs: jobs{{ID: 1, Lane: "new"}}}),
			},
			want: engine.State{Jobs: jobs{{ID: 1, Lane: "new"}}},
		},
		{
			name: "offences set update and delete",
			steps: []step{
				ok(engine.Change{Offences: map[string]int{"a": 1, "b": 1, "c": 5}}),
				ok(engine.Change{Offences: map[string]int{"a": 2, "b": 0, "missing": 0}}),
			},
			want: engine.State{Offences: map[string]int{"a": 2, "c": 5}},
		},
		{
			name: "positions upsert by source",
			steps: []step{
				ok(engine.Change{Positions: []engine.Position{
					{Source: "/var/ossec/logs/alerts/alerts.json", FileID: "8:1", Offset: 10},
					{Source: "/other", FileID: "8:2", Offset: 5},
				}}),
				ok(engine.Change{Positions: []engine.Position{
					{Source: "/var/ossec/logs/alerts/alerts.json", FileID: "8:3", Offset: 0},
				}}),
			},
			want: engine.State{Positions: map[string]engine.Position{
				"/var/ossec/logs/alerts/alerts.json": {Source: "/var/ossec/logs/alerts/alerts.json", FileID: "8:3"},
				"/other":                             {Source: "/other", FileID: "8:2", Offset: 5},
			}},
		},
		{
			name: "boot id set and kept when empty",
			steps: []step{
				ok(engine.Change{BootID: "first"}),
				ok(engine.Change{BootID: "second"}),
				ok(engine.Change{Jobs: jobs{{ID: 1}}}),
				ok(engine.Change{}),
			},
			want: engine.State{BootID: "second", Jobs: jobs{{ID: 1}}},
		},
	}
}
