//go:build unix

package actions

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/threatlockdown/threatlockdown/engine"
)

// runIPCustomBlock runs ip-customblock stand-alone for one execd message
// (and, on add, execd's continue), returning its log lines, what it wrote
// to execd and its exit status.
func runIPCustomBlock(t *testing.T, msg []byte) (lines []string, stdout string, status int) {
	t.Helper()
	in := string(msg) + "\n"
	if strings.Contains(string(msg), `"command":"add"`) {
		in += string(answerLine(msg, engine.Continue)) + "\n"
	}
	log := &lineLog{}
	var out bytes.Buffer
	err := Standalone(context.Background(), "ip-customblock", strings.NewReader(in), &out, log, nil)
	return log.got(), out.String(), ExitStatus(err)
}

// TestCustomBlock_Standalone runs ip-customblock as Wazuh's agent would:
// the add asks check_keys with the address, creates the file and logs
// Wazuh's lines; the delete removes it; a hostile srcip is refused with
// Wazuh's line and exit status, and nothing is created.
func TestCustomBlock_Standalone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ipblock")
	alert := `{"rule":{"id":"5763","level":10},"data":{"srcip":"203.0.113.7"}}`
	add := execdMessage(engine.OpAdd, "ip-customblock", alert, "dir="+dir)
	check := `{"version":1,"origin":{"name":"ip-customblock","module":"active-response"},"command":"check_keys","parameters":{"keys":["203.0.113.7"]}}`
	const prog = "active-response/bin/ip-customblock: "

	lines, out, status := runIPCustomBlock(t, add)
	want := []string{prog + "Starting", prog + string(add), prog + check, prog + string(answerLine(add, engine.Continue)), prog + "Ended"}
	if !slices.Equal(lines, want) || out != check+"\n" || status != 0 {
		t.Errorf("add: status %d, wrote %q, logged\n%s\nwant\n%s", status, out, strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if _, err := os.Stat(filepath.Join(dir, "203.0.113.7")); err != nil {
		t.Errorf("add made no file: %v", err)
	}

	del := execdMessage(engine.OpDelete, "ip-customblock", alert, "dir="+dir)
	lines, out, status = runIPCustomBlock(t, del)
	want = []string{prog + "Starting", prog + string(del), prog + "Ended"}
	if !slices.Equal(lines, want) || out != "" || status != 0 {
		t.Errorf("delete: status %d, wrote %q, logged\n%s", status, out, strings.Join(lines, "\n"))
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("delete left %q", names)
	}

	for _, srcip := range []string{"../../etc/cron.d/x", "203.0.113.7/../../x", "203.0.113.7;touch x", "fe80::1%../x", ""} {
		hostile := execdMessage(engine.OpAdd, "ip-customblock", `{"data":{"srcip":"`+srcip+`"}}`, "dir="+dir)
		lines, out, status = runIPCustomBlock(t, hostile)
		want = []string{prog + "Starting", prog + string(hostile), prog + "Cannot read 'srcip' from data or invalid IP format"}
		if !slices.Equal(lines, want) || out != "" || status != 255 {
			t.Errorf("srcip %q: status %d, wrote %q, logged\n%s", srcip, status, out, strings.Join(lines, "\n"))
		}
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("hostile addresses made %q", names)
	}
	if names := dirNames(t, filepath.Dir(dir)); !slices.Equal(names, []string{"ipblock"}) {
		t.Errorf("files beside the directory: %q", names)
	}
}
