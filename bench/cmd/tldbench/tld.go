//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// tldConf is the daemon's ossec.conf: the built-in firewall-drop (no file
// of that name in active-response/bin) on every sshd authentication
// failure, rule 5760, for an hour, so that nothing expires during a run.
const tldConf = `<ossec_config>
  <command>
    <name>firewall-drop</name>
    <executable>firewall-drop</executable>
    <timeout_allowed>yes</timeout_allowed>
  </command>
  <active-response>
    <command>firewall-drop</command>
    <location>local</location>
    <rules_id>5760</rules_id>
    <timeout>3600</timeout>
  </active-response>
</ossec_config>
`

// tld is one ThreatLockDown install root.
type tld struct {
	root string
}

func (t tld) alerts() string { return filepath.Join(t.root, "logs/alerts/alerts.json") }

func (b *bench) newTLD(name string) (tld, error) {
	t := tld{root: filepath.Join(b.work, "tld-"+name)}
	for _, d := range []string{"etc", "logs/alerts", "active-response/bin"} {
		if err := os.MkdirAll(filepath.Join(t.root, d), 0o755); err != nil {
			return t, err
		}
	}
	if err := os.WriteFile(filepath.Join(t.root, "etc/ossec.conf"), []byte(tldConf), 0o644); err != nil {
		return t, err
	}
	return t, os.WriteFile(t.alerts(), nil, 0o644)
}

// startTLD runs `threatlockdown run --root` in ns and waits for msg=ready.
// A non-empty bootID is shown to the daemon instead of the kernel's (bound
// over /proc/sys/kernel/random/boot_id in the private mount namespace that
// `ip netns exec` makes), which is how a reboot looks to it.
func (b *bench) startTLD(name, ns string, t tld, bootID string) (*proc, time.Duration, error) {
	argv := []string{"ip", "netns", "exec", ns, b.tldBin, "run", "--root", t.root}
	if bootID != "" {
		f := filepath.Join(b.work, name+".boot_id")
		if err := os.WriteFile(f, []byte(bootID+"\n"), 0o644); err != nil {
			return nil, 0, err
		}
		argv = []string{"ip", "netns", "exec", ns, "/bin/sh", "-c",
			`mount --bind "$1" /proc/sys/kernel/random/boot_id && exec "$2" run --root "$3"`, "sh", f, b.tldBin, t.root}
	}
	p, err := b.start(name, argv...)
	if err != nil {
		return nil, 0, err
	}
	at, _, err := p.waitLine("msg=ready", 0, 2*time.Minute)
	if err != nil {
		return p, 0, err
	}
	return p, at.Sub(p.started), nil
}

// appendFile appends data to path in one write, as analysisd or syslog
// appends a burst.
func appendFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("append to %s: %w", path, err)
	}
	return f.Close()
}
