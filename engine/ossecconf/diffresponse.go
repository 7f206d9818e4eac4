package ossecconf

import (
	"fmt"
	"strconv"

	"github.com/threatlockdown/threatlockdown/engine"
)

// diffResponses pairs old and new responses, since they have no name: first
// the ones that are the same but for their line, then, in order, the ones
// that run the same command. What is left was added or removed.
func diffResponses(old, cur []*engine.Response) []string {
	oldMate := make([]int, len(old)) // index+1 of its partner in cur, 0 if none
	curMate := make([]int, len(cur))
	pair(old, cur, oldMate, curMate, func(a, b *engine.Response) bool {
		return len(responseChanges(a, b)) == 0
	})
	pair(old, cur, oldMate, curMate, func(a, b *engine.Response) bool {
		return commandName(a) == commandName(b)
	})
	var d []string
	for i, r := range cur {
		if curMate[i] == 0 {
			d = append(d, describe(r)+" added")
			continue
		}
		for _, ch := range responseChanges(old[curMate[i]-1], r) {
			d = append(d, describe(r)+": "+ch)
		}
	}
	for i, r := range old {
		if oldMate[i] == 0 {
			d = append(d, describe(r)+" removed")
		}
	}
	return d
}

// pair matches each unpaired cur response with the first unpaired old one
// for which same holds.
func pair(old, cur []*engine.Response, oldMate, curMate []int, same func(a, b *engine.Response) bool) {
	for j, b := range cur {
		if curMate[j] != 0 {
			continue
		}
		for i, a := range old {
			if oldMate[i] == 0 && same(a, b) {
				oldMate[i], curMate[j] = j+1, i+1
				break
			}
		}
	}
}

func describe(r *engine.Response) string {
	return fmt.Sprintf("active-response %s at line %d", commandName(r), r.Line)
}

func commandName(r *engine.Response) string {
	if r.Command == nil {
		return "?"
	}
	return r.Command.Name
}

func responseChanges(a, b *engine.Response) []string {
	var d []string
	d = change(d, "command", commandName(a), commandName(b))
	d = change(d, "disabled", yesNo(a.Disabled), yesNo(b.Disabled))
	d = change(d, "location", a.Location.String(), b.Location.String())
	d = change(d, "agent_id", orNone(a.AgentID), orNone(b.AgentID))
	d = change(d, "level", strconv.Itoa(a.Level), strconv.Itoa(b.Level))
	d = change(d, "rules_id", list(a.RulesID, ","), list(b.RulesID, ","))
	d = change(d, "rules_group", list(a.RulesGroup, "|"), list(b.RulesGroup, "|"))
	d = change(d, "timeout", seconds(a.Timeout), seconds(b.Timeout))
	return change(d, "repeated_offenders", minutes(a.RepeatedOffenders), minutes(b.RepeatedOffenders))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
