package watch

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestBesideRank(t *testing.T) {
	tests := []struct {
		name  string
		named bool
		rank  rank
	}{
		{"alerts.json.1", true, rank{family: 1, num: -1}},
		{"alerts.json.12", true, rank{family: 1, num: -12}},
		{"alerts.json-20260101", true, rank{family: 1, date: "20260101"}},
		{"alerts.json.2026-01-01", true, rank{family: 1, date: "20260101"}},
		{"alerts.json_2026-01-01-1714521601", true, rank{family: 1, date: "202601011714521601"}},
		{"alerts-20260101.json", true, rank{family: 1, date: "20260101"}},
		{"alerts.json", false, rank{}},
		{"alerts.json.1.gz", false, rank{}},
		{"alerts.json-20260101.gz", false, rank{}},
		{"alerts.json.old", false, rank{}},
		{"alerts.json.", false, rank{}},
		{"alerts.log.1", false, rank{}},
		{"alerts.jsonx.1", false, rank{}},
		{"alerts.json.sum", false, rank{}},
	}
	for _, tt := range tests {
		got, named := besideRank("alerts.json", tt.name)
		if named != tt.named || got != tt.rank {
			t.Errorf("besideRank(%q) = %+v, %v; want %+v, %v", tt.name, got, named, tt.rank, tt.named)
		}
	}
}

func TestArchiveRank(t *testing.T) {
	m := month{path: "/x/2026/Feb", year: 2026, month: 2}
	tests := []struct {
		name  string
		named bool
		rank  rank
	}{
		{"ossec-alerts-01.json", true, rank{date: "20260201", num: -1}},
		{"ossec-alerts-01-001.json", true, rank{date: "20260201", num: 1}},
		{"ossec-alerts-28-012.json", true, rank{date: "20260228", num: 12}},
		{"ossec-alerts-01.json.gz", false, rank{}},
		{"ossec-alerts-01.json.sum", false, rank{}},
		{"ossec-alerts-01.log", false, rank{}}, // another format
		{"ossec-alerts-32.json", false, rank{}},
		{"alerts.json", false, rank{}},
	}
	for _, tt := range tests {
		got, named := archiveRank(m, ".json", tt.name)
		if named != tt.named || got != tt.rank {
			t.Errorf("archiveRank(%q) = %+v, %v; want %+v, %v", tt.name, got, named, tt.rank, tt.named)
		}
	}
}

// TestListRotated: rotated files come oldest first, by modification time;
// names order files written within one tick of the clock.
func TestListRotated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alerts.json")
	tick := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	files := []struct {
		name string
		mod  time.Time
	}{
		// In the listing's order.
		{"2026/Jan/ossec-alerts-31.json", tick.Add(-time.Hour)},
		{"2026/Feb/ossec-alerts-01.json", tick},
		{"2026/Feb/ossec-alerts-01-001.json", tick},
		{"2026/Feb/ossec-alerts-01-002.json", tick},
		{"alerts.json-20260201", tick.Add(time.Second)},
		{"alerts.json-20260202", tick.Add(time.Second)},
		{"alerts.json.3", tick.Add(2 * time.Second)},
		{"alerts.json.2", tick.Add(2 * time.Second)},
		{"alerts.json.1", tick.Add(3 * time.Second)},
	}
	for _, f := range files {
		name := filepath.Join(dir, f.name)
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		appendFile(t, name, "{}\n")
		if err := os.Chtimes(name, f.mod, f.mod); err != nil {
			t.Fatal(err)
		}
	}
	appendFile(t, path, "{}\n")
	appendFile(t, filepath.Join(dir, "alerts.json.4.gz"), "\x1f\x8b")
	appendFile(t, filepath.Join(dir, "notes.txt"), "hello\n")
	var got, want []string
	for _, f := range listRotated(path, false) {
		rel, _ := filepath.Rel(dir, f.name)
		got = append(got, filepath.ToSlash(rel))
	}
	for _, f := range files {
		want = append(want, f.name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("listRotated:\n got %q\nwant %q", got, want)
	}
	all := listRotated(path, true)
	if !slices.ContainsFunc(all, func(f rotated) bool { return filepath.Base(f.name) == "notes.txt" && !f.named }) {
		t.Errorf("listRotated(all) leaves out other files next to the alerts file")
	}
}

func TestParseID(t *testing.T) {
	for _, tt := range []struct {
		fileID string
		id     string
		fp     uint64
		ok     bool
	}{
		{"2049:131077", "2049:131077", 0, false},
		{withPrint("2049:131077", 0xdeadbeef), "2049:131077", 0xdeadbeef, true},
		{"2049:131077@zz", "2049:131077", 0, false},
		{"", "", 0, false},
	} {
		id, fp, ok := parseID(tt.fileID)
		if id != tt.id || fp != tt.fp || ok != tt.ok {
			t.Errorf("parseID(%q) = %q, %x, %v; want %q, %x, %v", tt.fileID, id, fp, ok, tt.id, tt.fp, tt.ok)
		}
	}
}

// TestHead: the fingerprint covers the first min(offset, printLen) bytes,
// whether they were read in pieces or read back.
func TestHead(t *testing.T) {
	data := make([]byte, 3000)
	for i := range data {
		data[i] = byte('a' + i%26)
	}
	var read head
	read.reset(0)
	for off := 0; off < len(data); off += 700 {
		read.add(int64(off), data[off:min(off+700, len(data))])
	}
	for _, off := range []int64{1, 700, printLen, 2999} {
		var back head
		back.reset(off)
		back.load(bytesReaderAt(data), off)
		want := printOf(data[:min(off, printLen)])
		if fp, ok := read.print(off); !ok || fp != want {
			t.Errorf("read: print(%d) = %x, %v; want %x", off, fp, ok, want)
		}
		if fp, ok := back.print(off); !ok || fp != want {
			t.Errorf("loaded: print(%d) = %x, %v; want %x", off, fp, ok, want)
		}
	}
	var mid head
	mid.reset(100) // reading started at 100, nothing read back
	mid.add(100, data[100:200])
	if _, ok := mid.print(150); ok {
		t.Error("a fingerprint without the file's first bytes")
	}
	if _, ok := read.print(0); ok {
		t.Error("a fingerprint of nothing")
	}
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	return copy(p, b[off:]), nil
}
