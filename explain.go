package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/platform/control"
)

// Explain's bounds: the tail of each alerts file it reads, and how many of
// the most recent alerts for the target it explains.
const (
	explainTail   = 16 << 20
	explainAlerts = 20
)

// explainView is what explain reports: the target's active responses, and
// its most recent alerts with every response's verdict on each; or the
// verdicts on one alert given whole.
type explainView struct {
	Target string          `json:"target,omitempty"`
	Active []entryView     `json:"active"`
	Alerts []alertVerdicts `json:"alerts"`
	Note   string          `json:"note,omitempty"`
}

type alertVerdicts struct {
	Source    string        `json:"source,omitempty"`
	ID        string        `json:"alert_id"`
	RuleID    string        `json:"rule_id"`
	Level     int           `json:"level"`
	Groups    string        `json:"groups"`
	AgentID   string        `json:"agent_id,omitempty"`
	SrcIP     string        `json:"srcip,omitempty"`
	User      string        `json:"user,omitempty"`
	Responses []verdictView `json:"responses"`
}

type verdictView struct {
	Line    int    `json:"line"`
	Command string `json:"command"`
	Runs    bool   `json:"runs"`
	Reason  string `json:"reason,omitempty"`
}

// explainFunc explains one alert line under some config.
type explainFunc func(alert []byte) (engine.Explanation, error)

// explainRequest answers explain: --alert explains that alert; otherwise
// the one argument is an address or a user.
func (m *Main) explainRequest(r control.Request, explain explainFunc, active []engine.ActiveEntry) (explainView, error) {
	if a, ok := r.Flags["alert"]; ok {
		if len(r.Args) > 0 {
			return explainView{}, errors.New("explain takes an IP or a USER, or --alert, not both")
		}
		v, err := verdicts("", []byte(a), explain)
		if err != nil {
			return explainView{}, fmt.Errorf("the alert: %w", err)
		}
		return explainView{Alerts: []alertVerdicts{v}, Active: []entryView{}}, nil
	}
	if len(r.Args) != 1 || r.Args[0] == "" {
		return explainView{}, errors.New("explain takes one IP or USER")
	}
	who := r.Args[0]
	x := explainView{Target: who, Active: []entryView{}, Alerts: []alertVerdicts{}}
	for _, e := range entryViews(active) {
		if e.Target == who || e.Key == who {
			x.Active = append(x.Active, e)
		}
	}
	var scanned []string
	for _, path := range m.alertFiles() {
		if formatOf(path) != engine.FormatJSON {
			continue
		}
		lines, err := recentAlerts(path, who)
		if err != nil {
			scanned = append(scanned, fmt.Sprintf("%s: %v", path, err))
			continue
		}
		scanned = append(scanned, path)
		for _, l := range lines {
			if v, err := verdicts(path, l, explain); err == nil {
				x.Alerts = append(x.Alerts, v)
			}
		}
	}
	if n := len(x.Alerts); n > explainAlerts {
		x.Alerts = x.Alerts[n-explainAlerts:]
	}
	x.Note = fmt.Sprintf("alerts: the last %d for %s in the last %d MiB of %s", explainAlerts, who,
		explainTail>>20, strings.Join(scanned, ", "))
	return x, nil
}

func verdicts(source string, line []byte, explain explainFunc) (alertVerdicts, error) {
	x, err := explain(line)
	if err != nil {
		return alertVerdicts{}, err
	}
	a := x.Alert
	v := alertVerdicts{Source: source, ID: a.ID, RuleID: a.RuleID, Level: a.Level, Groups: a.Groups,
		AgentID: a.AgentID, SrcIP: a.SrcIP, User: a.User, Responses: []verdictView{}}
	for _, r := range x.Responses {
		v.Responses = append(v.Responses, verdictView{Line: r.Line, Command: r.Command, Runs: r.Runs, Reason: r.Reason})
	}
	return v, nil
}

// recentAlerts returns the alerts of the last explainTail bytes of path
// whose source address or user is who, oldest first.
func recentAlerts(path, who string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	start := max(fi.Size()-explainTail, 0)
	buf := make([]byte, fi.Size()-start)
	n, err := f.ReadAt(buf, start)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	buf = buf[:n]
	if start > 0 { // the first line is cut
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	var out [][]byte
	var a engine.Alert
	needle := []byte(who)
	for line := range bytes.Lines(buf) {
		if !bytes.Contains(line, needle) {
			continue
		}
		line = bytes.TrimRight(line, "\r\n")
		if a.Decode(line) != nil {
			continue
		}
		ip := strings.TrimPrefix(string(a.SrcIP), "::ffff:")
		if ip == who || string(a.DstUser) == who {
			out = append(out, line)
		}
	}
	if len(out) > explainAlerts {
		out = out[len(out)-explainAlerts:]
	}
	return out, nil
}
