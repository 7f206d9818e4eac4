package engine

// MergeChanges is mergeBatches for the tests of package engine_test, which
// hold it to the real stores.
func MergeChanges(cs []Change) Change {
	bs := make([]*batch, len(cs))
	for i, c := range cs {
		bs[i] = &batch{c: c, records: 1}
	}
	c, _ := mergeBatches(bs)
	return c
}
