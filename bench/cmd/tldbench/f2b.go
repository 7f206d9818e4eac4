//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// f2b is one private fail2ban configuration: a copy of /etc/fail2ban
// without jail.d, its socket, pid file and database in its own directory,
// logging to stderr, and one jail on its own log file.
type f2b struct {
	dir string
}

func (f f2b) conf() string    { return filepath.Join(f.dir, "conf") }
func (f f2b) logpath() string { return filepath.Join(f.dir, "auth.log") }
func (f f2b) db() string      { return filepath.Join(f.dir, "fail2ban.sqlite3") }

const f2bLocal = `[Definition]
logtarget = STDERR
loglevel = INFO
socket = %[1]s/fail2ban.sock
pidfile = %[1]s/fail2ban.pid
dbfile = %[1]s/fail2ban.sqlite3
`

// f2bJail is the jail: sshd's filter, a ban at the first failure, bans of
// an hour (as the daemon's timeout), and fail2ban's nftables action.
const f2bJail = `[DEFAULT]
bantime = 3600
findtime = 3600
maxretry = 1
banaction = nftables-multiport
banaction_allports = nftables-allports

[sshd]
enabled = true
filter = sshd
port = ssh
backend = %s
logpath = %s
`

func (b *bench) newF2B(name string) (f2b, error) {
	f := f2b{dir: filepath.Join(b.work, "f2b-"+name)}
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return f, err
	}
	if out, err := exec.Command("cp", "-a", "/etc/fail2ban", f.conf()).CombinedOutput(); err != nil {
		return f, fmt.Errorf("copy /etc/fail2ban: %v: %s", err, out)
	}
	jd, _ := filepath.Glob(filepath.Join(f.conf(), "jail.d", "*"))
	for _, p := range jd {
		if err := os.RemoveAll(p); err != nil {
			return f, err
		}
	}
	files := map[string]string{
		filepath.Join(f.conf(), "fail2ban.local"): fmt.Sprintf(f2bLocal, f.dir),
		filepath.Join(f.conf(), "jail.local"):     fmt.Sprintf(f2bJail, b.sz.Backend, f.logpath()),
		f.logpath():                               "",
	}
	for p, data := range files {
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			return f, err
		}
	}
	return f, nil
}

// startF2B runs fail2ban-server in the foreground in ns and waits until the
// jail has started.
func (b *bench) startF2B(name, ns string, f f2b) (*proc, time.Duration, error) {
	p, err := b.start(name, "ip", "netns", "exec", ns, "fail2ban-server", "-f", "-x", "-c", f.conf())
	if err != nil {
		return nil, 0, err
	}
	at, _, err := p.waitLine("Jail 'sshd' started", 0, 2*time.Minute)
	if err != nil {
		return p, 0, err
	}
	return p, at.Sub(p.started), nil
}
