//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// replayBenchConfig is the engine benchmark's typical config as ossec.conf.
const replayBenchConfig = `<ossec_config>
  <global><white_list>127.0.0.1</white_list></global>
  <command><name>firewall-drop</name><executable>firewall-drop</executable><timeout_allowed>yes</timeout_allowed></command>
  <command><name>disable-account</name><executable>disable-account</executable><timeout_allowed>yes</timeout_allowed></command>
  <active-response><command>firewall-drop</command><location>local</location><rules_id>5763,5712</rules_id><timeout>600</timeout><repeated_offenders>30,60</repeated_offenders></active-response>
  <active-response><command>firewall-drop</command><location>all</location><level>12</level><rules_group>web,|attack,</rules_group><timeout>3600</timeout></active-response>
  <active-response><command>disable-account</command><location>local</location><level>14</level><rules_group>authentication_failures</rules_group><timeout>3600</timeout></active-response>
</ossec_config>
`

// replayBenchFiles writes a root with that config and an alerts.json of n
// alerts: the engine's sample mix (one in six triggers), one a second,
// the attacker's address cycling through 200 (each back every 20
// minutes: continues, aborts and escalation).
func replayBenchFiles(b *testing.B, n int) (root, alerts string) {
	b.Helper()
	root = b.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "ossec.conf"), []byte(replayBenchConfig), 0o644); err != nil {
		b.Fatal(err)
	}
	sample, err := os.ReadFile(filepath.Join("engine", "testdata", "alerts.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(sample), []byte("\n"))
	alerts = filepath.Join(root, "alerts.json")
	f, err := os.Create(alerts)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		l := lines[i%len(lines)]
		ts := start.Add(time.Duration(i) * time.Second).Format("2006-01-02T15:04:05.000-0700")
		l = bytes.Replace(l, l[len(`{"timestamp":"`):len(`{"timestamp":"`)+len(ts)], []byte(ts), 1)
		l = bytes.ReplaceAll(l, []byte("203.0.113.7"), fmt.Appendf(nil, "198.18.0.%d", (i/6)%200+1))
		w.Write(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return root, alerts
}

// jsonAlert is the baseline: the fields replay reads, decoded by
// encoding/json.
type jsonAlert struct {
	Timestamp string          `json:"timestamp"`
	ID        json.RawMessage `json:"id"`
	Location  string          `json:"location"`
	Rule      struct {
		Level     json.Number     `json:"level"`
		ID        json.RawMessage `json:"id"`
		Groups    []string        `json:"groups"`
		PCIDSS    []string        `json:"pci_dss"`
		GDPR      []string        `json:"gdpr"`
		HIPAA     []string        `json:"hipaa"`
		NIST80053 []string        `json:"nist_800_53"`
		TSC       []string        `json:"tsc"`
		GPG13     []string        `json:"gpg13"`
	} `json:"rule"`
	Agent *struct {
		ID json.RawMessage `json:"id"`
	} `json:"agent"`
	Data struct {
		SrcIP   string `json:"srcip"`
		DstUser string `json:"dstuser"`
		Win     struct {
			EventData struct {
				IPAddress string `json:"ipAddress"`
			} `json:"eventdata"`
		} `json:"win"`
	} `json:"data"`
	Syscheck struct {
		Path string `json:"path"`
	} `json:"syscheck"`
}

// decodeJSONFile reads path line by line into jsonAlert, as a plain
// encoding/json reader of the same file would.
func decodeJSONFile(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 32<<20)
	n := 0
	for sc.Scan() {
		var a jsonAlert
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			return n, err
		}
		n++
	}
	return n, sc.Err()
}

// BenchmarkReplay_VsEncodingJSON is replay end to end (the command, as
// `threatlockdown replay --json` runs it: read, decode, match, decide,
// report) against an encoding/json struct decode of the same file. Both
// are timed in each iteration, after a GC each, in CPU time of the process
// (the machines are shared: wall time counts other processes' load) and
// in wall time:
//
//	go test -run '^$' -bench Replay_VsEncodingJSON -benchtime 5x .
func BenchmarkReplay_VsEncodingJSON(b *testing.B) {
	const n = 200_000
	root, alerts := replayBenchFiles(b, n)
	args := []string{alerts, "--root", root, "--json"}
	var replay, baseline, replayCPU, baselineCPU time.Duration
	for b.Loop() {
		runtime.GC() // neither pays for the other's garbage
		start, cpu := time.Now(), cpuTime(b)
		var out bytes.Buffer
		if err := runReplay(context.Background(), args, &out, io.Discard); err != nil {
			b.Fatal(err)
		}
		replay, replayCPU = replay+time.Since(start), replayCPU+cpuTime(b)-cpu
		runtime.GC()
		start, cpu = time.Now(), cpuTime(b)
		if got, err := decodeJSONFile(alerts); err != nil || got != n {
			b.Fatal(got, err)
		}
		baseline, baselineCPU = baseline+time.Since(start), baselineCPU+cpuTime(b)-cpu
		checkBenchReport(b, out.Bytes(), n)
	}
	b.ReportMetric(float64(n*b.N)/replayCPU.Seconds(), "replay-alerts/cpu-s")
	b.ReportMetric(float64(n*b.N)/baselineCPU.Seconds(), "json-alerts/cpu-s")
	b.ReportMetric(baselineCPU.Seconds()/replayCPU.Seconds(), "x-faster-cpu")
	b.ReportMetric(baseline.Seconds()/replay.Seconds(), "x-faster-wall")
}

// cpuTime is the CPU time the process has used, all its threads.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func checkBenchReport(b *testing.B, out []byte, n int) {
	var doc replayDoc
	if err := json.Unmarshal(out, &doc); err != nil {
		b.Fatal(err)
	}
	if doc.Alerts != n || doc.Malformed != 0 || doc.Runs == 0 || doc.Aborts == 0 {
		b.Fatalf("replay of the benchmark file: %+v", doc.ReplayReport)
	}
}
