package watch

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/threatlockdown/threatlockdown/engine"
)

// BenchmarkTailer_Read measures reading a 64 MiB alerts.json of 1 KiB lines
// from its start: the hot path, from read(2) to the handler.
func BenchmarkTailer_Read(b *testing.B) {
	path, start := newFile(b)
	line := `{"timestamp":"2026-11-23T10:00:00.000+0000","rule":{"level":10},"pad":"` +
		strings.Repeat("x", 1024-80) + `"}` + "\n"
	content := strings.Repeat(line, 64<<20/len(line))
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
	want := int64(len(content))
	b.SetBytes(want)
	b.ReportAllocs()
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		err := NewTailer(path, engine.FormatJSON, start, nil).Run(ctx, func(r engine.Record) error {
			if r.Pos.Offset == want {
				cancel()
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
