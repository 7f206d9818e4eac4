package ossecconf

import (
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// arBlock is an <active-response> as written, before its command is looked up.
type arBlock struct {
	resp        engine.Response
	command     *field // nil when absent: the agent-side block
	location    *field
	disabled    bool // <disabled> is present
	agentID     bool // <agent_id> is present
	repeated    bool // <repeated_offenders> is present
	needCommand *field
}

// activeResponse reads an <active-response> block. With a <command> it is a
// Response; without one it is the agent-side block of ossec-agent.conf.
func (b *builder) activeResponse(s section) {
	a := b.readResponse(s)
	if a.command == nil {
		b.agentSide(a)
		return
	}
	b.response(a)
}

func (b *builder) readResponse(s section) *arBlock {
	a := &arBlock{resp: engine.Response{Line: s.line}}
	r := &a.resp
	for i := range s.fields {
		f := &s.fields[i]
		if !b.plain(*f, "active-response") {
			continue
		}
		switch f.name {
		case "command":
			a.command = f
		case "disabled":
			r.Disabled, a.disabled = b.yesNo(*f), true
		case "location":
			a.location = f
		case "agent_id":
			r.AgentID, a.agentID = b.agentID(*f), true
		case "level":
			r.Level = b.level(*f)
		case "rules_id":
			r.RulesID = b.rulesID(*f)
		case "rules_group":
			r.RulesGroup = rulesGroup(f.text)
		case "timeout":
			r.Timeout = b.timeout(*f)
		case "repeated_offenders":
			r.RepeatedOffenders, a.repeated = b.repeated(*f), true
		case "ca_store", "ca_verification":
			// The agent's WPK signature options: valid in Wazuh, not used here.
		default:
			b.unknown(*f, "active-response")
		}
		if a.needCommand == nil && needsCommand[f.name] {
			a.needCommand = f
		}
	}
	return a
}

// needsCommand are the elements that mean nothing without a <command>.
var needsCommand = map[string]bool{
	"location": true, "agent_id": true, "level": true,
	"rules_id": true, "rules_group": true, "timeout": true,
}

// agentSide takes the agent-side block's settings: the first <disabled> and
// the first <repeated_offenders> count, as in Wazuh's execd.
func (b *builder) agentSide(a *arBlock) {
	if f := a.needCommand; f != nil {
		b.p.add(f.line, "<%s> in an <active-response> without <command>: name the command to run", f.name)
		return
	}
	if a.disabled && b.agentDisabled == nil {
		b.agentDisabled = &a.resp.Disabled
	}
	if a.repeated && b.agentRepeated == nil {
		b.agentRepeated = a.resp.RepeatedOffenders
		if b.agentRepeated == nil {
			b.agentRepeated = []time.Duration{}
		}
	}
}

// response completes a block that names a command defined before it.
func (b *builder) response(a *arBlock) {
	r := &a.resp
	name := a.command.text
	if name == "" {
		b.p.invalid(*a.command, "must name a <command>")
		return
	}
	cmd, defined := b.commands[name]
	if r.Disabled {
		b.disabledResponse(a, cmd)
		return
	}
	b.placeResponse(a)
	if !defined {
		b.unresolved = append(b.unresolved, reference{name: name, line: a.command.line})
		return
	}
	b.addResponse(r, cmd)
}

// disabledResponse keeps a disabled block if its command exists. Wazuh checks
// nothing else in a disabled block, so nothing else is an error here either.
func (b *builder) disabledResponse(a *arBlock, cmd *engine.Command) {
	if cmd == nil {
		return
	}
	if a.location != nil {
		a.resp.Location, _ = lookupLocation(a.location.text)
	}
	b.addResponse(&a.resp, cmd)
}

// placeResponse sets where the response runs: <location> is required, and
// defined-agent needs an <agent_id>.
func (b *builder) placeResponse(a *arBlock) {
	r := &a.resp
	if a.location == nil {
		b.p.add(r.Line, "<active-response> has no <location>: use local, server, defined-agent or all")
		return
	}
	r.Location = b.location(*a.location)
	if r.Location == engine.LocationDefinedAgent && !a.agentID {
		b.p.add(a.location.line, "location defined-agent needs an <agent_id>")
	}
}

// addResponse binds r to cmd. A timeout on a command that does not allow one
// is dropped, as Wazuh does (with an info message).
func (b *builder) addResponse(r *engine.Response, cmd *engine.Command) {
	r.Command = cmd
	if !cmd.TimeoutAllowed {
		r.Timeout = 0
	}
	b.cfg.Responses = append(b.cfg.Responses, r)
}
