package ossecconf

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/threatlockdown/threatlockdown/engine"
)

// command reads a <command> block: Wazuh's name, executable, extra_args,
// timeout_allowed and expect, and our protocol.
func (b *builder) command(s section) {
	c := &engine.Command{Line: s.line}
	var hasName, hasExe bool
	for _, f := range s.fields {
		hasName = hasName || f.name == "name"
		hasExe = hasExe || f.name == "executable"
		if !b.plain(f, "command") {
			continue
		}
		switch f.name {
		case "name":
			c.Name = b.commandName(f)
		case "executable":
			c.Executable = b.executable(f)
		case "extra_args":
			c.ExtraArgs = strings.Fields(f.text)
		case "timeout_allowed":
			c.TimeoutAllowed = b.yesNo(f)
		case "expect":
			c.Expect = b.expect(f)
		case "protocol":
			c.Protocol = b.protocol(f)
		default:
			b.unknown(f, "command")
		}
	}
	if !hasName {
		b.p.add(s.line, "<command> has no <name>")
	}
	if !hasExe {
		b.p.add(s.line, "<command> %shas no <executable>", quoteSp(c.Name))
	}
	b.define(c)
}

// define registers c unless its name is missing or already taken: the first
// <command> of a name wins. A command with a bad value is still registered,
// so that the responses naming it do not add errors of their own.
func (b *builder) define(c *engine.Command) {
	if c.Name == "" {
		return
	}
	if _, dup := b.commands[c.Name]; dup {
		return
	}
	b.commands[c.Name] = c
	b.cfg.Commands = append(b.cfg.Commands, c)
}

func (b *builder) commandName(f field) string {
	switch {
	case f.text == "":
		b.p.invalid(f, "must not be empty")
	case strings.HasPrefix(f.text, "!"):
		b.p.invalid(f, `must not start with "!"`) // as in Wazuh
	default:
		return f.text
	}
	return ""
}

// executable accepts a plain file name in active-response/bin: a path could
// run anything on the host.
func (b *builder) executable(f field) string {
	switch {
	case f.text == "":
		b.p.invalid(f, "must not be empty")
	case strings.ContainsAny(f.text, `/\`):
		b.p.invalid(f, "must be a file name in active-response/bin, not a path")
	case f.text == "." || strings.Contains(f.text, ".."):
		b.p.invalid(f, `must be a file name in active-response/bin; ".." is not allowed`)
	case strings.ContainsFunc(f.text, isControl):
		b.p.invalid(f, "must not contain control characters")
	default:
		return f.text
	}
	return ""
}

// quoteSp quotes a name followed by a space, or is empty for no name.
func quoteSp(name string) string {
	if name == "" {
		return ""
	}
	return strconv.Quote(name) + " "
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// expect reads the deprecated <expect>: the alert fields the legacy
// protocol fills on argv, the rest being "-". Wazuh 4.1 and OSSEC take
// srcip, user (username is the same) and filename, separated by commas or
// spaces; anything else is refused here rather than silently leaving a
// field empty. Wazuh >= 4.2 ignores the element, and so does the JSON
// protocol. An empty element is an empty, non-nil list: nothing filled.
func (b *builder) expect(f field) []string {
	fields := []string{}
	for _, v := range strings.FieldsFunc(f.text, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' }) {
		switch v {
		case "srcip", "user", "filename":
		case "username":
			v = "user"
		default:
			b.p.invalid(f, fmt.Sprintf("%q is not srcip, user, username or filename", v))
			continue
		}
		if !slices.Contains(fields, v) {
			fields = append(fields, v)
		}
	}
	return fields
}

func (b *builder) protocol(f field) engine.Protocol {
	switch f.text {
	case "json":
		return engine.ProtocolJSON
	case "legacy":
		return engine.ProtocolLegacy
	}
	b.p.invalid(f, "must be json (Wazuh >= 4.2 scripts) or legacy (older scripts)")
	return engine.ProtocolJSON
}
