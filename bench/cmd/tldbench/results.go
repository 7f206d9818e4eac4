//go:build linux

package main

import (
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// results is everything measured, written as results.json.
type results struct {
	Started  time.Time         `json:"started"`
	Seconds  float64           `json:"seconds"`
	Sizes    sizes             `json:"sizes"`
	Versions map[string]string `json:"versions"`
	TLD      toolResults       `json:"threatlockdown"`
	F2B      toolResults       `json:"fail2ban"`
	Big      *toolResults      `json:"threatlockdown_big,omitempty"`
}

type toolResults struct {
	Detect  *detectResult  `json:"detect,omitempty"`
	Latency *latencyResult `json:"latency,omitempty"`
	Storm   *stormResult   `json:"storm,omitempty"`
	Restart *restartResult `json:"restart,omitempty"` // ThreatLockDown: kernel kept; fail2ban: restore from its database
	Reboot  *restartResult `json:"reboot,omitempty"`  // ThreatLockDown only: restart into an empty kernel, new boot id
}

type detectResult struct {
	Lines       int       `json:"lines"`
	Matched     int       `json:"matched"`
	Seconds     float64   `json:"seconds"`      // the tool's own time for the lines
	WallSeconds float64   `json:"wall_seconds"` // the whole process, start to exit
	Rates       []float64 `json:"rates"`        // lines/s of every run; this one is the median
	Usage       usage     `json:"usage"`
}

func (d *detectResult) rate() float64 { return float64(d.Lines) / d.Seconds }

type latencyResult struct {
	N        int       `json:"n"`
	Timeouts int       `json:"timeouts"`
	MS       []float64 `json:"ms"` // each sample, in order
	P50      float64   `json:"p50_ms"`
	P99      float64   `json:"p99_ms"`
	Max      float64   `json:"max_ms"`
	Usage    usage     `json:"usage"`
}

type stormResult struct {
	N            int     `json:"n"`
	Blocked      int     `json:"blocked"`       // in the kernel (netlink notifications) by the end
	Seconds      float64 `json:"seconds"`       // append to the last of them in the kernel
	FirstSeconds float64 `json:"first_seconds"` // append to the first in the kernel
	Capped       bool    `json:"capped"`        // the wait ended at the cap before all were in
	CapSeconds   float64 `json:"cap_seconds,omitempty"`
	Counted      int     `json:"counted"` // nft -j list set, at the end
	MonitorLost  string  `json:"monitor_lost,omitempty"`
	Usage        usage   `json:"usage"`
	StoreBytes   int64   `json:"store_bytes,omitempty"` // ThreatLockDown: size of var/db/threatlockdown.db after the storm
}

// rate is blocks per second between the first and the last.
func (s *stormResult) rate() float64 { return rate(s.Blocked, s.FirstSeconds, s.Seconds) }

// estimate is the time all N would have taken at that rate.
func (s *stormResult) estimate() float64 { return estimate(s.N, s.Blocked, s.FirstSeconds, s.Seconds) }

type restartResult struct {
	N               int     `json:"n"`
	StopSeconds     float64 `json:"stop_seconds"`
	KernelAfterStop int     `json:"kernel_after_stop"` // set count while stopped
	ReadySeconds    float64 `json:"ready_seconds"`     // start to ready (its log)
	LoadedSeconds   float64 `json:"loaded_seconds"`    // ThreatLockDown: start to "state loaded" (its log)
	FirstSeconds    float64 `json:"first_seconds"`     // start to the first block back in the kernel
	AllInSeconds    float64 `json:"all_in_seconds"`    // start to the last block back in the kernel; 0: none had left
	Blocked         int     `json:"blocked"`           // back in the kernel (notifications) by the end
	Capped          bool    `json:"capped"`
	CapSeconds      float64 `json:"cap_seconds,omitempty"`
	Deleted         int     `json:"deleted"`      // deletions from the set seen while restarting
	KernelAfter     int     `json:"kernel_after"` // set count at the end
	MonitorLost     string  `json:"monitor_lost,omitempty"`
	Usage           usage   `json:"usage"`
}

func (r *restartResult) rate() float64 { return rate(r.Blocked, r.FirstSeconds, r.AllInSeconds) }

func (r *restartResult) estimate() float64 {
	return estimate(r.N, r.Blocked, r.FirstSeconds, r.AllInSeconds)
}

// rate is done blocks per second from the first (at first) to the last (at
// last); fail2ban bans at a steady pace, one nft process each.
func rate(done int, first, last float64) float64 {
	if done < 2 || last <= first {
		return 0
	}
	return float64(done-1) / (last - first)
}

// estimate extrapolates to n blocks at that rate: the time to the first,
// then n-1 more; done itself when all were done.
func estimate(n, done int, first, last float64) float64 {
	r := rate(done, first, last)
	if done >= n || r == 0 {
		return last
	}
	return first + float64(n-1)/r
}

// versions records what was measured.
func versions(tldBin string) map[string]string {
	v := map[string]string{"go_runtime_of_driver": runtime.Version(), "cpus": strconv.Itoa(runtime.NumCPU())}
	for name, argv := range map[string][]string{
		"threatlockdown": {"sh", "-c", `echo "${BENCH_TLD_REV:-unknown}"`},
		"fail2ban":       {"fail2ban-server", "--version"},
		"nft":            {"nft", "--version"},
		"kernel":         {"uname", "-r"},
		"python3":        {"/usr/bin/python3", "--version"},
	} {
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			v[name] = "unknown: " + err.Error()
			continue
		}
		v[name] = strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	v["threatlockdown_binary"] = tldBin
	return v
}
