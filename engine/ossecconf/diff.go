package ossecconf

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// Equal reports whether a and b configure the same behaviour: Source and
// line numbers do not count.
func Equal(a, b *engine.Config) bool {
	return len(Diff(a, b)) == 0
}

// Diff describes in words what changed from old to cur, for the log of a live
// reload: "command firewall-drop added", "active-response firewall-drop at
// line 40: timeout 600s -> 60s", "white list +10.0.0.0/8". A nil config is an
// empty one. Moving a block to another line is not a change.
func Diff(old, cur *engine.Config) []string {
	if old == nil {
		old = &engine.Config{}
	}
	if cur == nil {
		cur = &engine.Config{}
	}
	var d []string
	if old.Disabled != cur.Disabled {
		d = append(d, "active response "+map[bool]string{true: "disabled", false: "enabled"}[cur.Disabled])
	}
	d = append(d, diffCommands(old.Commands, cur.Commands)...)
	d = append(d, diffResponses(old.Responses, cur.Responses)...)
	return append(d, diffWhiteList(old.WhiteList, cur.WhiteList)...)
}

func diffCommands(old, cur []*engine.Command) []string {
	var d []string
	byName := make(map[string]*engine.Command, len(old))
	for _, c := range old {
		byName[c.Name] = c
	}
	seen := make(map[string]bool, len(cur))
	for _, c := range cur {
		seen[c.Name] = true
		o, ok := byName[c.Name]
		if !ok {
			d = append(d, "command "+c.Name+" added")
			continue
		}
		for _, ch := range commandChanges(o, c) {
			d = append(d, "command "+c.Name+" "+ch)
		}
	}
	for _, c := range old {
		if !seen[c.Name] {
			d = append(d, "command "+c.Name+" removed")
		}
	}
	return d
}

func commandChanges(a, b *engine.Command) []string {
	var d []string
	d = change(d, "executable", a.Executable, b.Executable)
	d = change(d, "extra_args", words(a.ExtraArgs), words(b.ExtraArgs))
	d = change(d, "timeout_allowed", yesNo(a.TimeoutAllowed), yesNo(b.TimeoutAllowed))
	d = change(d, "expect", expectText(a.Expect), expectText(b.Expect))
	return change(d, "protocol", a.Protocol.String(), b.Protocol.String())
}

// expectText writes <expect> as given: absent and empty differ (OSSEC's
// argv is the same for both, but the config is not).
func expectText(e []string) string {
	if e == nil {
		return "absent"
	}
	return words(e)
}

// change appends "what a -> b" when a and b differ.
func change(d []string, what, a, b string) []string {
	if a == b {
		return d
	}
	return append(d, what+" "+a+" -> "+b)
}

func diffWhiteList(old, cur []engine.WhiteListEntry) []string {
	var d []string
	oldSet := make(map[string]bool, len(old))
	for _, e := range old {
		oldSet[entryString(e)] = true
	}
	curSet := make(map[string]bool, len(cur))
	for _, e := range cur {
		s := entryString(e)
		curSet[s] = true
		if !oldSet[s] {
			d = append(d, "white list +"+s)
			oldSet[s] = true // once for a duplicate
		}
	}
	for _, e := range old {
		if s := entryString(e); !curSet[s] {
			d = append(d, "white list -"+s)
			curSet[s] = true
		}
	}
	return d
}

// entryString writes a white list entry as its address, network or pattern.
func entryString(e engine.WhiteListEntry) string {
	switch {
	case !e.Prefix.IsValid():
		return "pattern " + strconv.Quote(e.Pattern)
	case e.Prefix.IsSingleIP():
		return e.Prefix.Addr().String()
	}
	return e.Prefix.String()
}

func words(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, " ")
}

// list writes s joined by sep, as in the config, or "none".
func list(s []string, sep string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, sep)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%ds", int64(d/time.Second))
}

// minutes writes repeated_offenders as it is written in the config.
func minutes(ds []time.Duration) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = strconv.FormatInt(int64(d/time.Minute), 10)
	}
	return list(s, ",")
}
