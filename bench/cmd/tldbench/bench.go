//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// bench is one run of the suite: its inputs, what it started, and results.
type bench struct {
	tldBin, detectBin, libDir string
	out                       string // results directory
	work                      string // scratch (daemon roots, fail2ban configs)
	nsPrefix                  string

	ctx   context.Context
	sz    sizes
	nss   []string // namespaces created, deleted by cleanup
	procs []*proc  // processes started, killed by cleanup if still running
	res   results
}

func (b *bench) run(ctx context.Context) error {
	b.ctx = ctx
	var err error
	if b.sz, err = sizesFromEnv(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(b.out, "logs"), 0o755); err != nil {
		return err
	}
	pf, err := os.Create(filepath.Join(b.out, "progress.log"))
	if err != nil {
		return err
	}
	defer pf.Close()
	progress = io.MultiWriter(os.Stderr, pf)
	if b.work, err = os.MkdirTemp("", "tldbench"); err != nil {
		return err
	}
	b.res = results{Started: time.Now(), Sizes: b.sz, Versions: versions(b.tldBin)}
	steps := []struct {
		name string
		run  func() error
	}{
		{"detection", b.detection},
		{"latency", b.latency},
		{"storm", b.stormRestart},
		{"big", b.big},
	}
	for _, s := range steps {
		if !b.sz.runs(s.name) {
			continue
		}
		if err := b.step(s.name, s.run); err != nil {
			b.save()
			return err
		}
	}
	b.res.Seconds = time.Since(b.res.Started).Seconds()
	return b.save()
}

func (b *bench) step(name string, f func() error) error {
	if err := b.ctx.Err(); err != nil {
		return fmt.Errorf("interrupted before %s", name)
	}
	// Dirty pages of the step before (the detection files are 100 MB)
	// would slow the fsyncs both tools make; start each step clean.
	syscall.Sync()
	t0 := time.Now()
	logf("== %s", name)
	if err := f(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	logf("   %s took %.1f s", name, time.Since(t0).Seconds())
	return nil
}

// save writes results.json and table.md.
func (b *bench) save() error {
	data, err := json.MarshalIndent(b.res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.out, "results.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	table := renderTable(&b.res)
	if err := os.WriteFile(filepath.Join(b.out, "table.md"), []byte(table), 0o644); err != nil {
		return err
	}
	if b.res.Seconds > 0 {
		fmt.Print(table)
	}
	return nil
}

// newNS creates a network namespace; cleanup deletes it.
func (b *bench) newNS(name string) (string, error) {
	ns := b.nsPrefix + "-" + name
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		return "", fmt.Errorf("ip netns add %s: %v: %s", ns, err, out)
	}
	b.nss = append(b.nss, ns)
	return ns, nil
}

func (b *bench) cleanup() {
	for _, p := range b.procs {
		p.kill()
	}
	for _, ns := range b.nss {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			logf("cleanup: ip netns del %s: %v: %s", ns, err, out)
		}
	}
	if b.work != "" {
		os.RemoveAll(b.work)
	}
}

// progress is where logf writes: stderr, and progress.log in the results.
var progress io.Writer = os.Stderr

// logf reports progress; stdout carries only the table.
func logf(format string, args ...any) {
	fmt.Fprintf(progress, format+"\n", args...)
}
