package watch

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threatlockdown/threatlockdown/engine"
)

// Wazuh's own integratord test cases carry sample alerts: valid, invalid,
// over 64 KiB, and one for an alerts file whose inode changes. They live in
// the shared workspace, not in this repository.
const samplesDir = "/work/shared/testdata/wazuh"

// wazuhSamples returns the alert_sample values of the integratord cases, with
// Wazuh's "padding_input" placeholder blown up past 64 KiB as its test does.
func wazuhSamples(t *testing.T, pattern string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(samplesDir, pattern))
	if len(files) == 0 {
		t.Skipf("Wazuh sample alerts not found (%s/%s); skipping", samplesDir, pattern)
	}
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range singleQuoted(string(b), "alert_sample: '") {
			out = append(out, strings.ReplaceAll(s, "padding_input", strings.Repeat("A", 70_000)))
		}
	}
	return out
}

// singleQuoted returns the values of the YAML single-quoted scalars that
// follow key, folded as YAML folds them: a line break and the indentation
// after it become one space, and a doubled quote is one quote.
func singleQuoted(doc, key string) []string {
	var out []string
	for {
		i := strings.Index(doc, key)
		if i < 0 {
			return out
		}
		doc = doc[i+len(key):]
		end := 0
		for end < len(doc) && (doc[end] != '\'' || strings.HasPrefix(doc[end:], "''")) {
			if strings.HasPrefix(doc[end:], "''") {
				end++
			}
			end++
		}
		lines := strings.Split(doc[:end], "\n")
		for j := range lines {
			lines[j] = strings.TrimSpace(lines[j])
		}
		out = append(out, strings.ReplaceAll(strings.Join(lines, " "), "''", "'"))
		doc = doc[min(end+1, len(doc)):]
	}
}

func TestTailer_WazuhSamples(t *testing.T) {
	samples := wazuhSamples(t, "cases_integratord_read_*.yaml")
	path, start := newFile(t)
	var c recs
	startTailer(t, NewTailer(path, engine.FormatJSON, start, testLogger(t)), c.add)
	var overlong, valid int
	for _, s := range samples {
		appendFile(t, path, s+"\n")
		if len(s) > 64<<10 {
			overlong++
		}
		if json.Valid([]byte(s)) {
			valid++
		}
	}
	if overlong == 0 || valid == 0 || valid == len(samples) {
		t.Fatalf("%d samples, %d valid JSON, %d over 64 KiB: the extraction is off", len(samples), valid, overlong)
	}
	for i, r := range c.wait(t, len(samples)) {
		if !bytes.Equal(r.Data, []byte(samples[i])) {
			t.Errorf("sample %d (%d bytes) delivered as %d bytes", i, len(samples[i]), len(r.Data))
		}
	}
}

// TestTailer_WazuhInodeChange: Wazuh's integratord cannot read alerts after
// alerts.json's inode changed until it reloads; the tailer follows.
func TestTailer_WazuhInodeChange(t *testing.T) {
	samples := wazuhSamples(t, "cases_integratord_change_inode_alert.yaml")
	path, start := newFile(t)
	var c recs
	startTailer(t, NewTailer(path, engine.FormatJSON, start, testLogger(t)), c.add)
	appendFile(t, path, samples[0]+"\n")
	c.wait(t, 1)
	if err := os.Rename(path, path+".old"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, samples[0]+"\n")
	got := c.wait(t, 2)
	if got[1].Pos.FileID == got[0].Pos.FileID || string(got[1].Data) != samples[0] {
		t.Errorf("after the inode change: got %.30q in file %s", got[1].Data, got[1].Pos.FileID)
	}
}
