package golden

import "testing"

func TestFirstDiff(t *testing.T) {
	for _, c := range []struct{ want, got, diff string }{
		{"a\nb\nc\n", "a\nB\nc\n", "line 2:\n- b\n+ B"},
		{"a\n", "a\nb\n", "line 2:\n- \n+ b"},
		{"a\r\n", "a\n", "line 1:\n- a\r\n+ a"},
	} {
		if d := firstDiff(c.want, c.got); d != c.diff {
			t.Errorf("firstDiff(%q, %q) = %q, want %q", c.want, c.got, d, c.diff)
		}
	}
}
