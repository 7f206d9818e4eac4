package platform

import (
	"strings"
	"testing"
)

func collect(ch chan string) []string {
	close(ch)
	var out []string
	for s := range ch {
		out = append(out, s)
	}
	return out
}

func TestLineWriter(t *testing.T) {
	ch := make(chan string, 10)
	w := &lineWriter{out: ch}
	for _, p := range []string{"fir", "st\nsec", "ond\r\n\n", strings.Repeat("x", maxLineLen+10) + "\n", "tail"} {
		w.Write([]byte(p))
	}
	w.flush()
	got := collect(ch)
	want := []string{"first", "second", "", strings.Repeat("x", maxLineLen), "tail"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines = %.80q, want %.80q", got, want)
	}
}

func TestLineWriter_DropsWhenFull(t *testing.T) {
	ch := make(chan string, 2)
	w := &lineWriter{out: ch}
	w.Write([]byte("a\nb\nc\nd\n"))
	if got := collect(ch); len(got) != 2 || w.dropped != 2 {
		t.Errorf("lines = %q, dropped %d; want 2 and 2", got, w.dropped)
	}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{max: 5}
	b.Write([]byte("abc"))
	b.Write([]byte("defg"))
	if got := b.String(); got != "cdefg" {
		t.Errorf("tail = %q", got)
	}
}
