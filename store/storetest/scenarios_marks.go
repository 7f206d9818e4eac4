package storetest

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
				ok(engine.Change{Put: entries{withParams(a1, alertParams), withParams(b1, "\x00\xff")}}),
			},
			want:   engine.State{Entries: entries{a1, b1}},
			params: map[string]string{"a": alertParams, "b": "\x00\xff"},
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

// alertParams are a firewall-drop message's parameters as Wazuh builds
// them from a real sshd alert.
const alertParams = `{"extra_args":[],"alert":{"timestamp":"2026-11-23T10:00:03.123+0000",` +
	`"rule":{"level":10,"description":"sshd: brute force trying to get access to the system. Non existent user.",` +
	`"id":"5712","frequency":8,"firedtimes":1,"mail":false,"groups":["syslog","sshd","authentication_failures"]},` +
	`"agent":{"id":"000","name":"node01"},"manager":{"name":"node01"},"id":"1732356003.41872",` +
	`"previous_output":"Nov 23 10:00:01 node01 sshd[1001]: Failed password for invalid user admin from 203.0.113.7 port 40001 ssh2",` +
	`"full_log":"Nov 23 10:00:03 node01 sshd[1003]: Failed password for invalid user admin from 203.0.113.7 port 40003 ssh2",` +
	`"predecoder":{"program_name":"sshd","timestamp":"Nov 23 10:00:03","hostname":"node01"},` +
	`"decoder":{"parent":"sshd","name":"sshd"},"data":{"srcip":"203.0.113.7","srcport":"40003","dstuser":"admin"},` +
	`"location":"/var/log/auth.log"},"program":"active-response/bin/firewall-drop"}`
