package store

import (
	"fmt"

	"github.com/threatlockdown/threatlockdown/engine"
)

// Marks name the entries whose add was decided but may not have been
// applied yet: the marks bucket maps an entry key to the Seq of the marked
// generation (8 bytes, big-endian). A key has at most one mark; Mark
// replaces it, Unmark removes it only for the same Seq, so that a late
// Unmark of an older generation leaves a newer mark alone (the Seq rule of
// Del), and a Del that removes the entry removes its mark too.

func (w *encoded) mark(b *buckets) error {
	for _, r := range w.c.Mark {
		if err := b.marks.Put([]byte(r.Key), itob(r.Seq)); err != nil {
			return fmt.Errorf("mark %q: %w", r.Key, err)
		}
	}
	return nil
}

func (w *encoded) unmark(b *buckets) error {
	for _, r := range w.c.Unmark {
		k := []byte(r.Key)
		v := b.marks.Get(k)
		if v == nil {
			continue
		}
		seq, err := btoi(v)
		if err != nil {
			return fmt.Errorf("bad mark of %q: %w", r.Key, err)
		}
		if seq != r.Seq {
			continue // another generation's mark
		}
		if err := b.marks.Delete(k); err != nil {
			return fmt.Errorf("unmark %q: %w", r.Key, err)
		}
	}
	return nil
}

// loadMarks reads the marks in key order (the bucket's).
func loadMarks(b *buckets, s *engine.State) error {
	return b.marks.ForEach(func(k, v []byte) error {
		seq, err := btoi(v)
		if err != nil {
			return fmt.Errorf("bad mark of %q: %w", k, err)
		}
		s.Marked = append(s.Marked, engine.EntryRef{Key: string(k), Seq: seq})
		return nil
	})
}
