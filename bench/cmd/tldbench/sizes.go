//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// sizes are the suite's knobs, read from the environment (see bench/README.md).
type sizes struct {
	Quick    bool     `json:"quick"`
	DetectN  int      `json:"detect_n"`  // lines through both detectors
	LatencyN int      `json:"latency_n"` // single alerts, one at a time
	StormN   int      `json:"storm_n"`   // attackers appended at once; also the restart size
	BigN     int      `json:"big_n"`     // ThreatLockDown-only storm and restart; 0: skipped
	F2BCapS  int      `json:"f2b_cap_s"` // longest wait for fail2ban's storm and restore, seconds
	Backend  string   `json:"f2b_backend"`
	Only     []string `json:"only,omitempty"` // steps to run; all when empty
}

// runs reports whether step is to run (ONLY=detection,latency,storm,big).
func (s sizes) runs(step string) bool {
	return len(s.Only) == 0 || slices.Contains(s.Only, step)
}

func sizesFromEnv() (sizes, error) {
	s := sizes{DetectN: 100000, LatencyN: 200, StormN: 10000, BigN: 100000, F2BCapS: 60}
	if os.Getenv("QUICK") == "1" {
		s = sizes{Quick: true, DetectN: 10000, LatencyN: 30, StormN: 2000, F2BCapS: 6}
	}
	for _, v := range []struct {
		name string
		dst  *int
		max  int
	}{{"DETECT_N", &s.DetectN, 1 << 24}, {"LATENCY_N", &s.LatencyN, maxLatencyN}, {"STORM_N", &s.StormN, maxStormN}, {"BIG_N", &s.BigN, maxStormN}} {
		if err := intEnv(v.name, v.dst, v.max); err != nil {
			return s, err
		}
	}
	if c := os.Getenv("F2B_CAP"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 1 {
			return s, fmt.Errorf("F2B_CAP=%q: want whole seconds, at least 1", c)
		}
		s.F2BCapS = n
	}
	if s.StormN < 1 || s.LatencyN < 1 || s.DetectN < 1 {
		return s, fmt.Errorf("DETECT_N, LATENCY_N and STORM_N must be at least 1")
	}
	if o := os.Getenv("ONLY"); o != "" {
		s.Only = strings.Split(o, ",")
		for _, step := range s.Only {
			if !slices.Contains([]string{"detection", "latency", "storm", "big"}, step) {
				return s, fmt.Errorf("ONLY=%q: steps are detection, latency, storm, big", o)
			}
		}
	}
	var err error
	s.Backend, err = f2bBackend(os.Getenv("F2B_BACKEND"))
	return s, err
}

// f2bCap is the longest wait for fail2ban's storm and for its restore.
func (s sizes) f2bCap() time.Duration { return time.Duration(s.F2BCapS) * time.Second }

func intEnv(name string, dst *int, max int) error {
	v := os.Getenv(name)
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > max {
		return fmt.Errorf("%s=%q: want a whole number from 0 to %d", name, v, max)
	}
	*dst = n
	return nil
}

// f2bBackend picks fail2ban's log backend: pyinotify (notified of each
// write, as the daemon's tailer is) when Python can import it, else polling.
func f2bBackend(want string) (string, error) {
	switch want {
	case "polling", "pyinotify":
		return want, nil
	case "", "auto":
		if exec.Command("/usr/bin/python3", "-c", "import pyinotify").Run() == nil {
			return "pyinotify", nil
		}
		return "polling", nil
	}
	return "", fmt.Errorf("F2B_BACKEND=%q: want auto, pyinotify or polling", want)
}
