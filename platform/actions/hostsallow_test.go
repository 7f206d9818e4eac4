package actions

import (
	"context"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestHostsAllowInsert(t *testing.T) {
	const line = "ALL : 203.0.113.5 : deny"
	tests := []struct {
		name, in, want string
		changed        bool
	}{
		{"empty", "", line + "\n", true},
		{"before first rule", "# c\n\nALL : ALL : allow\n", "# c\n\n" + line + "\nALL : ALL : allow\n", true},
		{"comments only", "# c\n# d", "# c\n# d\n" + line + "\n", true},
		{"present", "ALL : ALL : allow\n" + line + "\n", "ALL : ALL : allow\n" + line + "\n", false},
		{"present, other blanks", "  " + line + " \r\n", "  " + line + " \r\n", false},
		{"other line of the address", "sshd : 203.0.113.5 : allow\n", line + "\nsshd : 203.0.113.5 : allow\n", true},
		{"longer address", "ALL : 203.0.113.50 : deny\n", line + "\nALL : 203.0.113.50 : deny\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := insertHostsLine([]byte(tt.in), line, true)
			if string(got) != tt.want || changed != tt.changed {
				t.Errorf("got %q, %v\nwant %q, %v", got, changed, tt.want, tt.changed)
			}
		})
	}
}

// TestHostsAllowRemove checks that only exactly our line goes, where
// Wazuh removes every line containing the address.
func TestHostsAllowRemove(t *testing.T) {
	const line = "ALL : 203.0.113.5 : deny"
	in := "# 203.0.113.5 was here\nALL : 203.0.113.5 : deny\nsshd : 203.0.113.5 : allow\n" +
		"ALL : 203.0.113.50 : deny\n ALL : 203.0.113.5 : deny\t\nALL : ALL : allow"
	want := "# 203.0.113.5 was here\nsshd : 203.0.113.5 : allow\nALL : 203.0.113.50 : deny\nALL : ALL : allow"
	got, changed := removeHostsLine([]byte(in), line)
	if string(got) != want || !changed {
		t.Errorf("got %q, %v\nwant %q", got, changed, want)
	}
	if _, changed := removeHostsLine([]byte(want), line); changed {
		t.Error("second remove changed the file")
	}
}

// TestHostsAllow_File checks the file handling: Add creates a missing file,
// keeps the mode of an existing one, and Delete of a missing file is fine.
func TestHostsAllow_File(t *testing.T) {
	h := NewHostsAllow(Config{Logger: xosLogger(nil)})
	h.Path = filepath.Join(xosTempDir(t), "hosts.allow")
	tgt := Target{Addr: netip.MustParseAddr("203.0.113.5")}
	if err := h.Delete(context.Background(), tgt); err != nil {
		t.Fatalf("Delete of a missing file: %v", err)
	}
	if err := h.Add(context.Background(), tgt, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := xosFile(t, h.Path); got != `ALL : 203.0.113.5 : deny\n` {
		t.Errorf("file holds %s", got)
	}
	if runtime.GOOS == "windows" {
		return // no Unix modes
	}
	if err := os.Chmod(h.Path, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := h.Delete(context.Background(), tgt); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(h.Path)
	if err != nil || fi.Mode().Perm() != fs.FileMode(0o640) {
		t.Errorf("mode after rewrite: %v, %v", fi.Mode(), err)
	}
}
