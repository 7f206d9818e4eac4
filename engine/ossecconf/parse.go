package ossecconf

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

// maxSize bounds what Parse reads; an ossec.conf is a few kilobytes.
const maxSize = 16 << 20

// Load reads the config file at path. Its errors name path.
func Load(path string) (*engine.Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads an ossec.conf from r; name is the file name that errors and
// Config.Source carry. On any error it returns no Config and every problem it
// found, each an *Error, joined in line order.
func Parse(r io.Reader, name string) (*engine.Config, error) {
	if name == "" {
		name = "ossec.conf"
	}
	data, err := io.ReadAll(io.LimitReader(r, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	b := newBuilder(name)
	if len(data) > maxSize {
		b.p.add(0, "file is larger than %d bytes", maxSize)
		return nil, b.p.err()
	}
	rd := newReader(data, b.p)
	rd.read(b.section)
	if rd.roots == 0 && b.p.count() == 0 {
		b.p.add(1, "%s", noRoot(data))
	}
	cfg := b.finish()
	if err := b.p.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// noRoot says what is wrong with a file without an <ossec_config> root. It
// is an error, not a config without responses: an editor that truncates the
// file before it writes the new one would otherwise lift every response and
// the white list. A file that means to configure nothing says so with an
// empty <ossec_config/>.
func noRoot(data []byte) string {
	if len(bytes.TrimSpace(data)) == 0 {
		return "the file is empty: it needs an <ossec_config> root element"
	}
	return "no <ossec_config> root element: the file holds no configuration"
}

// builder assembles a Config from sections in file order.
type builder struct {
	p        *problems
	cfg      *engine.Config
	commands map[string]*engine.Command // defined so far; the first of a name wins
	// unresolved are responses naming a command not defined before them.
	unresolved []reference
	// agent is the first agent-side <active-response> (one without <command>)
	// that set each value.
	agentDisabled *bool
	agentRepeated []time.Duration
}

// reference is a command name used at a line.
type reference struct {
	name string
	line int
}

func newBuilder(name string) *builder {
	return &builder{
		p:        &problems{file: name},
		cfg:      &engine.Config{Source: name},
		commands: make(map[string]*engine.Command),
	}
}

func (b *builder) section(s section) {
	switch s.name {
	case "command":
		b.command(s)
	case "active-response":
		b.activeResponse(s)
	case "global":
		b.global(s)
	}
}

// finish applies what is only known at the end of the file.
func (b *builder) finish() *engine.Config {
	for _, ref := range b.unresolved {
		if _, later := b.commands[ref.name]; later {
			b.p.add(ref.line, "command %q is not defined before this active-response (Wazuh requires <command> first)", ref.name)
		} else {
			b.p.add(ref.line, "command %q is not defined", ref.name)
		}
	}
	if b.agentDisabled != nil {
		b.cfg.Disabled = *b.agentDisabled
	}
	for _, r := range b.cfg.Responses {
		if r.RepeatedOffenders == nil && b.agentRepeated != nil {
			r.RepeatedOffenders = append([]time.Duration(nil), b.agentRepeated...)
		}
	}
	return b.cfg
}

// plain reports whether f holds a value; an element inside it is an error.
func (b *builder) plain(f field, in string) bool {
	if f.nested {
		b.p.add(f.line, "<%s> in <%s> must hold a value, not elements", f.name, in)
	}
	return !f.nested
}

func (b *builder) unknown(f field, in string) {
	b.p.add(f.line, "unknown element <%s> in <%s>", f.name, in)
}

// yesNo parses Wazuh's booleans, which are exactly "yes" and "no".
func (b *builder) yesNo(f field) bool {
	switch f.text {
	case "yes":
		return true
	case "no":
		return false
	}
	b.p.invalid(f, "must be yes or no")
	return false
}
