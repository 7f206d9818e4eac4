package store

import (
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

func withParams(e engine.Entry, p string) engine.Entry {
	e.Params = []byte(p)
	return e
}

// paramsScenarios check that Params live apart from their entry: a Put
// with Params writes them, one without keeps them, a Del whose Seq matches
// removes them.
func paramsScenarios() []scenario {
	a1, a2, b1 := entry("a", 1, time.Minute), entry("a", 2, time.Hour), entry("b", 1, time.Hour)
	return []scenario{
		{
			name: "put without params keeps them (timer restart)",
			steps: []step{
				ok(engine.Change{Put: entries{withParams(a1, "first"), b1}}),
				ok(engine.Change{Put: entries{a2}}),
			},
			want:   engine.State{Entries: entries{a2, b1}},
			params: map[string]string{"a": "first"},
		},
		{
			name: "put with params replaces them",
			steps: []step{
				ok(engine.Change{Put: entries{withParams(a1, "first")}}),
				ok(engine.Change{Put: entries{withParams(a2, "second")}}),
			},
			want:   engine.State{Entries: entries{a2}},
			params: map[string]string{"a": "second"},
		},
		{
			name: "put with empty params removes them",
			steps: []step{
				ok(engine.Change{Put: entries{withParams(a1, "first")}}),
				ok(engine.Change{Put: entries{withParams(a2, "")}}),
			},
			want: engine.State{Entries: entries{a2}},
		},
		{
			name: "del with matching seq removes params",
			steps: []step{
				ok(engine.Change{Put: entries{withParams(a1, "first"), withParams(b1, "b")}}),
				ok(engine.Change{Del: refs{{Key: "a", Seq: 1}}}),
			},
			want:   engine.State{Entries: entries{b1}},
			params: map[string]string{"b": "b"},
		},
		{
			name: "stale del keeps params",
			steps: []step{
				ok(engine.Change{Put: entries{withParams(a1, "first")}}),
				ok(engine.Change{Put: entries{a2}}),
				ok(engine.Change{Del: refs{{Key: "a", Seq: 1}}}),
			},
			want:   engine.State{Entries: entries{a2}},
			params: map[string]string{"a": "first"},
		},
		{
			name: "params of a realistic alert round trip",
			steps: []step{
				ok(engine.Change{Put: entries{withParams(a1, string(realParams(3))), withParams(b1, "\x00\xff")}}),
			},
			want:   engine.State{Entries: entries{a1, b1}},
			params: map[string]string{"a": string(realParams(3)), "b": "\x00\xff"},
		},
	}
}

// markScenarios check marks: Mark sets one per key, Unmark and Del follow
// the Seq rule, and Load returns them by key.
func markScenarios() []scenario {
	a1, a2 := entry("a", 1, time.Minute), entry("a", 2, time.Hour)
	return []scenario{
		{
			name: "marked sorted by key, mark replaces the key's mark",
			steps: []step{
				ok(engine.Change{Mark: refs{{Key: "c", Seq: 3}, {Key: "a", Seq: 1}, {Key: "b", Seq: 2}}}),
				ok(engine.Change{Mark: refs{{Key: "a", Seq: 4}}}),
			},
			want: engine.State{Marked: refs{{Key: "a", Seq: 4}, {Key: "b", Seq: 2}, {Key: "c", Seq: 3}}},
		},
		{
			name: "unmark with matching seq removes, other seq or missing key keeps",
			steps: []step{
				ok(engine.Change{Mark: refs{{Key: "a", Seq: 2}, {Key: "b", Seq: 1}}}),
				ok(engine.Change{Unmark: refs{{Key: "a", Seq: 1}, {Key: "b", Seq: 1}, {Key: "gone", Seq: 1}}}),
			},
			want: engine.State{Marked: refs{{Key: "a", Seq: 2}}},
		},
		{
			name: "del with matching seq removes mark",
			steps: []step{
				ok(engine.Change{Put: entries{withParams(a1, "p")}, Mark: refs{{Key: "a", Seq: 1}}}),
				ok(engine.Change{Del: refs{{Key: "a", Seq: 1}}}),
			},
		},
		{
			name: "del removes the key's mark of an older generation too",
			steps: []step{
				ok(engine.Change{Put: entries{a1}, Mark: refs{{Key: "a", Seq: 1}}}),
				ok(engine.Change{Put: entries{a2}}),
				ok(engine.Change{Del: refs{{Key: "a", Seq: 2}}}),
			},
		},
		{
			name: "stale del keeps entry, params and mark",
			steps: []step{
				ok(engine.Change{Put: entries{withParams(a1, "p")}, Mark: refs{{Key: "a", Seq: 1}}}),
				ok(engine.Change{Put: entries{a2}, Mark: refs{{Key: "a", Seq: 2}}}),
				ok(engine.Change{Del: refs{{Key: "a", Seq: 1}}, Unmark: refs{{Key: "a", Seq: 1}}}),
			},
			want:   engine.State{Entries: entries{a2}, Marked: refs{{Key: "a", Seq: 2}}},
			params: map[string]string{"a": "p"},
		},
		{
			name: "del of missing key keeps a mark",
			steps: []step{
				ok(engine.Change{Mark: refs{{Key: "a", Seq: 1}}}),
				ok(engine.Change{Del: refs{{Key: "a", Seq: 1}}}),
			},
			want: engine.State{Marked: refs{{Key: "a", Seq: 1}}},
		},
		{
			name: "order in one change: put, del, mark, unmark",
			steps: []step{
				ok(engine.Change{Put: entries{a1}, Del: refs{{Key: "a", Seq: 1}}, Mark: refs{{Key: "a", Seq: 1}}}),
				ok(engine.Change{Put: entries{a2}, Mark: refs{{Key: "b", Seq: 1}}, Unmark: refs{{Key: "b", Seq: 1}}}),
			},
			want: engine.State{Entries: entries{a2}, Marked: refs{{Key: "a", Seq: 1}}},
		},
		{
			name: "mark alone is a change",
			steps: []step{
				ok(engine.Change{Put: entries{a1}}),
				ok(engine.Change{Mark: refs{{Key: "a", Seq: 1}}}),
			},
			want: engine.State{Entries: entries{a1}, Marked: refs{{Key: "a", Seq: 1}}},
		},
	}
}
