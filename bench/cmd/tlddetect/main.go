// Command tlddetect is ThreatLockDown's side of the suite's detection row:
// the daemon's own decode and match (engine.Handle) over every line of an
// alerts.json file, timed from the first read to the last line handled.
//
// fail2ban-regex only detects: it finds each failure and its address and
// bans nothing. The honest equivalent here is engine.Handle with a response
// that triggers on every line (rule 5760) but is defined for another agent:
// each line is decoded, matched, white-list checked and its srcip validated,
// and then skipped for its location, so no job is built, stored or run.
// The counters prove it: every line must count as matched and as skipped.
//
//	tlddetect FILE   prints one JSON object: lines, matched, skipped, jobs, seconds, peak_rss_kib
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/threatlockdown/threatlockdown/engine"
	"github.com/threatlockdown/threatlockdown/store"
)

// result is what tlddetect prints.
type result struct {
	Lines     int     `json:"lines"`
	Matched   uint64  `json:"matched"`
	Skipped   uint64  `json:"skipped"`
	Jobs      uint64  `json:"jobs"`
	Malformed uint64  `json:"malformed"`
	Seconds   float64 `json:"seconds"`
	// PeakRSSKiB is VmHWM of this process, read by itself at the end (0
	// where there is no /proc): the rusage a parent gets for a child also
	// counts the parent's own peak.
	PeakRSSKiB int64 `json:"peak_rss_kib"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tlddetect ALERTS.JSON")
		os.Exit(2)
	}
	res, err := run(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "tlddetect:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(res)
}

func run(path string) (result, error) {
	e, err := engine.New(engine.Options{Store: store.NewMemory(), Runner: refuse{}})
	if err != nil {
		return result{}, err
	}
	e.SetConfig(config())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	res, err := feed(ctx, e, path)
	cancel()
	if rerr := <-done; err == nil {
		err = rerr
	}
	st := e.Stats()
	res.Matched, res.Skipped, res.Jobs, res.Malformed = st.Matched.Load(), st.Skipped.Load(), st.Jobs.Load(), st.Malformed.Load()
	res.PeakRSSKiB = peakRSS()
	return res, err
}

// peakRSS is VmHWM from /proc/self/status, in KiB; 0 without it.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// feed hands every line of path to e.Handle, as the daemon's tailer does.
func feed(ctx context.Context, e *engine.Engine, path string) (result, error) {
	f, err := os.Open(path)
	if err != nil {
		return result{}, err
	}
	defer f.Close()
	var res result
	start := time.Now()
	r := bufio.NewReaderSize(f, 1<<20)
	var off int64
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, io.EOF) && len(line) == 0 {
			break
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return res, err
		}
		off += int64(len(line))
		rec := engine.Record{Data: trimNL(line), Pos: engine.Position{Source: path, FileID: "bench", Offset: off}}
		if err := e.Handle(ctx, rec); err != nil {
			return res, err
		}
		res.Lines++
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

func trimNL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		return b[:n-1]
	}
	return b
}

// config triggers on rule 5760 (sshd: authentication failed) for an agent
// that is not this host, so every line is matched and none is acted on.
func config() *engine.Config {
	fw := &engine.Command{Name: "firewall-drop", Executable: "firewall-drop", TimeoutAllowed: true}
	return &engine.Config{
		Commands: []*engine.Command{fw},
		Responses: []*engine.Response{{
			Command: fw, Location: engine.LocationDefinedAgent, AgentID: "999",
			RulesID: []string{"5760"}, Timeout: time.Hour,
		}},
	}
}

// refuse is a Runner that is never meant to run: a call means a job was
// built, and the figure would no longer be detection alone.
type refuse struct{}

func (refuse) Run(context.Context, engine.Invocation, engine.CheckKeys) error {
	return errors.New("tlddetect: a command was dispatched")
}
