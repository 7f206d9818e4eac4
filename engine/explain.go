package engine

import (
	"fmt"
	"strings"
)

// Explanation says what one alert triggers under a config, response by
// response, and why each one that does not run does not.
type Explanation struct {
	Alert     AlertSummary
	Responses []ResponseVerdict // in config order, disabled ones included
}

// AlertSummary is the fields of an alert that matching reads.
type AlertSummary struct {
	ID, RuleID, AgentID, SrcIP, User string
	Level                            int
	Groups                           string // the group string matching sees, "syslog,sshd,"
}

// ResponseVerdict is one <active-response> block's verdict on an alert.
type ResponseVerdict struct {
	Line     int    // of the block in ossec.conf
	Command  string // its command's name
	Triggers bool   // the alert matches the block
	Runs     bool   // and the command would run here
	// Reason is why it does not run: why it does not match (level, rule,
	// group), or a skip reason (Skip constants) for one that matches.
	Reason string
}

// Explain explains alert (one alerts.json line) under the running config,
// with this engine's agent id and host addresses.
func (e *Engine) Explain(alert []byte) (Explanation, error) {
	return explain(e.matcher.Load(), e.agentID, e.host, alert)
}

// ExplainConfig explains alert under cfg, for a host with agent id agentID
// (default "000") and addresses host (nil: the fixed classes only): what
// a daemon running cfg would do with it.
func ExplainConfig(cfg *Config, agentID string, host HostAddrs, alert []byte) (Explanation, error) {
	if agentID == "" {
		agentID = "000"
	}
	return explain(compile(cfg), agentID, host, alert)
}

// explain walks the responses as match does, with the same functions:
// triggers, then (once, at the first that triggers) the white list and
// validation, which skip every response of the alert, then the location.
func explain(m *matcher, agentID string, host HostAddrs, raw []byte) (Explanation, error) {
	a := new(Alert)
	if err := a.Decode(raw); err != nil {
		return Explanation{}, err
	}
	x := Explanation{Alert: AlertSummary{ID: string(a.ID), RuleID: string(a.RuleID), AgentID: string(a.AgentID),
		SrcIP: string(a.SrcIP), User: string(a.DstUser), Level: a.Level, Groups: string(a.Groups)}}
	compiled := make(map[*Response]*compiled, len(m.responses))
	for _, r := range m.responses {
		compiled[r.Response] = r
	}
	skipAll := ""
	checked := false
	for _, resp := range responsesOf(m) {
		v := ResponseVerdict{Line: resp.Line, Command: resp.Command.Name}
		r := compiled[resp]
		switch {
		case r == nil && m.cfg.Disabled:
			v.Reason = "active response disabled as a whole"
		case r == nil:
			v.Reason = "disabled"
		case !r.triggers(a):
			v.Reason = whyNot(r, a)
		default:
			v.Triggers = true
			if !checked {
				checked = true
				if m.whiteListed(a.SrcIP) {
					skipAll = SkipWhiteList
				} else {
					skipAll = validate(a, host)
				}
			}
			switch {
			case skipAll != "":
				v.Reason = skipAll
			case !r.runsHere(a, agentID):
				v.Reason = SkipLocation
			default:
				v.Runs = true
			}
		}
		x.Responses = append(x.Responses, v)
	}
	return x, nil
}

// responsesOf is every response block of m's config that names a command,
// enabled or not; none when active response is disabled as a whole.
func responsesOf(m *matcher) []*Response {
	if m.cfg == nil {
		return nil
	}
	var out []*Response
	for _, r := range m.cfg.Responses {
		if r.Command != nil {
			out = append(out, r)
		}
	}
	return out
}

// whyNot says why r does not trigger on a (triggers said it does not).
func whyNot(r *compiled, a *Alert) string {
	switch {
	case a.Level <= 0:
		return "rule level 0 never triggers"
	case r.Level == 0 && len(r.groups) == 0:
		return fmt.Sprintf("rule %s is not in rules_id %s", a.RuleID, strings.Join(r.RulesID, ","))
	case r.Level > 0 && a.Level < r.Level:
		return fmt.Sprintf("level %d below %d", a.Level, r.Level)
	}
	return fmt.Sprintf("groups %q match no rules_group %q", string(a.Groups), strings.Join(r.RulesGroup, "|"))
}
