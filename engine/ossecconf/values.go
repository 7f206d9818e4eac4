package ossecconf

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
)

const (
	maxLevel        = 20
	maxSeconds      = 1<<31 - 1 // Wazuh keeps timeouts in a C int
	maxOffenders    = 5         // Wazuh's execd reads at most five
	locationChoices = "must be local, server, defined-agent or all"
)

// locations are Wazuh's location words. Wazuh tests them as case-insensitive
// regexes ("AS|analysisd|analysis-server|server", "all|any"); whole words
// are required here.
var locations = map[string]engine.Location{
	"local":           engine.LocationLocal,
	"server":          engine.LocationServer,
	"analysisd":       engine.LocationServer,
	"analysis-server": engine.LocationServer,
	"as":              engine.LocationServer,
	"defined-agent":   engine.LocationDefinedAgent,
	"all":             engine.LocationAll,
	"any":             engine.LocationAll,
}

func lookupLocation(s string) (engine.Location, bool) {
	l, ok := locations[strings.ToLower(s)]
	return l, ok
}

func (b *builder) location(f field) engine.Location {
	l, ok := lookupLocation(f.text)
	if !ok {
		b.p.invalid(f, locationChoices)
	}
	return l
}

// agentID accepts a numeric agent id and writes it as Wazuh does, in three
// digits at least ("1" becomes "001"), so that it compares with alerts'.
func (b *builder) agentID(f field) string {
	n, ok := number(f.text, 1<<31-1)
	if !ok {
		b.p.invalid(f, "must be an agent id such as 001")
		return ""
	}
	return fmt.Sprintf("%03d", n)
}

func (b *builder) level(f field) int {
	n, ok := number(f.text, maxLevel)
	if !ok {
		b.p.invalid(f, "must be a rule level from 0 to 20")
	}
	return n
}

// rulesID reads a comma list of rule ids, written back without leading zeros
// (Wazuh compares them as numbers).
func (b *builder) rulesID(f field) []string {
	var ids []string
	for _, s := range strings.Split(f.text, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, ok := number(s, 1<<31-1)
		if !ok {
			b.p.invalid(f, fmt.Sprintf("rule id %q is not a number", s))
			continue
		}
		ids = append(ids, strconv.Itoa(n))
	}
	return ids
}

// rulesGroup splits a group pattern into its lower-case alternatives.
func rulesGroup(s string) []string {
	var groups []string
	for _, g := range strings.Split(s, "|") {
		if g = strings.ToLower(strings.TrimSpace(g)); g != "" {
			groups = append(groups, g)
		}
	}
	return groups
}

func (b *builder) timeout(f field) time.Duration {
	if strings.HasPrefix(f.text, "-") {
		b.p.invalid(f, "must not be negative (Wazuh ignores that; ThreatLockDown refuses it)")
		return 0
	}
	n, ok := number(f.text, maxSeconds)
	if !ok {
		b.p.invalid(f, fmt.Sprintf("must be a number of seconds from 0 to %d", maxSeconds))
	}
	return time.Duration(n) * time.Second
}

// repeated reads repeated_offenders: up to five comma-separated minutes, each
// the timeout of one more repeated offence.
func (b *builder) repeated(f field) []time.Duration {
	var list []time.Duration
	for _, s := range strings.Split(f.text, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, ok := number(s, maxSeconds/60)
		if !ok || n == 0 {
			b.p.invalid(f, fmt.Sprintf("%q is not a positive number of minutes", s))
			continue
		}
		list = append(list, time.Duration(n)*time.Minute)
	}
	if len(list) > maxOffenders {
		b.p.invalid(f, fmt.Sprintf("has %d values; at most %d are allowed", len(list), maxOffenders))
	}
	return list
}

// number parses a decimal number from 0 to max, digits only.
func number(s string, max int) (int, bool) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > max {
		return 0, false
	}
	return n, true
}
