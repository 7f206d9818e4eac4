package ossecconf

import (
	"errors"
	"fmt"
	"sort"
)

// Error is one problem in a config file. Parse returns every Error it finds,
// joined; find them with errors.As.
type Error struct {
	File string // name given to Parse, or the path given to Load
	Line int    // 1-based; 0 when the problem has no line (the file as a whole)
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// problems collects the errors of one file.
type problems struct {
	file string
	list []*Error
}

func (p *problems) add(line int, format string, args ...any) {
	p.list = append(p.list, &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// invalid reports a bad value of element f, with why it is bad.
func (p *problems) invalid(f field, why string) {
	p.add(f.line, "invalid <%s> %q: %s", f.name, f.text, why)
}

func (p *problems) count() int { return len(p.list) }

// err returns the problems in line order, joined, or nil.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	sort.SliceStable(p.list, func(i, j int) bool { return p.list[i].Line < p.list[j].Line })
	errs := make([]error, len(p.list))
	for i, e := range p.list {
		errs[i] = e
	}
	return errors.Join(errs...)
}
