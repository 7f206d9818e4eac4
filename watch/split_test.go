package watch

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/threatlockdown/threatlockdown/engine"
)

// chunkReader returns its input a few bytes per Read, as a file being
// written does.
type chunkReader struct {
	s    string
	size int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.s) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.size)], r.s)
	r.s = r.s[n:]
	return n, nil
}

// splitAll feeds in to a splitter in chunks of size bytes and renders each
// record as "end:data".
func splitAll(t *testing.T, format engine.Format, max int, in string, size int) []string {
	t.Helper()
	s := newSplitter(format, max, slog.New(slog.DiscardHandler))
	r := &chunkReader{s: in, size: size}
	var got []string
	for range len(in) + 1 {
		_, _, err := s.fill(r)
		for {
			rec, end, ok := s.next()
			if !ok {
				break
			}
			got = append(got, fmt.Sprintf("%d:%s", end, rec))
		}
		if err == io.EOF {
			break
		}
	}
	if s.offset() != int64(len(in)) {
		t.Errorf("offset %d, want %d", s.offset(), len(in))
	}
	return got
}

func TestSplitter(t *testing.T) {
	long := strings.Repeat("x", 50)
	block := "** Alert 1.2: - syslog,\nRule: 5712 (level 10)\nSrc IP: 203.0.113.7\n"
	tests := []struct {
		name   string
		format engine.Format
		max    int
		in     string
		want   []string
	}{
		{"json lines", engine.FormatJSON, 100, "{a}\n{b}\n", []string{"4:{a}", "8:{b}"}},
		{"json crlf and empty lines", engine.FormatJSON, 100, "\n{a}\r\n\r\n\n{b}\n", []string{"6:{a}", "13:{b}"}},
		{"json partial line held", engine.FormatJSON, 100, "{a}\n{b", []string{"4:{a}"}},
		{"json over the cap skipped", engine.FormatJSON, 20, "{a}\n" + long + "\n{b}\n" + long + long,
			[]string{"4:{a}", "59:{b}"}},
		{"json line at the cap kept", engine.FormatJSON, 50, long + "\n", []string{"51:" + long}},
		{"text blocks", engine.FormatText, 1000, block + "\n" + block + "\n",
			[]string{"67:" + strings.TrimSuffix(block, "\n"), "134:" + strings.TrimSuffix(block, "\n")}},
		{"text crlf", engine.FormatText, 1000, "** Alert 1:\r\nRule: 1\r\n\r\n",
			[]string{"24:** Alert 1:\nRule: 1"}},
		{"text garbage outside blocks", engine.FormatText, 1000, "junk\n\n** Alert 2:\nx\n\njunk\n",
			[]string{"21:** Alert 2:\nx"}},
		{"text block without end held", engine.FormatText, 1000, "** Alert 3:\nx\n", nil},
		{"text header ends a block", engine.FormatText, 1000, "** Alert 1:\nx\n** Alert 2:\ny\n\n",
			[]string{"14:** Alert 1:\nx", "29:** Alert 2:\ny"}},
		{"text block over the cap skipped", engine.FormatText, 40,
			"** Alert 1:\n" + long + "\nmore\n\n** Alert 2:\ny\n\n", []string{"84:** Alert 2:\ny"}},
		{"text long line in block skipped", engine.FormatText, 40,
			"** Alert 1:\n" + long + long + "\n\n** Alert 2:\ny\n\n", []string{"129:** Alert 2:\ny"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, size := range []int{1, 3, 7, 1 << 20} {
				got := splitAll(t, tt.format, tt.max, tt.in, size)
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("chunks of %d: records (-want +got):\n%s", size, diff)
				}
			}
		})
	}
}

// TestSplitter_Grow checks records longer than the initial buffer.
func TestSplitter_Grow(t *testing.T) {
	big := strings.Repeat("y", 3*initialBuffer+5)
	got := splitAll(t, engine.FormatJSON, DefaultMaxRecord, "{a}\n"+big+"\n{b}\n", 1<<16)
	if len(got) != 3 || got[1] != fmt.Sprintf("%d:%s", 4+len(big)+1, big) || !strings.HasSuffix(got[2], ":{b}") {
		t.Errorf("got %d records", len(got))
	}
}

// countHandler counts log records.
type countHandler struct {
	slog.Handler
	n *int
}

func (h countHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h countHandler) Handle(context.Context, slog.Record) error { *h.n++; return nil }

func TestSplitter_OneLogPerSkip(t *testing.T) {
	for _, format := range []engine.Format{engine.FormatJSON, engine.FormatText} {
		var n int
		s := newSplitter(format, 10, slog.New(countHandler{slog.DiscardHandler, &n}))
		r := &chunkReader{s: "** Alert " + strings.Repeat("z", 1000) + "\n\n", size: 7}
		for {
			if _, _, err := s.fill(r); err != nil {
				break
			}
			if _, _, ok := s.next(); ok {
				t.Error("record over the limit delivered")
			}
		}
		if n != 1 {
			t.Errorf("format %d: %d log lines, want 1", format, n)
		}
	}
}

func TestMark(t *testing.T) {
	var m mark
	content := strings.Repeat("0123456789", 20)
	for i := 0; i < len(content); i += 7 {
		m.add([]byte(content[i:min(i+7, len(content))]))
	}
	r := strings.NewReader(content)
	if !m.matches(r, int64(len(content))) {
		t.Error("unchanged file does not match")
	}
	changed := content[:180] + "X" + content[181:] + "more"
	if m.matches(strings.NewReader(changed), int64(len(content))) {
		t.Error("file changed before the offset matches")
	}
	if !m.matches(strings.NewReader("X"+content[1:]), int64(len(content))) {
		t.Error("a change outside the remembered bytes cannot be seen, yet did not match")
	}
	if m.matches(strings.NewReader(content[:100]), int64(len(content))) {
		t.Error("shorter file matches")
	}
}
