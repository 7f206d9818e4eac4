package actions

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"
)

// PF blocks addresses with the packet filter of OpenBSD, FreeBSD and macOS,
// the way Wazuh's pf does: a persistent table referenced by two quick block
// rules; Add puts the address in the table and kills its states, Delete takes
// it out. When the loaded rules do not reference the table and pf.conf does
// not mention it, Add appends Wazuh's three lines to pf.conf and reloads it.
//
// Idempotency comes from the tool: "pfctl -T add" of a present address and
// "-T delete" of a missing one succeed and change nothing ("0/1 addresses
// added"); Delete on a table that does not exist is also a success.
//
// PF is a Batcher: AddMany and DeleteMany pass many addresses to one pfctl.
type PF struct {
	Table string // pf table name; Wazuh's "wazuh_fwtable"
	Conf  string // pf rules file; "/etc/pf.conf"

	exec Execer
	log  *slog.Logger
	mu   sync.Mutex // one pf.conf check and edit at a time
}

var (
	_ Action  = (*PF)(nil)
	_ Batcher = (*PF)(nil)
	_ lister  = (*PF)(nil)
)

// NewPF returns the pf action with Wazuh's table and rules file.
func NewPF(cfg Config) *PF {
	return &PF{Table: "wazuh_fwtable", Conf: "/etc/pf.conf", exec: cfg.Exec, log: cfg.Logger}
}

// Name implements Action.
func (p *PF) Name() string { return "pf" }

// Add makes sure the block rules exist, warns when pf is disabled (the entry
// is still added, so it takes effect once pf is enabled), then adds the
// address to the table and kills its states.
func (p *PF) Add(ctx context.Context, t Target, _ time.Time) error {
	a, err := targetAddr(t)
	if err != nil {
		return wrapExec("pf", err)
	}
	if err := p.ensureRules(ctx); err != nil {
		return wrapExec("pf", err)
	}
	p.reportStatus(ctx)
	if _, err := p.exec.Run(ctx, "pfctl", pfTableArgs(p.Table, "add", a)...); err != nil {
		return wrapExec("pf", err)
	}
	if _, err := p.exec.Run(ctx, "pfctl", pfKillArgs(a)...); err != nil {
		return wrapExec("pf", err)
	}
	return nil
}

// Delete takes the address out of the table.
func (p *PF) Delete(ctx context.Context, t Target) error {
	a, err := targetAddr(t)
	if err != nil {
		return wrapExec("pf", err)
	}
	out, err := p.exec.Run(ctx, "pfctl", pfTableArgs(p.Table, "delete", a)...)
	if err != nil && !pfNoTable(out) {
		return wrapExec("pf", err)
	}
	return nil
}

// ensureRules checks the loaded rules for the table and, when pf.conf lacks
// it too, appends Wazuh's rules to pf.conf and loads the file.
func (p *PF) ensureRules(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	out, err := p.exec.Run(ctx, "pfctl", "-s", "rules")
	if err != nil {
		return err
	}
	if pfRulesUseTable(out, p.Table) {
		return nil
	}
	conf, err := os.ReadFile(p.Conf)
	if err != nil {
		return fmt.Errorf("pf rules file: %w", err)
	}
	if pfConfHasTable(conf, p.Table) {
		p.log.Warn("pf.conf has the table but the loaded rules do not; run pfctl -f to load them",
			"script", "pf", "table", p.Table, "conf", p.Conf)
		return nil
	}
	if err := appendText(p.Conf, conf, pfConfBlock(p.Table)); err != nil {
		return fmt.Errorf("pf rules file: %w", err)
	}
	_, err = p.exec.Run(ctx, "pfctl", "-f", p.Conf)
	return err
}

// reportStatus logs Wazuh's inactive-firewall message when pf is disabled.
func (p *PF) reportStatus(ctx context.Context) {
	out, err := p.exec.Run(ctx, "pfctl", "-s", "info")
	if err == nil && pfEnabled(out) {
		return
	}
	p.log.Warn("active response may not have an effect", "script", "pf",
		"profile", "default", "status", "inactive")
}

// present lists the table ("pfctl -t TABLE -T show"); a table that does
// not exist holds nothing.
func (p *PF) present(ctx context.Context) (func(Target) bool, error) {
	out, err := p.exec.Run(ctx, "pfctl", "-t", p.Table, "-T", "show")
	if err != nil && !bytes.Contains(out, []byte("does not exist")) {
		return nil, wrapExec("pf", err)
	}
	in := make(map[netip.Addr]bool)
	for line := range bytes.Lines(out) {
		if a, err := netip.ParseAddr(string(bytes.TrimSpace(line))); err == nil {
			in[a] = true
		}
	}
	return func(t Target) bool { return in[t.Addr.Unmap()] }, nil
}

// pfTableArgs is "pfctl -t TABLE -T add|delete ADDR...".
func pfTableArgs(table, op string, addrs ...netip.Addr) []string {
	args := []string{"-t", table, "-T", op}
	for _, a := range addrs {
		args = append(args, a.String())
	}
	return args
}

// pfKillArgs is "pfctl -k ADDR": kill the states from the address.
func pfKillArgs(a netip.Addr) []string {
	return []string{"-k", a.String()}
}

// pfConfBlock is what Wazuh appends to pf.conf.
func pfConfBlock(table string) string {
	return fmt.Sprintf("table <%[1]s> persist #%[1]s\nblock in quick from <%[1]s> to any\n"+
		"block out quick from any to <%[1]s>\n", table)
}

// pfRulesUseTable reports whether "pfctl -s rules" output has a block rule
// that references <table>.
func pfRulesUseTable(out []byte, table string) bool {
	ref := "<" + table + ">"
	for line := range strings.Lines(string(out)) {
		if strings.HasPrefix(line, "block") && strings.Contains(line, ref) {
			return true
		}
	}
	return false
}

// pfConfHasTable reports whether a non-comment line of pf.conf names <table>.
func pfConfHasTable(conf []byte, table string) bool {
	ref := "<" + table + ">"
	sc := bufio.NewScanner(bytes.NewReader(conf))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if strings.Contains(line, ref) {
			return true
		}
	}
	return false
}

// pfEnabled reads "pfctl -s info": "Status: Enabled for 0 days ...".
// Wazuh's isEnabledFromPattern(buf, "Status: ", "Enabled") does the same.
func pfEnabled(out []byte) bool {
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "Status:" {
			return f[1] == "Enabled"
		}
	}
	return false
}

// pfNoTable reports whether pfctl said the table does not exist.
func pfNoTable(out []byte) bool {
	return bytes.Contains(out, []byte("Table does not exist"))
}

// appendText appends text to the file at path whose current content is old,
// starting a new line first if old does not end with one.
func appendText(path string, old []byte, text string) error {
	if len(old) > 0 && old[len(old)-1] != '\n' {
		text = "\n" + text
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
