package engine

import (
	"bytes"
	"strings"
)

// pattern is one alternative of a Wazuh OS_Match pattern, as used by
// rules_group and white-list entries: a case-insensitive substring, anchored
// at the start by a leading "^" and at the end by a trailing "$".
type pattern struct {
	text       []byte // lower case
	start, end bool
}

// compilePatterns splits each expression on "|" into alternatives.
func compilePatterns(exprs ...string) []pattern {
	var ps []pattern
	for _, expr := range exprs {
		for _, alt := range strings.Split(strings.ToLower(expr), "|") {
			p := pattern{}
			if strings.HasPrefix(alt, "^") {
				p.start, alt = true, alt[1:]
			}
			if strings.HasSuffix(alt, "$") {
				p.end, alt = true, alt[:len(alt)-1]
			}
			if alt == "" && !p.start && !p.end {
				continue
			}
			p.text = []byte(alt)
			ps = append(ps, p)
		}
	}
	return ps
}

// match reports whether s (already lower case) matches p.
func (p *pattern) match(s []byte) bool {
	switch {
	case p.start && p.end:
		return bytes.Equal(s, p.text)
	case p.start:
		return bytes.HasPrefix(s, p.text)
	case p.end:
		return bytes.HasSuffix(s, p.text)
	}
	return bytes.Contains(s, p.text)
}

func matchAny(ps []pattern, s []byte) bool {
	for i := range ps {
		if ps[i].match(s) {
			return true
		}
	}
	return false
}
