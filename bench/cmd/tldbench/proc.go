//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a long-running process of the suite (a daemon), its output kept
// in a log file of the results and in memory, line by line with the time
// each was read, so that the driver can wait for a line.
type proc struct {
	name    string
	cmd     *exec.Cmd
	done    <-chan struct{} // the run was interrupted: waits end
	started time.Time
	exited  chan struct{}
	waitErr error

	mu      sync.Mutex
	lines   []string
	times   []time.Time
	changed chan struct{}
}

// start runs argv with stdout and stderr to logs/NAME.log.
func (b *bench) start(name string, argv ...string) (*proc, error) {
	logf, err := os.Create(filepath.Join(b.out, "logs", name+".log"))
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	p := &proc{name: name, cmd: exec.Command(argv[0], argv[1:]...), done: b.ctx.Done(), exited: make(chan struct{}), changed: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = pw, pw
	p.cmd.Env = append(os.Environ(), "LC_ALL=C")
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	b.procs = append(b.procs, p)
	go p.read(pr, logf)
	go func() {
		p.waitErr = p.cmd.Wait()
		pw.Close()
		close(p.exited)
	}()
	return p, nil
}

func (p *proc) read(r io.Reader, logf *os.File) {
	defer logf.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		now := time.Now()
		fmt.Fprintf(logf, "%s %s\n", now.Format("15:04:05.000000"), sc.Text())
		p.mu.Lock()
		p.lines = append(p.lines, sc.Text())
		p.times = append(p.times, now)
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
	}
	io.Copy(io.Discard, r)
}

// waitLine waits for a line containing s, from line index from on, and
// returns when it was read and the index after it.
func (p *proc) waitLine(s string, from int, within time.Duration) (time.Time, int, error) {
	timer := time.NewTimer(within)
	defer timer.Stop()
	for {
		p.mu.Lock()
		for ; from < len(p.lines); from++ {
			if strings.Contains(p.lines[from], s) {
				t := p.times[from]
				p.mu.Unlock()
				return t, from + 1, nil
			}
		}
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ch:
		case <-p.exited:
			return time.Time{}, from, fmt.Errorf("%s exited (%v) before logging %q; see logs/%s.log", p.name, p.waitErr, s, p.name)
		case <-p.done:
			return time.Time{}, from, fmt.Errorf("interrupted while %s started", p.name)
		case <-timer.C:
			return time.Time{}, from, fmt.Errorf("%s did not log %q within %v; see logs/%s.log", p.name, s, within, p.name)
		}
	}
}

// stop sends SIGTERM and waits for the exit, killing the process after
// grace; it returns how long the stop took.
func (p *proc) stop(grace time.Duration) (time.Duration, error) {
	t0 := time.Now()
	select {
	case <-p.exited:
		return 0, fmt.Errorf("%s had already exited: %v", p.name, p.waitErr)
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return time.Since(t0), nil
	case <-time.After(grace):
		p.cmd.Process.Kill()
		<-p.exited
		return time.Since(t0), fmt.Errorf("%s did not stop within %v of SIGTERM; killed", p.name, grace)
	}
}

// kill ends the process at once if it still runs (cleanup).
func (p *proc) kill() {
	select {
	case <-p.exited:
	default:
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// usage is a process's resource use so far, from /proc: peak resident set
// (VmHWM) and CPU time, its own and that of the children it has waited for
// (fail2ban's nft and shell processes).
type usage struct {
	PeakRSSKiB int64 `json:"peak_rss_kib"`
	// RssAnonKiB and RssFileKiB split the current (not peak) RSS into
	// anonymous memory (the heap) and file pages (a mapped database).
	RssAnonKiB  int64   `json:"rss_anon_kib,omitempty"`
	RssFileKiB  int64   `json:"rss_file_kib,omitempty"`
	CPU         float64 `json:"cpu_s"`
	ChildrenCPU float64 `json:"children_cpu_s"`
}

func (u usage) totalCPU() float64 { return u.CPU + u.ChildrenCPU }

func (p *proc) usage() (usage, error) {
	return procUsage(p.cmd.Process.Pid)
}

func procUsage(pid int) (usage, error) {
	var u usage
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, err
	}
	return parseUsage(string(status), string(stat))
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

func parseUsage(status, stat string) (usage, error) {
	var u usage
	for _, l := range strings.Split(status, "\n") {
		k, v, _ := strings.Cut(l, ":")
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		switch k {
		case "VmHWM":
			u.PeakRSSKiB, _ = strconv.ParseInt(f[0], 10, 64)
		case "RssAnon":
			u.RssAnonKiB, _ = strconv.ParseInt(f[0], 10, 64)
		case "RssFile":
			u.RssFileKiB, _ = strconv.ParseInt(f[0], 10, 64)
		}
	}
	// Fields after the command name in parentheses: state is field 3, so
	// utime, stime, cutime, cstime (14-17) are at 11-14.
	i := strings.LastIndexByte(stat, ')')
	f := strings.Fields(stat[i+1:])
	if i < 0 || len(f) < 15 || u.PeakRSSKiB == 0 {
		return u, fmt.Errorf("unexpected /proc status or stat")
	}
	var ticks [4]float64
	for j := range ticks {
		n, err := strconv.ParseInt(f[11+j], 10, 64)
		if err != nil {
			return u, fmt.Errorf("/proc stat: %w", err)
		}
		ticks[j] = float64(n) / clockTicks
	}
	u.CPU, u.ChildrenCPU = ticks[0]+ticks[1], ticks[2]+ticks[3]
	return u, nil
}
